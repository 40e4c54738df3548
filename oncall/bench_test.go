package oncall

import (
	"testing"
	"time"
)

// BenchmarkOnCallAt: one lookup in a three-layer schedule with restrictions.
func BenchmarkOnCallAt(b *testing.B) {
	cfg, err := Loader{Zone: time.LoadLocation}.Load([]File{{Name: "b.yml", Data: []byte(layered)}})
	if err != nil {
		b.Fatal(err)
	}
	s, t := cfg.Schedules["s"], time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for b.Loop() {
		s.OnCallAt(t, nil)
	}
}

// BenchmarkGaps4Weeks: the gap report `klaxon check oncall` makes per schedule.
func BenchmarkGaps4Weeks(b *testing.B) {
	cfg, err := Loader{Zone: time.LoadLocation}.Load([]File{{Name: "b.yml", Data: []byte(officeOnly)}})
	if err != nil {
		b.Fatal(err)
	}
	s, from := cfg.Schedules["s"], time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		s.Gaps(from, from.Add(28*24*time.Hour), nil)
	}
}

// BenchmarkPlan: a two-step policy repeated once, with a team and a schedule.
func BenchmarkPlan(b *testing.B) {
	cfg, err := Loader{Zone: time.LoadLocation}.Load([]File{{Name: "b.yml", Data: []byte(policies)}})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := cfg.Plan("p", start, time.Time{}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
