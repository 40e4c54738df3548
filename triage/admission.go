package triage

import (
	"github.com/klaxonhq/klaxon/signal"
)

// held counts the alerts the state holds, in total and by the source of
// their latest signal. Apply keeps it up to date as alerts are added and
// forgotten, so that admission control never scans the state.
type held struct {
	total    int
	bySource map[signal.Source]int
}

// hold counts sig into the alert a records: a new alert when a is nil, or
// one whose latest signal may come from another source than before.
func (h *held) hold(a *Alert, sig *signal.Signal) {
	if h.bySource == nil {
		h.bySource = make(map[signal.Source]int)
	}
	if a == nil {
		h.total++
		h.bySource[sig.Source]++
		return
	}
	if a.Signal.Source != sig.Source {
		h.release(a)
		h.hold(nil, sig)
	}
}

// release uncounts an alert the state forgets.
func (h *held) release(a *Alert) {
	h.total--
	if h.bySource[a.Signal.Source]--; h.bySource[a.Signal.Source] == 0 {
		delete(h.bySource, a.Signal.Source)
	}
}

// recount counts alerts afresh, after a restore replaced them all.
func (h *held) recount(alerts map[string]*Alert) {
	*h = held{}
	for _, a := range alerts {
		h.hold(nil, &a.Signal)
	}
}

// Held is how many alerts the state holds (firing, or resolved but not yet
// pruned), in total and by the source of each alert's latest signal.
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
		if s.alerts[string(id)] != nil || added[string(id)] {
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
