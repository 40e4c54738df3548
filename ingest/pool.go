package ingest

import (
	"sync"

	"github.com/klaxonhq/klaxon/signal"
)

// maxPooledAlerts is the most alerts a pooled slice of wire alerts holds:
// larger ones are rare and would pin memory.
const maxPooledAlerts = 1000

// The slices of wire alerts a parse is done with, for the next: decoding
// into new ones was a tenth of the bytes allocated per alert.
var (
	postables     slicePool[postableAlert]
	webhookAlerts slicePool[webhookAlert]
)

// signalSlices holds the slices of signals that the Alertmanager parsers
// return, once their caller has released them: a new one for each request
// was a seventh of the bytes allocated per alert at batch 100.
var signalSlices slicePool[signal.Signal]

// Release hands back the signals ParseAlertsV2 or ParseWebhook returned,
// for a later parse to reuse. The caller must not use sigs again, nor
// anything that points into the slice; the strings the signals held stay
// valid. Releasing is optional: signals never released are collected.
func Release(sigs []signal.Signal) { signalSlices.put(sigs) }

// slicePool keeps slices of T for reuse.
type slicePool[T any] struct{ p sync.Pool }

// get returns an empty slice with room for n, a pooled one if it has it.
func (sp *slicePool[T]) get(n int) []T {
	if s, ok := sp.p.Get().(*[]T); ok && cap(*s) >= n {
		return (*s)[:0]
	}
	return make([]T, 0, n)
}

// put keeps s, cleared, for get; the caller must not use it again, nor
// anything that refers into it.
func (sp *slicePool[T]) put(s []T) {
	if cap(s) == 0 || cap(s) > maxPooledAlerts {
		return
	}
	clear(s)
	sp.p.Put(&s)
}
