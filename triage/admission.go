package triage

import (
	"github.com/klaxonhq/klaxon/signal"
)

// held counts the firing alerts the state holds, in total and by the
// source of their latest signal. Apply keeps it up to date as alerts start
// and stop firing, so that admission control never scans the state. Only
// firing alerts count: resolved ones leave with their incident, and a storm
// that is over must not keep new alerts out.
type held struct {
	total    int
	bySource map[signal.Source]int
}

// add counts d more firing alerts from src.
func (h *held) add(src signal.Source, d int) {
	if h.bySource == nil {
		h.bySource = make(map[signal.Source]int)
	}
	h.total += d
	if h.bySource[src] += d; h.bySource[src] == 0 {
		delete(h.bySource, src)
	}
}

// move recounts a firing alert whose latest signal came from another source.
func (h *held) move(from, to signal.Source) {
	h.add(from, -1)
	h.add(to, 1)
}

// setAlertFiring sets whether a fires, keeping the admission counts.
func (s *State) setAlertFiring(a *Alert, firing bool) {
	switch {
	case firing && !a.Firing:
		s.held.add(a.Signal.Source, 1)
	case !firing && a.Firing:
		s.held.add(a.Signal.Source, -1)
	}
	a.Firing = firing
}

// Held is how many firing alerts the state holds, in total and by the
// source of each alert's latest signal.
type Held struct {
	Total    int
	BySource map[signal.Source]int
}

// Held returns how many alerts the state holds now.
func (s *State) Held() Held {
	s.mu.RLock()
	defer s.mu.RUnlock()
	by := make(map[signal.Source]int, len(s.held.bySource))
	for src, n := range s.held.bySource {
		by[src] = n
	}
	return Held{Total: s.held.total, BySource: by}
}

// Admission is what applying a batch of signals now would do to the number
// of alerts the state holds.
type Admission struct {
	// Added is how many alerts the batch would add: firing signals of
	// identities the state does not hold, each identity counted once.
	Added int
	// After is how many alerts the state would hold then: in total, and
	// for each source the batch adds alerts from.
	After Held
}

// Admission counts, without changing anything, the alerts sigs would add
// to the state. It looks up each signal once and never scans the state.
// A signal counted here may not add an alert by the time its entry is
// applied (its endsAt passed meanwhile); the count errs on the high side.
func (s *State) Admission(sigs []signal.Signal) Admission {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var adm Admission
	var added map[string]bool // identities new to the state, seen earlier in sigs
	var id []byte             // sig.ID(), built without allocating
	for i := range sigs {
		sig := &sigs[i]
		if sig.Status != signal.StatusFiring || (!sig.EndsAt.IsZero() && !sig.EndsAt.After(s.now)) {
			continue
		}
		id = append(append(append(id[:0], sig.Kind...), '/'), sig.Fingerprint...)
		if a := s.alerts[string(id)]; a != nil && a.Firing || added[string(id)] {
			continue
		}
		if added == nil {
			added = make(map[string]bool, len(sigs)-i)
			adm.After.BySource = make(map[signal.Source]int)
		}
		added[string(id)] = true
		adm.Added++
		adm.After.BySource[sig.Source]++
	}
	adm.After.Total = s.held.total + adm.Added
	for src := range adm.After.BySource {
		adm.After.BySource[src] += s.held.bySource[src]
	}
	return adm
}
