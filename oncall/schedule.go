package oncall

import (
	"fmt"
	"slices"
	"time"
)

// Shift is a stretch of time during which one person is on call in a
// schedule, with the reason: the layer and rotation turn that put them
// there, or the override that did.
type Shift struct {
	Person   string
	Start    time.Time // inclusive
	End      time.Time // exclusive
	Layer    string    // the layer whose rotation chose them; "" when an override covers everyone
	Turn     int       // that rotation's turn, 0 for the first hand-off; -1 without a layer
	Override string    // the id of the override that put them on call, if any
	Replaces string    // whom that override covers ("" for everyone)
}

// Reason says in words why the shift's person is on call.
func (s Shift) Reason() string {
	layer := fmt.Sprintf("layer %q, rotation turn %d", s.Layer, s.Turn)
	switch {
	case s.Override == "":
		return layer
	case s.Replaces == "":
		return fmt.Sprintf("override %q (covers the whole schedule)", s.Override)
	}
	return fmt.Sprintf("override %q (covers %s; %s)", s.Override, s.Replaces, layer)
}

// Interval is a stretch of time from Start (inclusive) to End (exclusive).
type Interval struct {
	Start, End time.Time
}

// OnCallAt returns who is on call in the schedule at t and why, as the one
// shift containing t, or nothing when nobody is. Overrides for other
// schedules are ignored; later overrides win over earlier ones.
func (s *Schedule) OnCallAt(t time.Time, overrides []Override) []Shift {
	t = t.UTC()
	lo, hi := t.Add(-s.longestTurn()), t.Add(s.longestTurn())
	for _, o := range overrides {
		if o.Schedule == s.ID && !o.Start.After(t) && o.End.After(t) {
			lo, hi = minTime(lo, o.Start.UTC()), maxTime(hi, o.End.UTC())
		}
	}
	for _, sh := range s.Timeline(lo, hi.Add(time.Second), overrides) {
		if !sh.Start.After(t) && sh.End.After(t) {
			return []Shift{sh}
		}
	}
	return nil
}

// Gaps returns the intervals within [from, to) during which nobody is on
// call in the schedule.
func (s *Schedule) Gaps(from, to time.Time, overrides []Override) []Interval {
	from, to = from.UTC(), to.UTC()
	var gaps []Interval
	at := from
	for _, sh := range s.Timeline(from, to, overrides) {
		if sh.Start.After(at) {
			gaps = append(gaps, Interval{at, sh.Start})
		}
		at = sh.End
	}
	if at.Before(to) {
		gaps = append(gaps, Interval{at, to})
	}
	return gaps
}

// Timeline returns who is on call in the schedule over [from, to), as
// shifts in time order, clipped to the range. At each instant the layer
// with the highest precedence that has someone on call wins; then the
// schedule's overrides apply in order, each replacing its Replaces (or
// anyone, when empty) with its Person.
func (s *Schedule) Timeline(from, to time.Time, overrides []Override) []Shift {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil
	}
	layers := make([][]Shift, len(s.Layers))
	cuts := []time.Time{from, to}
	for i, l := range s.Layers {
		layers[i] = l.turns(from, to)
		for _, p := range layers[i] {
			cuts = append(cuts, p.Start, p.End)
		}
	}
	var ovs []Override
	for _, o := range overrides {
		if o.Schedule == s.ID && o.Start.Before(to) && o.End.After(from) && o.Start.Before(o.End) {
			ovs = append(ovs, o)
			cuts = append(cuts, maxTime(from, o.Start.UTC()), minTime(to, o.End.UTC()))
		}
	}
	slices.SortFunc(cuts, time.Time.Compare)
	cuts = slices.CompactFunc(cuts, time.Time.Equal)
	var out []Shift
	for i := 0; i+1 < len(cuts); i++ {
		sh, ok := pick(layers, ovs, cuts[i])
		if !ok {
			continue
		}
		sh.Start, sh.End = cuts[i], cuts[i+1]
		if n := len(out); n > 0 && sameReason(out[n-1], sh) && out[n-1].End.Equal(sh.Start) {
			out[n-1].End = sh.End
			continue
		}
		out = append(out, sh)
	}
	return out
}

// pick decides who is on call at t from the layers' turns (highest
// precedence first) and the overrides.
func pick(layers [][]Shift, ovs []Override, t time.Time) (Shift, bool) {
	sh, found := Shift{Turn: -1}, false
	for _, turns := range layers {
		i, hit := slices.BinarySearchFunc(turns, t, func(p Shift, t time.Time) int {
			switch {
			case !p.End.After(t):
				return -1
			case p.Start.After(t):
				return 1
			}
			return 0
		})
		if hit {
			sh, found = turns[i], true
			break
		}
	}
	for _, o := range ovs {
		if o.Start.After(t) || !o.End.After(t) {
			continue
		}
		switch {
		case o.Replaces == "":
			sh, found = Shift{Person: o.Person, Turn: -1, Override: o.ID}, true
		case found && sh.Person == o.Replaces:
			sh.Person, sh.Override, sh.Replaces = o.Person, o.ID, o.Replaces
		}
	}
	return sh, found
}

func sameReason(a, b Shift) bool {
	a.Start, a.End, b.Start, b.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

// longestTurn bounds how long one shift of the schedule can last without
// an override: the longest rotation turn, plus an hour for a change of
// offset, plus a margin.
func (s *Schedule) longestTurn() time.Duration {
	var d time.Duration
	for _, l := range s.Layers {
		d = max(d, time.Duration(l.Length)*time.Second)
	}
	return d + 3*time.Hour
}

// handOff is the instant of the layer's k-th hand-off.
func (l *Layer) handOff(k int64) time.Time {
	return resolve(l.HandOff+civil(k)*l.Length, l.Zone)
}

// turns returns the layer's on-call pieces over [from, to): each rotation
// turn, intersected with the restriction windows, clipped to the range.
// Before the first hand-off the layer has nobody on call.
func (l *Layer) turns(from, to time.Time) []Shift {
	k := max(0, int64((civilOf(from, l.Zone)-l.HandOff)/l.Length))
	for k > 0 && l.handOff(k).After(from) {
		k--
	}
	for !l.handOff(k + 1).After(from) {
		k++
	}
	var out []Shift
	for ; l.handOff(k).Before(to); k++ {
		start, end := maxTime(l.handOff(k), from), minTime(l.handOff(k+1), to)
		if !start.Before(end) {
			continue
		}
		sh := Shift{Person: l.Participants[k%int64(len(l.Participants))], Layer: l.Name, Turn: int(k)}
		for _, w := range l.windows(start, end) {
			sh.Start, sh.End = w.Start, w.End
			out = append(out, sh)
		}
	}
	return out
}

// windows returns the parts of [from, to) inside the layer's restrictions,
// in order; the whole range when it has none.
func (l *Layer) windows(from, to time.Time) []Interval {
	if len(l.Restrictions) == 0 {
		return []Interval{{from, to}}
	}
	var ws []Interval
	last := civilOf(to, l.Zone).day()
	for d := civilOf(from, l.Zone).day() - 86400; d <= last; d += 86400 {
		for _, r := range l.Restrictions {
			if !r.Days[d.utc().Weekday()] {
				continue
			}
			end := d + civil(r.To*60)
			if r.To <= r.From {
				end += 86400
			}
			s, e := maxTime(resolve(d+civil(r.From*60), l.Zone), from), minTime(resolve(end, l.Zone), to)
			if s.Before(e) {
				ws = append(ws, Interval{s, e})
			}
		}
	}
	slices.SortFunc(ws, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	var merged []Interval
	for _, w := range ws {
		if n := len(merged); n > 0 && !w.Start.After(merged[n-1].End) {
			merged[n-1].End = maxTime(merged[n-1].End, w.End)
			continue
		}
		merged = append(merged, w)
	}
	return merged
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
