package rules

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// FuzzCompile feeds arbitrary rule files to Compile: it must return a set or
// an error, never panic, and a set it returns must evaluate without panic.
func FuzzCompile(f *testing.F) {
	for _, glob := range []string{"../configs/rules/*.yml", "testdata/bad/*.yml", "testdata/good/*.yml"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("severity: {rules: [{name: x, level: SEV1, when: {not: {not: {all: [{any: [{flag: a}]}]}}}}]}"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("calendars: {c: {time_zone: America/New_York, days: [sat-mon], hours: \"00:00-24:00\"}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Compile([]File{{Name: "fuzz.yml", Data: data}})
		if err != nil {
			if s != nil {
				t.Fatal("Compile returned a set and an error")
			}
			return
		}
		now := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
		sig := &signal.Signal{Labels: map[string]string{"service": "checkout", "alertname": "X", "env": "prod"}}
		hits := make([]int, s.NumMatchers())
		for _, i := range s.MatchSignal(sig) {
			hits[i]++
		}
		s.Classify(sig)
		facts := &Facts{Now: now, Started: now.Add(-time.Hour), Services: []string{"checkout"}, MatcherHits: hits,
			FiringAlerts: 3, Instances: 2, Customers: 7,
			Count: func(c Counter, d time.Duration) int64 { return int64(d / time.Minute) }}
		v := s.Evaluate(facts)
		if v.Level < 1 || v.Explanation == "" {
			t.Fatalf("bad verdict %+v", v)
		}
		s.Flags(facts)
		for _, l := range s.Levels() {
			if p := s.Policy(l.Level); p.Calendar != nil {
				p.Calendar.NextOpen(now)
			}
		}
	})
}
