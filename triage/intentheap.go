package triage

import (
	"cmp"
	"container/heap"
	"time"
)

// intentHeap orders the pending intents by (due time, ID), so that the
// delivery workers' scans and the next due time cost what they return, not
// every pending intent: a storm leaves thousands pending.
type intentHeap struct {
	items []*Intent
	pos   map[string]int // intent ID -> index in items
}

func (h *intentHeap) init() { h.items, h.pos = nil, make(map[string]int) }

func (h *intentHeap) push(in *Intent) { heap.Push((*intentSlice)(h), in) }

// remove drops the intent with the given ID, if it is queued.
func (h *intentHeap) remove(id string) {
	if i, ok := h.pos[id]; ok {
		heap.Remove((*intentSlice)(h), i)
	}
}

// fix restores the order after the intent's Due changed.
func (h *intentHeap) fix(id string) {
	if i, ok := h.pos[id]; ok {
		heap.Fix((*intentSlice)(h), i)
	}
}

// due returns up to limit intents due at or before now, in order, without
// disturbing the heap: it walks it from the root with a small frontier.
func (h *intentHeap) due(now time.Time, limit int) []*Intent {
	var out []*Intent
	frontier := &indexHeap{h: h}
	if len(h.items) > 0 {
		heap.Push(frontier, 0)
	}
	for frontier.Len() > 0 && len(out) < limit {
		i := heap.Pop(frontier).(int)
		if h.items[i].Due.After(now) {
			break
		}
		out = append(out, h.items[i])
		for _, child := range []int{2*i + 1, 2*i + 2} {
			if child < len(h.items) {
				heap.Push(frontier, child)
			}
		}
	}
	return out
}

func (h *intentHeap) peek() (time.Time, bool) {
	if len(h.items) == 0 {
		return time.Time{}, false
	}
	return h.items[0].Due, true
}

func intentLess(a, b *Intent) bool {
	return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID)) < 0
}

type intentSlice intentHeap

func (s *intentSlice) Len() int           { return len(s.items) }
func (s *intentSlice) Less(i, j int) bool { return intentLess(s.items[i], s.items[j]) }
func (s *intentSlice) Swap(i, j int) {
	s.items[i], s.items[j] = s.items[j], s.items[i]
	s.pos[s.items[i].ID], s.pos[s.items[j].ID] = i, j
}
func (s *intentSlice) Push(x any) {
	in := x.(*Intent)
	s.pos[in.ID] = len(s.items)
	s.items = append(s.items, in)
}
func (s *intentSlice) Pop() any {
	n := len(s.items)
	in := s.items[n-1]
	s.items[n-1] = nil
	s.items = s.items[:n-1]
	delete(s.pos, in.ID)
	return in
}

// indexHeap is a min-heap of positions in an intentHeap, by their intents.
type indexHeap struct {
	h   *intentHeap
	idx []int
}

func (f *indexHeap) Len() int           { return len(f.idx) }
func (f *indexHeap) Less(i, j int) bool { return intentLess(f.h.items[f.idx[i]], f.h.items[f.idx[j]]) }
func (f *indexHeap) Swap(i, j int)      { f.idx[i], f.idx[j] = f.idx[j], f.idx[i] }
func (f *indexHeap) Push(x any)         { f.idx = append(f.idx, x.(int)) }
func (f *indexHeap) Pop() any {
	n := len(f.idx)
	i := f.idx[n-1]
	f.idx = f.idx[:n-1]
	return i
}
