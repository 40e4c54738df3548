// Package calendar is the business-hours calendars of severity policies: a
// weekly schedule in one time zone, with holidays, that says when an
// incident that waits for business hours may page.
package calendar

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/tz"
)

// Calendar is a weekly schedule of business hours in one time zone, with
// holidays. It is immutable.
type Calendar struct {
	Name       string
	Location   *time.Location
	days       [7]bool       // by time.Weekday
	start, end time.Duration // opening hours, since local midnight
	holidays   map[civilDate]bool
}

// civilDate is a calendar date without a time zone.
type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// maxSearchDays bounds how far NextOpen looks ahead.
const maxSearchDays = 10 * 366

// New builds a calendar. days are mon..sun or ranges like mon-fri; hours is
// "HH:MM-HH:MM" (the end may be 24:00); holidays are YYYY-MM-DD. Zones come
// from the binary (package tz), never from the host.
func New(name, zone string, days []string, hours string, holidays []string) (*Calendar, error) {
	if zone == "" || strings.EqualFold(zone, "local") {
		return nil, errors.New("time_zone must name an IANA zone such as Europe/Berlin")
	}
	loc, err := tz.Load(zone)
	if err != nil {
		return nil, fmt.Errorf("unknown time_zone %q (zones come from the IANA database built into klaxon)", zone)
	}
	c := &Calendar{Name: name, Location: loc, holidays: make(map[civilDate]bool)}
	if len(days) == 0 {
		return nil, errors.New("days must list at least one day, e.g. [mon-fri]")
	}
	for _, d := range days {
		from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(d)), "-")
		if !isRange {
			to = from
		}
		i, j := slices.Index(weekdays, from), slices.Index(weekdays, to)
		if i < 0 || j < 0 {
			return nil, fmt.Errorf("day %q: use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri", d)
		}
		for k := i; ; k = (k + 1) % 7 {
			c.days[k] = true
			if k == j {
				break
			}
		}
	}
	if c.start, c.end, err = parseHours(hours); err != nil {
		return nil, err
	}
	for _, h := range holidays {
		t, err := time.Parse(time.DateOnly, h)
		if err != nil {
			return nil, fmt.Errorf("holiday %q: use YYYY-MM-DD", h)
		}
		c.holidays[dateOf(t)] = true
	}
	return c, nil
}

// parseHours parses "09:00-17:00".
func parseHours(s string) (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		start, err = parseClock(strings.TrimSpace(a))
	}
	if ok && err == nil {
		end, err = parseClock(strings.TrimSpace(b))
	}
	switch {
	case !ok || err != nil:
		return 0, 0, fmt.Errorf("hours %q: use HH:MM-HH:MM, e.g. 09:00-17:00", s)
	case end <= start:
		return 0, 0, fmt.Errorf("hours %q: the end must be after the start (hours cannot span midnight)", s)
	}
	return start, end, nil
}

func parseClock(s string) (time.Duration, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, errors.New("bad clock")
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil {
		return 0, err
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, errors.New("bad clock")
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// Open reports whether t falls within business hours: a listed weekday that
// is not a holiday, between the opening hours on the local wall clock.
func (c *Calendar) Open(t time.Time) bool {
	lt := t.In(c.Location)
	if !c.days[lt.Weekday()] || c.holidays[dateOf(lt)] {
		return false
	}
	h, m, s := lt.Clock()
	tod := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(lt.Nanosecond())
	return tod >= c.start && tod < c.end
}

// NextOpen returns t if the calendar is open at t, else the first later
// instant at which it opens (zero if it does not open within ten years).
func (c *Calendar) NextOpen(t time.Time) time.Time {
	if c.Open(t) {
		return t
	}
	lt := t.In(c.Location)
	y, m, d := lt.Date()
	for i := range maxSearchDays {
		midnight := time.Date(y, m, d+i, 0, 0, 0, 0, c.Location)
		if !c.days[midnight.Weekday()] || c.holidays[dateOf(midnight)] {
			continue
		}
		if best := c.firstOpenOn(midnight, t); !best.IsZero() {
			return best
		}
	}
	return time.Time{}
}

// firstOpenOn finds the first open instant not before t on the local day
// that starts at midnight. The calendar can only open where the wall clock
// reaches the opening time: at that time (once or, when clocks go back,
// twice) or at a daylight-saving jump over it.
func (c *Calendar) firstOpenOn(midnight, t time.Time) time.Time {
	day := dateOf(midnight)
	y, m, d := midnight.Date()
	next := time.Date(y, m, d+1, 0, 0, 0, 0, c.Location)
	h, mi := int(c.start/time.Hour), int(c.start%time.Hour/time.Minute)
	at := time.Date(y, m, d, h, mi, 0, 0, c.Location)
	cands := []time.Time{at.Add(-time.Hour), at, at.Add(time.Hour)}
	for x := midnight; ; {
		_, end := x.ZoneBounds()
		if end.IsZero() || !end.Before(next) || !end.After(x) {
			break
		}
		cands = append(cands, end)
		x = end
	}
	var best time.Time
	for _, x := range cands {
		if x.Before(t) || dateOf(x.In(c.Location)) != day || !c.Open(x) {
			continue
		}
		if best.IsZero() || x.Before(best) {
			best = x
		}
	}
	return best
}
