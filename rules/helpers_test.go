package rules

import (
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// sig builds a firing alert with the given label pairs.
func sig(kv ...string) *signal.Signal {
	var labels signal.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		labels.Add(kv[i], kv[i+1])
	}
	return &signal.Signal{Kind: signal.KindAlert, Status: signal.StatusFiring, Labels: labels.Strings()}
}

// events are counter events at given times, for Facts.Count.
type events map[Counter][]eventAt

type eventAt struct {
	at time.Time
	n  int64
}

// count sums events of c in (now-d, now].
func (ev events) count(now time.Time) func(Counter, time.Duration) int64 {
	return func(c Counter, d time.Duration) int64 {
		var total int64
		for _, e := range ev[c] {
			if e.at.After(now.Add(-d)) && !e.at.After(now) {
				total += e.n
			}
		}
		return total
	}
}
