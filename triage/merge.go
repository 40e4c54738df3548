package triage

import (
	"fmt"
	"slices"
	"strings"
)

// merge moves every signal of the open incident act.From into the open
// incident into, with its grouping keys, services and tallies, and
// resolves act.From as merged: what a responder does when correlation kept
// apart what belongs together.
func (s *State) merge(c *change, into *Incident, act *Action) error {
	from := s.incidents[act.From]
	switch {
	case from == nil:
		return fmt.Errorf("%w: %q", ErrNotFound, act.From)
	case from == into:
		return fmt.Errorf("%w: an incident cannot be merged into itself", ErrInvalid)
	case !from.open() || !into.open():
		return fmt.Errorf("%w: only open incidents merge", ErrConflict)
	}
	ids := slices.Clone(from.Alerts)
	s.transfer(from, into, ids)
	for _, k := range from.GroupKeys {
		if !slices.Contains(into.GroupKeys, k) {
			into.GroupKeys = append(into.GroupKeys, k)
		}
	}
	for _, name := range from.Services {
		if !into.hasService(name) {
			into.Services = append(into.Services, name)
		}
	}
	into.StartedAt = minTime(into.StartedAt, from.StartedAt)
	c.event(into, Event{At: s.now, Seq: c.seq, Kind: EventCorrelated, By: act.By,
		Message: fmt.Sprintf("%s merged in by %s: %d signals%s", from.Key, act.By, len(ids), note(act.Note))})
	s.resolve(c, from, s.now, act.By, fmt.Sprintf("merged into %s by %s%s", into.Key, act.By, note(act.Note)))
	for _, k := range into.GroupKeys {
		s.openByKey[k] = into
	}
	for _, name := range into.Services {
		if cur := s.openBySvc[name]; cur == nil || !cur.open() || cur.Number < into.Number {
			s.openBySvc[name] = into
		}
	}
	c.touch(into)
	return nil
}

// moveSignals moves the signals act.Signals from the open incident from to
// the open incident act.To, with their counts: a responder's correction.
func (s *State) moveSignals(c *change, from *Incident, act *Action) error {
	to := s.incidents[act.To]
	switch {
	case to == nil:
		return fmt.Errorf("%w: %q", ErrNotFound, act.To)
	case to == from:
		return fmt.Errorf("%w: the signals are in %s already", ErrInvalid, to.Key)
	case !from.open() || !to.open():
		return fmt.Errorf("%w: signals move only between open incidents", ErrConflict)
	case len(act.Signals) == 0:
		return fmt.Errorf("%w: no signals to move", ErrInvalid)
	}
	for _, id := range act.Signals {
		if a := s.alerts[id]; a == nil || a.Incident != from.Key {
			return fmt.Errorf("%w: signal %q is not in %s", ErrInvalid, id, from.Key)
		}
	}
	s.transfer(from, to, act.Signals)
	msg := fmt.Sprintf("%d signals moved by %s%s", len(act.Signals), act.By, note(act.Note))
	c.event(from, Event{At: s.now, Seq: c.seq, Kind: EventCorrelated, By: act.By, Message: msg + " to " + to.Key + ": " + strings.Join(act.Signals, ", ")})
	c.event(to, Event{At: s.now, Seq: c.seq, Kind: EventCorrelated, By: act.By, Message: msg + " from " + from.Key + ": " + strings.Join(act.Signals, ", ")})
	c.touch(from)
	c.touch(to)
	return nil
}

// transfer moves the records ids from one incident to another, with their
// place in the firing statistics and in the tallies (each at the second it
// joined), and recounts both incidents' customers.
func (s *State) transfer(from, to *Incident, ids []string) {
	keep := s.keepCounts()
	for _, id := range ids {
		a := s.alerts[id]
		if a == nil || a.Incident != from.Key {
			continue
		}
		if a.Firing {
			from.addAlert(a, -1)
			to.addAlert(a, 1)
		}
		at := a.Joined.Time()
		if at.IsZero() {
			at = a.FirstSeen.Time()
		}
		for _, d := range tallied(&a.Signal) {
			from.count(d.counter, -d.n, at, keep)
			to.count(d.counter, d.n, at, keep)
		}
		a.Incident = to.Key
		from.Alerts = slices.DeleteFunc(from.Alerts, func(x string) bool { return x == id })
		to.Alerts = append(to.Alerts, id)
	}
	for _, inc := range []*Incident{from, to} {
		inc.Customers = nil
		for _, id := range inc.Alerts {
			if a := s.alerts[id]; a != nil && a.Incident == inc.Key {
				inc.customer(a.Signal.Customer())
			}
		}
	}
}

// note renders a human's note after a timeline message.
func note(n string) string {
	if n == "" {
		return ""
	}
	return ": " + n
}
