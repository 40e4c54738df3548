package triage

import (
	"container/heap"
	"time"
)

// timerKind says what a timer does when it comes due.
type timerKind uint8

const (
	timerAlertExpiry timerKind = iota // an alert's endsAt passes: it resolves (kept in expiryHeap, first at a tie)
	timerQuietEnd                     // an incident's quiet period ends: it resolves
	timerRecheck                      // the rules want another look at an incident
	timerEvict                        // a resolved incident leaves the live state for the archive
	timerEscalate                     // an incident's next escalation step is due
	timerPoolExpiry                   // a pool of reports took none for the rules' longest window
	timerReportText                   // a report's body is kept no longer
	timerHeartbeat                    // a heartbeat's next beat was due
)

type timerID struct {
	kind timerKind
	id   string // alert ID or incident key
}

type timer struct {
	timerID
	at    time.Time
	index int
}

// timerHeap is an indexed min-heap of timers by (time, kind, id), so that at
// most one timer exists per (kind, id) and ties pop in a fixed order.
type timerHeap struct {
	items []*timer
	byID  map[timerID]*timer
}

func (h *timerHeap) init() { h.items, h.byID = nil, make(map[timerID]*timer) }

// set schedules (or moves) the timer id to at; a zero at cancels it.
func (h *timerHeap) set(kind timerKind, id string, at time.Time) {
	key := timerID{kind, id}
	t, ok := h.byID[key]
	switch {
	case at.IsZero() && ok:
		heap.Remove((*timerSlice)(h), t.index)
		delete(h.byID, key)
	case at.IsZero():
	case ok:
		t.at = at
		heap.Fix((*timerSlice)(h), t.index)
	default:
		t = &timer{timerID: key, at: at}
		h.byID[key] = t
		heap.Push((*timerSlice)(h), t)
	}
}

func (h *timerHeap) peek() (time.Time, bool) {
	if len(h.items) == 0 {
		return time.Time{}, false
	}
	return h.items[0].at, true
}

// popDue removes and returns the earliest timer due at or before now.
func (h *timerHeap) popDue(now time.Time) (*timer, bool) {
	if len(h.items) == 0 || h.items[0].at.After(now) {
		return nil, false
	}
	t := heap.Pop((*timerSlice)(h)).(*timer)
	delete(h.byID, t.timerID)
	return t, true
}

type timerSlice timerHeap

func (s *timerSlice) Len() int { return len(s.items) }
func (s *timerSlice) Less(i, j int) bool {
	a, b := s.items[i], s.items[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return a.id < b.id
}
func (s *timerSlice) Swap(i, j int) {
	s.items[i], s.items[j] = s.items[j], s.items[i]
	s.items[i].index, s.items[j].index = i, j
}
func (s *timerSlice) Push(x any) {
	t := x.(*timer)
	t.index = len(s.items)
	s.items = append(s.items, t)
}
func (s *timerSlice) Pop() any {
	n := len(s.items)
	t := s.items[n-1]
	s.items[n-1] = nil
	s.items = s.items[:n-1]
	return t
}

// expiryHeap orders the alerts that expire (firing, with an endsAt) by
// (endsAt, ID). It is the alert-expiry timers kept on the alerts
// themselves: an alert holds only its place here, and its Signal.EndsAt is
// its expiry, so that the alerts /api/v2/alerts gives an endsAt cost one
// pointer each rather than a timer object and an index entry. An alert's
// Signal may change only just before set is called for it. Expiries fire
// before other timers due at the same instant, as their timer kind is the
// first.
type expiryHeap struct{ items []*Alert }

// set schedules (or moves) a's expiry to at, which is a.Signal.EndsAt or
// zero; a zero at cancels it.
func (h *expiryHeap) set(a *Alert, at time.Time) {
	switch {
	case at.IsZero() && a.expiryPos > 0:
		heap.Remove(h, int(a.expiryPos-1))
	case at.IsZero():
	case a.expiryPos > 0:
		heap.Fix(h, int(a.expiryPos-1))
	default:
		heap.Push(h, a)
	}
}

func (h *expiryHeap) peek() (time.Time, bool) {
	if len(h.items) == 0 {
		return time.Time{}, false
	}
	return h.items[0].Signal.EndsAt, true
}

// first reports whether the earliest expiry comes before the timer t (or
// there is no such timer): at the same instant, it does.
func (h *expiryHeap) first(t *timer) bool {
	if len(h.items) == 0 {
		return false
	}
	return t == nil || !h.items[0].Signal.EndsAt.After(t.at)
}

// pop removes and returns the alert that expires first.
func (h *expiryHeap) pop() *Alert { return heap.Pop(h).(*Alert) }

// Len is for container/heap.
func (h *expiryHeap) Len() int { return len(h.items) }

// Less orders by endsAt, then by ID (kind, then fingerprint: no kind's
// name is a prefix of another's, so this is the order of the IDs).
func (h *expiryHeap) Less(i, j int) bool {
	a, b := &h.items[i].Signal, &h.items[j].Signal
	if !a.EndsAt.Equal(b.EndsAt) {
		return a.EndsAt.Before(b.EndsAt)
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Fingerprint < b.Fingerprint
}

// Swap is for container/heap.
func (h *expiryHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].expiryPos, h.items[j].expiryPos = int32(i+1), int32(j+1)
}

// Push is for container/heap; use set.
func (h *expiryHeap) Push(x any) {
	a := x.(*Alert)
	h.items = append(h.items, a)
	a.expiryPos = int32(len(h.items))
}

// Pop is for container/heap; use pop.
func (h *expiryHeap) Pop() any {
	n := len(h.items)
	a := h.items[n-1]
	h.items[n-1] = nil
	h.items = h.items[:n-1]
	a.expiryPos = 0
	return a
}
