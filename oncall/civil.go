package oncall

import "time"

// civil is a wall-clock date and time with no zone, counted in seconds as if
// it were UTC: adding 86400 is "the same time tomorrow" on any calendar day.
type civil int64

// civilOf is the wall-clock reading of t in loc.
func civilOf(t time.Time, loc *time.Location) civil {
	_, off := t.In(loc).Zone()
	return civil(t.Unix() + int64(off))
}

// civilDate builds a wall-clock reading from its fields.
func civilDate(y int, m time.Month, d, hh, mm int) civil {
	return civil(time.Date(y, m, d, hh, mm, 0, 0, time.UTC).Unix())
}

// utc returns the wall-clock reading as a UTC time, to read its fields.
func (c civil) utc() time.Time { return time.Unix(int64(c), 0).UTC() }

// day returns the midnight that starts c's calendar day.
func (c civil) day() civil {
	d := int64(c) % 86400
	if d < 0 {
		d += 86400
	}
	return c - civil(d)
}

// resolve turns a wall-clock reading in loc into an instant. The two
// readings a change of offset makes special get a defined answer:
//
//   - a skipped reading (clocks spring forward over it, such as 02:30 on the
//     last Sunday of March in Europe/Berlin) moves forward by the length of
//     the gap: 02:30 becomes 03:30 summer time, the instant that 02:30 winter
//     time would have been;
//   - a repeated reading (clocks fall back over it) is its first
//     occurrence: 02:30 on the last Sunday of October in Europe/Berlin is
//     02:30 summer time (00:30 UTC), not 02:30 winter time.
//
// It reads offsets only through loc, so it is as pure as loc's rules.
func resolve(c civil, loc *time.Location) time.Time {
	before := offsetAt(int64(c)-2*86400, loc)
	after := offsetAt(int64(c)+2*86400, loc)
	var first int64
	found := false
	for _, off := range []int64{before, after} {
		u := int64(c) - off
		if offsetAt(u, loc) != off {
			continue
		}
		if !found || u < first {
			first, found = u, true
		}
	}
	if !found {
		first = int64(c) - before
	}
	return time.Unix(first, 0).UTC()
}

// offsetAt is loc's offset from UTC, in seconds, at the unix instant u.
func offsetAt(u int64, loc *time.Location) int64 {
	_, off := time.Unix(u, 0).In(loc).Zone()
	return int64(off)
}
