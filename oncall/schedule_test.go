package oncall

import (
	"fmt"
	"testing"
	"time"
)

// TestOnCallAcrossOffsetChanges pins who is on call around the spring and
// autumn changes: a skipped hand-off happens at the first instant after
// the gap (02:30 → 03:30 summer time), a repeated one at its first
// occurrence; an hourly turn that falls in the gap is skipped, one in the
// repeated hour lasts two hours.
func TestOnCallAcrossOffsetChanges(t *testing.T) {
	tests := []struct {
		name, zone, length, handOff string
		at                          string
		person                      string
		turn                        int
		start, end                  string
	}{
		// Europe/Berlin, spring: 2026-03-29 02:00 CET → 03:00 CEST; 02:30 does not exist.
		{"berlin spring before", "Europe/Berlin", "daily", "2026-03-27T02:30", "2026-03-29T01:29:59Z", "b", 1, "2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z"},
		{"berlin spring skipped hand-off", "Europe/Berlin", "daily", "2026-03-27T02:30", "2026-03-29T01:30:00Z", "c", 2, "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"},
		{"berlin spring next day", "Europe/Berlin", "daily", "2026-03-27T02:30", "2026-03-30T00:30:00Z", "d", 3, "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"},
		// Europe/Berlin, autumn: 2026-10-25 03:00 CEST → 02:00 CET; 02:30 happens twice.
		{"berlin autumn before", "Europe/Berlin", "daily", "2026-10-23T02:30", "2026-10-25T00:29:59Z", "b", 1, "2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z"},
		{"berlin autumn first 02:30", "Europe/Berlin", "daily", "2026-10-23T02:30", "2026-10-25T00:30:00Z", "c", 2, "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
		{"berlin autumn second 02:30", "Europe/Berlin", "daily", "2026-10-23T02:30", "2026-10-25T01:30:00Z", "c", 2, "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
		// America/New_York, spring: 2026-03-08 02:00 EST → 03:00 EDT; 02:30 does not exist.
		{"new york spring skipped hand-off", "America/New_York", "daily", "2026-03-06T02:30", "2026-03-08T07:29:59Z", "b", 1, "2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z"},
		{"new york spring after", "America/New_York", "daily", "2026-03-06T02:30", "2026-03-08T07:30:00Z", "c", 2, "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"},
		// America/New_York, autumn: 2026-11-01 02:00 EDT → 01:00 EST; 01:30 happens twice, 02:30 once.
		{"new york autumn 02:30 once", "America/New_York", "daily", "2026-10-30T02:30", "2026-11-01T07:30:00Z", "c", 2, "2026-11-01T07:30:00Z", "2026-11-02T07:30:00Z"},
		{"new york autumn 02:30 day before", "America/New_York", "daily", "2026-10-30T02:30", "2026-11-01T07:29:59Z", "b", 1, "2026-10-31T06:30:00Z", "2026-11-01T07:30:00Z"},
		{"new york autumn first 01:30", "America/New_York", "daily", "2026-10-30T01:30", "2026-11-01T05:30:00Z", "c", 2, "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		{"new york autumn second 01:30", "America/New_York", "daily", "2026-10-30T01:30", "2026-11-01T06:30:00Z", "c", 2, "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		// Hourly turns: the one in the gap is skipped, the one in the repeated hour lasts two.
		{"berlin hourly before gap", "Europe/Berlin", "hourly", "2026-03-29T00:00", "2026-03-29T00:59:59Z", "b", 1, "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"},
		{"berlin hourly gap turn skipped", "Europe/Berlin", "hourly", "2026-03-29T00:00", "2026-03-29T01:00:00Z", "d", 3, "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"},
		{"berlin hourly repeated hour", "Europe/Berlin", "hourly", "2026-10-25T00:00", "2026-10-25T01:30:00Z", "c", 2, "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"},
		// Weekly and custom turns keep their wall-clock hand-off across the change.
		{"berlin weekly", "Europe/Berlin", "weekly", "2026-03-23T09:00", "2026-03-30T07:00:00Z", "b", 1, "2026-03-30T07:00:00Z", "2026-04-06T07:00:00Z"},
		{"berlin 12h", "Europe/Berlin", "12h", "2026-03-28T08:00", "2026-03-29T05:59:59Z", "b", 1, "2026-03-28T19:00:00Z", "2026-03-29T06:00:00Z"},
		{"new york 3d", "America/New_York", "3d", "2026-03-05T09:00", "2026-03-08T13:00:00Z", "b", 1, "2026-03-08T13:00:00Z", "2026-03-11T13:00:00Z"},
		{"utc wraps around", "UTC", "daily", "2026-01-01T00:00", "2026-01-05T12:00:00Z", "a", 4, "2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := load(t, oneRotation(tt.zone, tt.length, tt.handOff)).Schedules["s"]
			got := s.OnCallAt(at(t, tt.at), nil)
			want := []Shift{{Person: tt.person, Layer: "main", Turn: tt.turn, Start: at(t, tt.start), End: at(t, tt.end)}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("OnCallAt(%s)\n got %v\nwant %v", tt.at, got, want)
			}
		})
	}
}

func TestNobodyBeforeFirstHandOff(t *testing.T) {
	s := load(t, oneRotation("UTC", "daily", "2026-01-01T09:00")).Schedules["s"]
	if got := s.OnCallAt(at(t, "2026-01-01T08:59:59Z"), nil); len(got) != 0 {
		t.Errorf("before the first hand-off: %v, want nobody", got)
	}
	gaps := s.Gaps(at(t, "2026-01-01T00:00:00Z"), at(t, "2026-01-03T00:00:00Z"), nil)
	want := []Interval{{at(t, "2026-01-01T00:00:00Z"), at(t, "2026-01-01T09:00:00Z")}}
	if fmt.Sprint(gaps) != fmt.Sprint(want) {
		t.Errorf("gaps %v, want %v", gaps, want)
	}
}

// layered has a weekly base layer (a, b), a business-hours layer (c) that
// takes precedence on weekdays 09:00-17:00 Berlin time, and a night layer
// (d) that is above the base on Saturday nights but below business hours.
const layered = people + `
schedules:
  s:
    time_zone: Europe/Berlin
    layers:
      - name: base
        precedence: 1
        rotation: {length: weekly, hand_off: "2026-11-30T09:00", participants: [a, b]}
      - name: business
        precedence: 10
        rotation: {length: daily, hand_off: "2026-11-30T00:00", participants: [c]}
        restrictions:
          - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
      - name: night
        precedence: 5
        rotation: {length: daily, hand_off: "2026-11-30T00:00", participants: [d]}
        restrictions:
          - {days: [sat], from: "22:00", to: "06:00"}
`

func TestLayersRestrictionsOverrides(t *testing.T) {
	cover := func(id, who, replaces, from, to string) Override {
		return Override{ID: id, Schedule: "s", Person: who, Replaces: replaces, Start: at(t, from), End: at(t, to)}
	}
	tests := []struct {
		name      string
		at        string
		overrides []Override
		want      string // person and reason, "" for nobody
		from, to  string
	}{
		{"business hours win", "2026-12-01T10:00:00Z", nil, `c layer "business", rotation turn 1`, "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z"},
		{"evening falls to base", "2026-12-01T17:00:00Z", nil, `a layer "base", rotation turn 0`, "2026-12-01T16:00:00Z", "2026-12-02T08:00:00Z"},
		{"restriction start is inclusive", "2026-12-01T08:00:00Z", nil, `c layer "business", rotation turn 1`, "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z"},
		{"weekend base", "2026-12-05T10:00:00Z", nil, `a layer "base", rotation turn 0`, "2026-12-04T16:00:00Z", "2026-12-05T21:00:00Z"},
		{"overnight restriction", "2026-12-05T22:00:00Z", nil, `d layer "night", rotation turn 5`, "2026-12-05T21:00:00Z", "2026-12-05T23:00:00Z"},
		{"overnight restriction after midnight", "2026-12-06T04:00:00Z", nil, `d layer "night", rotation turn 6`, "2026-12-05T23:00:00Z", "2026-12-06T05:00:00Z"},
		{"overnight restriction ends", "2026-12-06T05:00:00Z", nil, `a layer "base", rotation turn 0`, "2026-12-06T05:00:00Z", "2026-12-07T08:00:00Z"},
		{"next week", "2026-12-08T17:00:00Z", nil, `b layer "base", rotation turn 1`, "2026-12-08T16:00:00Z", "2026-12-09T08:00:00Z"},
		{"override replaces the one on call", "2026-12-01T10:00:00Z",
			[]Override{cover("o1", "b", "c", "2026-12-01T09:00:00Z", "2026-12-01T12:00:00Z")},
			`b override "o1" (covers c; layer "business", rotation turn 1)`, "2026-12-01T09:00:00Z", "2026-12-01T12:00:00Z"},
		{"override for someone else does nothing", "2026-12-01T10:00:00Z",
			[]Override{cover("o1", "b", "a", "2026-12-01T09:00:00Z", "2026-12-01T12:00:00Z")},
			`c layer "business", rotation turn 1`, "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z"},
		{"override of another schedule is ignored", "2026-12-01T10:00:00Z",
			[]Override{{ID: "o1", Schedule: "other", Person: "b", Start: at(t, "2026-12-01T00:00:00Z"), End: at(t, "2026-12-02T00:00:00Z")}},
			`c layer "business", rotation turn 1`, "2026-12-01T08:00:00Z", "2026-12-01T16:00:00Z"},
		{"override over everyone spans layers", "2026-12-01T10:00:00Z",
			[]Override{cover("o1", "d", "", "2026-12-01T06:00:00Z", "2026-12-01T20:00:00Z")},
			`d override "o1" (covers the whole schedule)`, "2026-12-01T06:00:00Z", "2026-12-01T20:00:00Z"},
		{"later override wins", "2026-12-01T10:00:00Z",
			[]Override{cover("o1", "d", "", "2026-12-01T06:00:00Z", "2026-12-01T20:00:00Z"), cover("o2", "b", "d", "2026-12-01T09:30:00Z", "2026-12-01T10:30:00Z")},
			`b override "o2" (covers d; layer "", rotation turn -1)`, "2026-12-01T09:30:00Z", "2026-12-01T10:30:00Z"},
		{"override end is exclusive", "2026-12-01T12:00:00Z",
			[]Override{cover("o1", "b", "c", "2026-12-01T09:00:00Z", "2026-12-01T12:00:00Z")},
			`c layer "business", rotation turn 1`, "2026-12-01T12:00:00Z", "2026-12-01T16:00:00Z"},
	}
	s := load(t, layered).Schedules["s"]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.OnCallAt(at(t, tt.at), tt.overrides)
			if len(got) != 1 {
				t.Fatalf("OnCallAt: %v, want one shift", got)
			}
			if desc := got[0].Person + " " + got[0].Reason(); desc != tt.want {
				t.Errorf("got %s, want %s", desc, tt.want)
			}
			if !got[0].Start.Equal(at(t, tt.from)) || !got[0].End.Equal(at(t, tt.to)) {
				t.Errorf("shift %s–%s, want %s–%s", got[0].Start, got[0].End, tt.from, tt.to)
			}
		})
	}
}

// officeOnly is on call on weekdays 09:00-17:00 New York time only.
const officeOnly = people + `
schedules:
  s:
    time_zone: America/New_York
    layers:
      - name: office
        precedence: 1
        rotation: {length: daily, hand_off: "2026-03-02T09:00", participants: [a, b]}
        restrictions:
          - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
`

func TestGaps(t *testing.T) {
	s := load(t, officeOnly).Schedules["s"]
	tests := []struct {
		name      string
		from, to  string
		overrides []Override
		want      []string
	}{
		{"a week across the spring change", "2026-03-06T00:00:00Z", "2026-03-10T00:00:00Z", nil, []string{
			"2026-03-06T00:00:00Z/2026-03-06T14:00:00Z", // Fri before 09:00 EST
			"2026-03-06T22:00:00Z/2026-03-09T13:00:00Z", // the weekend, to Mon 09:00 EDT
			"2026-03-09T21:00:00Z/2026-03-10T00:00:00Z",
		}},
		{"an override fills the weekend", "2026-03-06T00:00:00Z", "2026-03-10T00:00:00Z",
			[]Override{{ID: "w", Schedule: "s", Person: "c", Start: at(t, "2026-03-06T22:00:00Z"), End: at(t, "2026-03-09T13:00:00Z")}},
			[]string{"2026-03-06T00:00:00Z/2026-03-06T14:00:00Z", "2026-03-09T21:00:00Z/2026-03-10T00:00:00Z"}},
		{"no gaps inside office hours", "2026-03-10T14:00:00Z", "2026-03-10T20:00:00Z", nil, nil},
		{"empty range", "2026-03-10T14:00:00Z", "2026-03-10T14:00:00Z", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, g := range s.Gaps(at(t, tt.from), at(t, tt.to), tt.overrides) {
				got = append(got, g.Start.Format(time.RFC3339)+"/"+g.End.Format(time.RFC3339))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("gaps\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestTimelineIsContiguous checks over a year of a layered schedule that
// shifts are ordered, non-empty, non-overlapping, and agree with OnCallAt.
func TestTimelineIsContiguous(t *testing.T) {
	s := load(t, layered).Schedules["s"]
	from, to := at(t, "2026-01-01T00:00:00Z"), at(t, "2027-01-01T00:00:00Z")
	shifts := s.Timeline(from, to, nil)
	for i, sh := range shifts {
		if !sh.Start.Before(sh.End) || (i > 0 && sh.Start.Before(shifts[i-1].End)) {
			t.Fatalf("shift %d %v is empty or overlaps %v", i, sh, shifts[i-1])
		}
	}
	for i := 0; i < len(shifts); i += 97 {
		mid := shifts[i].Start.Add(shifts[i].End.Sub(shifts[i].Start) / 2)
		got := s.OnCallAt(mid, nil)
		if len(got) != 1 || got[0].Person != shifts[i].Person || got[0].Layer != shifts[i].Layer {
			t.Errorf("OnCallAt(%s) = %v, timeline says %v", mid, got, shifts[i])
		}
	}
}
