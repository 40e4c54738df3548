package notify

import (
	"maps"
	"slices"
	"sync"

	"github.com/klaxonhq/klaxon/triage"
)

// Unreported holds the pages a dispatcher delivered but could not journal
// the delivery of before it stopped: its leadership was lost, or the
// on-call files changed its receivers, while the report was being stored.
// Whoever builds dispatchers one after another (the pager, across
// leadership terms and reloads) hands each the same Unreported, and the
// next one stores those reports instead of paging the people again. The
// zero value is ready; a nil *Unreported keeps nothing.
type Unreported struct {
	mu   sync.Mutex
	dels map[string]triage.Delivery // by intent ID
}

// keep records a successful delivery whose report was not stored; a
// failed attempt is not kept, as sending it again is what it needs.
func (u *Unreported) keep(del triage.Delivery) {
	if u == nil || !del.OK {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.dels == nil {
		u.dels = make(map[string]triage.Delivery)
	}
	if old, ok := u.dels[del.Intent]; !ok || old.Attempt < del.Attempt {
		u.dels[del.Intent] = del
	}
}

// take removes and returns every delivery kept, by intent ID.
func (u *Unreported) take() []triage.Delivery {
	if u == nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	dels := make([]triage.Delivery, 0, len(u.dels))
	for _, id := range slices.Sorted(maps.Keys(u.dels)) {
		dels = append(dels, u.dels[id])
	}
	clear(u.dels)
	return dels
}

// Len is how many deliveries wait to be reported, for tests and diagnostics.
func (u *Unreported) Len() int {
	if u == nil {
		return 0
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.dels)
}
