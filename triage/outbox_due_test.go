package triage

import (
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
	s.DueIntents(t0, 1)[0].Attempts = 7
	if in.Attempts != 0 {
		t.Errorf("changing a returned intent changed the state's: attempts %d", in.Attempts)
	}
}
