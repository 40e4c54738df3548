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
		sig := &signal.Signal{Labels: signal.StringsFrom(map[string]string{"service": "checkout", "alertname": "X", "env": "prod"})}
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

// FuzzCondition puts arbitrary text where a rule's condition goes, after a
// catalogue and flags it can refer to.
func FuzzCondition(f *testing.F) {
	for _, seed := range []string{
		`{flag: security}`,
		`{all: [{service: {name: checkout, tier: 1}}, {not: {match: '{env="staging"}'}}]}`,
		`{any: [{count: {of: tickets, window: 15m, ">=": 20}}, {count: {of: customer_share, ">": 2.5}}]}`,
		`{all: [{duration: {">=": 1h}}, {count: {of: firing_alerts, "<": 3}}, {count: {of: instances, "==": 2}}]}`,
		`{all: [{count: {of: reach, window: 1d, ">": 10}}, {not: {count: {of: reach, window: 1d, ">": 10}}}]}`,
		`{any: [{flag: data_loss}, {not: {flag: data_loss}}]}`,
		`{service: {customer_facing: false}}`,
	} {
		f.Add(seed)
	}
	head := []byte(`services:
  checkout: {display_name: Checkout, customer_facing: true, tier: 1, matchers: ['{service="checkout"}']}
  db: {display_name: DB, tier: 2, matchers: ['{service="db"}'], depends_on: [checkout]}
severity:
  customers_total: 100
  flags:
    security: ['{category="security"}']
    data_loss: ['{alertname="BackupFailed"}', '{service="db"}']
  rules:
    - name: fixed
      level: SEV1
      when: {count: {of: mentions, window: 5m, ">=": 7}}
    - name: fuzzed
      level: SEV2
      when: `)
	f.Fuzz(func(t *testing.T, cond string) {
		data := append(append([]byte{}, head...), cond...)
		s, err := Compile([]File{{Name: "fuzz.yml", Data: data}})
		if err != nil {
			return
		}
		hits := make([]int, s.NumMatchers())
		for i := range hits {
			hits[i] = i % 2
		}
		for _, svcs := range [][]string{nil, {"checkout"}, {"db", "nope"}} {
			facts := &Facts{Now: time.Unix(1e9, 0), Started: time.Unix(1e9-7200, 0), Services: svcs, MatcherHits: hits,
				FiringAlerts: 2, Instances: 2, Customers: 3,
				Count: func(c Counter, d time.Duration) int64 { return int64(d/time.Second) % 97 }}
			if v := s.Evaluate(facts); v.Level < 1 || v.Explanation == "" {
				t.Fatalf("bad verdict %+v", v)
			}
		}
	})
}
