package calendar

import (
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustCalendar(t *testing.T, tz string, days []string, hours string, holidays ...string) *Calendar {
	t.Helper()
	c, err := New("test", tz, days, hours, holidays)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCalendar checks Open and NextOpen, across daylight-saving changes in
// Europe/Berlin (2026-03-29, 2026-10-25) and America/New_York (2026-03-08,
// 2026-11-01). Times are UTC.
func TestCalendar(t *testing.T) {
	weekdays := []string{"mon", "tue", "wed", "thu", "fri"}
	office := mustCalendar(t, "Europe/Berlin", weekdays, "09:00-17:00", "2026-04-03", "2026-04-06")
	everyDay := []string{"mon-sun"}
	cases := []struct {
		name string
		cal  *Calendar
		at   string
		open bool
		next string
	}{
		{"berlin winter monday open", office, "2026-03-23T08:00:00Z", true, "2026-03-23T08:00:00Z"},
		{"berlin winter monday before nine", office, "2026-03-23T07:59:59Z", false, "2026-03-23T08:00:00Z"},
		{"berlin winter closing time", office, "2026-03-23T16:00:00Z", false, "2026-03-24T08:00:00Z"},
		{"berlin friday evening before spring forward", office, "2026-03-27T16:30:00Z", false, "2026-03-30T07:00:00Z"},
		{"berlin summer monday nine", office, "2026-03-30T07:00:00Z", true, "2026-03-30T07:00:00Z"},
		{"berlin summer monday 08:59", office, "2026-03-30T06:59:00Z", false, "2026-03-30T07:00:00Z"},
		{"berlin summer 16:59", office, "2026-03-30T14:59:00Z", true, "2026-03-30T14:59:00Z"},
		{"berlin summer 17:00", office, "2026-03-30T15:00:00Z", false, "2026-03-31T07:00:00Z"},
		{"berlin easter holidays", office, "2026-04-02T16:00:00Z", false, "2026-04-07T07:00:00Z"},
		{"berlin good friday noon", office, "2026-04-03T10:00:00Z", false, "2026-04-07T07:00:00Z"},
		{"berlin friday evening before fall back", office, "2026-10-23T16:00:00Z", false, "2026-10-26T08:00:00Z"},
		{"berlin sunday of fall back", office, "2026-10-25T12:00:00Z", false, "2026-10-26T08:00:00Z"},

		// 02:15-02:45 does not exist in Berlin on 2026-03-29.
		{"berlin night window skipped", mustCalendar(t, "Europe/Berlin", everyDay, "02:15-02:45"), "2026-03-29T00:00:00Z", false, "2026-03-30T00:15:00Z"},
		// 02:00-02:30 happens twice in Berlin on 2026-10-25.
		{"berlin night window first pass", mustCalendar(t, "Europe/Berlin", everyDay, "02:00-02:30"), "2026-10-24T23:00:00Z", false, "2026-10-25T00:00:00Z"},
		{"berlin night window between passes", mustCalendar(t, "Europe/Berlin", everyDay, "02:00-02:30"), "2026-10-25T00:45:00Z", false, "2026-10-25T01:00:00Z"},
		{"berlin night window second pass", mustCalendar(t, "Europe/Berlin", everyDay, "02:00-02:30"), "2026-10-25T01:10:00Z", true, "2026-10-25T01:10:00Z"},

		{"new york office before spring forward", mustCalendar(t, "America/New_York", weekdays, "09:00-17:00"), "2026-03-06T22:30:00Z", false, "2026-03-09T13:00:00Z"},
		{"new york office winter", mustCalendar(t, "America/New_York", weekdays, "09:00-17:00"), "2026-03-05T22:30:00Z", false, "2026-03-06T14:00:00Z"},
		{"new york office before fall back", mustCalendar(t, "America/New_York", weekdays, "09:00-17:00"), "2026-10-30T21:30:00Z", false, "2026-11-02T14:00:00Z"},
		// 02:30 does not exist in New York on 2026-03-08: the window opens
		// when clocks jump to 03:00 EDT.
		{"new york window opens at the jump", mustCalendar(t, "America/New_York", everyDay, "02:30-04:00"), "2026-03-08T05:00:00Z", false, "2026-03-08T07:00:00Z"},
		{"new york window cut short", mustCalendar(t, "America/New_York", everyDay, "01:00-03:00"), "2026-03-08T07:00:00Z", false, "2026-03-09T05:00:00Z"},
		{"new york window before the jump", mustCalendar(t, "America/New_York", everyDay, "01:00-03:00"), "2026-03-08T06:59:00Z", true, "2026-03-08T06:59:00Z"},
		// 01:00-01:30 happens twice in New York on 2026-11-01.
		{"new york repeated hour first", mustCalendar(t, "America/New_York", everyDay, "01:00-01:30"), "2026-11-01T04:00:00Z", false, "2026-11-01T05:00:00Z"},
		{"new york repeated hour second", mustCalendar(t, "America/New_York", everyDay, "01:00-01:30"), "2026-11-01T05:45:00Z", false, "2026-11-01T06:00:00Z"},

		{"wrapping day range", mustCalendar(t, "UTC", []string{"sat-mon"}, "00:00-24:00"), "2026-03-11T12:00:00Z", false, "2026-03-14T00:00:00Z"},
		{"all day", mustCalendar(t, "UTC", []string{"sat-mon"}, "00:00-24:00"), "2026-03-15T23:59:59Z", true, "2026-03-15T23:59:59Z"},
	}
	for _, c := range cases {
		at := utc(c.at)
		if got := c.cal.Open(at); got != c.open {
			t.Errorf("%s: Open(%s) = %v, want %v", c.name, c.at, got, c.open)
		}
		next := c.cal.NextOpen(at)
		if want := utc(c.next); !next.Equal(want) {
			t.Errorf("%s: NextOpen(%s) = %s, want %s", c.name, c.at, next.UTC().Format(time.RFC3339), c.next)
		}
		if !c.cal.Open(next) {
			t.Errorf("%s: closed at NextOpen %s", c.name, next.UTC().Format(time.RFC3339))
		}
	}
}

func TestCalendarNeverOpen(t *testing.T) {
	// Every Monday for years is a holiday: still no endless loop.
	var hol []string
	for d := utc("2026-01-05T00:00:00Z"); d.Year() < 2040; d = d.AddDate(0, 0, 7) {
		hol = append(hol, d.Format(time.DateOnly))
	}
	c := mustCalendar(t, "UTC", []string{"mon"}, "09:00-10:00", hol...)
	if got := c.NextOpen(utc("2026-01-01T00:00:00Z")); !got.IsZero() {
		t.Errorf("NextOpen = %v, want zero", got)
	}
}

func TestParseHours(t *testing.T) {
	for _, s := range []string{"", "9-17", "09:00", "17:00-09:00", "09:00-09:00", "24:30-25:00", "09:60-10:00", "aa:bb-cc:dd", "09:00-24:01"} {
		if _, _, err := parseHours(s); err == nil {
			t.Errorf("parseHours(%q) accepted", s)
		}
	}
	start, end, err := parseHours(" 08:30 - 24:00 ")
	if err != nil || start != 8*time.Hour+30*time.Minute || end != 24*time.Hour {
		t.Errorf("parseHours = %v %v %v", start, end, err)
	}
}
