package triage

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestDueIntentsOrderAndLimit pins what the delivery workers rely on: the
// intents due by now, earliest first and then by ID, at most limit of them,
// each a copy the caller may keep.
func TestDueIntentsOrderAndLimit(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	pending := []Intent{
		{ID: "INC-3/page/a", Due: t0},
		{ID: "INC-1/page/b", Due: t0.Add(time.Second)},
		{ID: "INC-2/page/a", Due: t0},
		{ID: "INC-4/page/a", Due: t0.Add(time.Hour)},
		{ID: "INC-1/page/a", Due: t0},
	}
	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		{"all due", t0.Add(time.Hour), 10, []string{"INC-1/page/a", "INC-2/page/a", "INC-3/page/a", "INC-1/page/b", "INC-4/page/a"}},
		{"not yet due left out", t0.Add(time.Second), 10, []string{"INC-1/page/a", "INC-2/page/a", "INC-3/page/a", "INC-1/page/b"}},
		{"limit keeps the earliest", t0.Add(time.Hour), 2, []string{"INC-1/page/a", "INC-2/page/a"}},
		{"none due", t0.Add(-time.Second), 10, nil},
		{"zero limit", t0.Add(time.Hour), 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(nil)
			for _, in := range pending {
				s.intents[in.ID] = &in
				s.dueIntents.push(&in)
			}
			var got []string
			for _, in := range s.DueIntents(tc.now, tc.limit) {
				got = append(got, in.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("DueIntents(%s, %d) = %q, want %q", tc.now.Sub(t0), tc.limit, got, tc.want)
			}
		})
	}
	s := New(nil)
	in := pending[0]
	s.intents[in.ID] = &in
	s.dueIntents.push(&in)
	s.DueIntents(t0, 1)[0].Attempts = 7
	if in.Attempts != 0 {
		t.Errorf("changing a returned intent changed the state's: attempts %d", in.Attempts)
	}
}

// TestIntentHeapMatchesASort: after random pushes, due-time changes and
// removals, the heap's walk gives what sorting every pending intent gives.
func TestIntentHeapMatchesASort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var h intentHeap
	h.init()
	pending := map[string]*Intent{}
	for i := range 2000 {
		switch id := fmt.Sprintf("INC-%d", r.IntN(300)); {
		case pending[id] == nil:
			in := &Intent{ID: id, Due: t0.Add(time.Duration(r.IntN(100)) * time.Second)}
			pending[id] = in
			h.push(in)
		case i%3 == 0:
			h.remove(id)
			delete(pending, id)
		default:
			pending[id].Due = t0.Add(time.Duration(r.IntN(100)) * time.Second)
			h.fix(id)
		}
		now, limit := t0.Add(time.Duration(r.IntN(120))*time.Second), r.IntN(50)
		var want []*Intent
		for _, in := range pending {
			if !in.Due.After(now) {
				want = append(want, in)
			}
		}
		slices.SortFunc(want, func(a, b *Intent) int { return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID)) })
		want = want[:min(len(want), limit)]
		if got := h.due(now, limit); !slices.Equal(got, want) {
			t.Fatalf("step %d: heap gives %d intents, a sort %d", i, len(got), len(want))
		}
	}
}
