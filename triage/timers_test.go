package triage

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// The expiry heap pops alerts by (expiry, ID) whatever order they were set,
// moved and cancelled in, and keeps no cancelled alert.
func TestExpiryHeapOrder(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for round := range 50 {
		var h expiryHeap
		want := map[*Alert]time.Time{}
		alerts := make([]*Alert, 40)
		for i := range alerts {
			alerts[i] = &Alert{Signal: signal.Signal{Kind: signal.KindAlert, Fingerprint: fmt.Sprintf("%02d", i)}}
		}
		for range 200 {
			a := alerts[r.Intn(len(alerts))]
			at := time.Time{}
			if r.Intn(4) > 0 {
				at = t0.Add(time.Duration(r.Intn(10)) * time.Second) // ties are common
			}
			if !at.IsZero() {
				a.Signal.EndsAt = at // as applySignal does before it sets the expiry
			}
			h.set(a, at)
			if at.IsZero() {
				delete(want, a)
			} else {
				want[a] = at
			}
		}
		var order []*Alert
		for a := range want {
			order = append(order, a)
		}
		slices.SortFunc(order, func(x, y *Alert) int {
			if c := want[x].Compare(want[y]); c != 0 {
				return c
			}
			return strings.Compare(x.Signal.ID(), y.Signal.ID())
		})
		for i, w := range order {
			if at, ok := h.peek(); !ok || !at.Equal(want[w]) {
				t.Fatalf("round %d, pop %d: peek %v %v, want %v", round, i, at, ok, want[w])
			}
			if got := h.pop(); got != w || got.expiryPos != 0 {
				t.Fatalf("round %d, pop %d: %s (pos %d), want %s", round, i, got.Signal.ID(), got.expiryPos, w.Signal.ID())
			}
		}
		if h.Len() != 0 {
			t.Fatalf("round %d: %d left after popping all", round, h.Len())
		}
	}
}

// An expiry goes before any other timer due at the same instant, and after
// one due earlier, as when it was a timer of the first kind.
func TestExpiryFirstAtATie(t *testing.T) {
	var h expiryHeap
	h.set(&Alert{Signal: signal.Signal{Kind: signal.KindAlert, Fingerprint: "b", EndsAt: t0}}, t0)
	tests := []struct {
		name  string
		timer *timer
		want  bool
	}{
		{"no timer", nil, true},
		{"timer due later", &timer{timerID{timerQuietEnd, "INC-1"}, t0.Add(time.Second), 0}, true},
		{"timer due earlier", &timer{timerID{timerQuietEnd, "INC-1"}, t0.Add(-time.Second), 0}, false},
		{"timer due at the same instant", &timer{timerID{timerQuietEnd, "INC-1"}, t0, 0}, true},
	}
	for _, tc := range tests {
		if got := h.first(tc.timer); got != tc.want {
			t.Errorf("%s: first = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := (&expiryHeap{}).first(nil); got {
		t.Error("an empty heap comes first")
	}
}
