package ingest

import "sync"

// maxPooledAlerts is the most alerts a pooled slice of wire alerts holds:
// larger ones are rare and would pin memory.
const maxPooledAlerts = 1000

// The slices of wire alerts a parse is done with, for the next: decoding
// into new ones was a tenth of the bytes allocated per alert.
var (
	postables     slicePool[postableAlert]
	webhookAlerts slicePool[webhookAlert]
)

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
