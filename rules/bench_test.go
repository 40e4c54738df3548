package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// manyRules builds n varied rules. Each ends with a matcher of its own that
// benchFacts never hits, so no rule shadows another and Evaluate evaluates
// most of every rule before moving on.
func manyRules(n int) []byte {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  svc%d: {display_name: S%d, tier: %d, customer_facing: %v, matchers: ['{service=\"svc%d\"}']}\n", i, i, i%3+1, i%2 == 0, i)
	}
	b.WriteString("severity:\n  customers_total: 1000\n  flags:\n    security: ['{category=\"security\"}']\n  rules:\n")
	for i := range n {
		fmt.Fprintf(&b, "    - name: r%d\n      level: SEV%d\n      when:\n        all:\n", i, i%3+1)
		switch i % 5 {
		case 0:
			b.WriteString("          - service: {customer_facing: true}\n")
		case 1:
			fmt.Fprintf(&b, "          - any:\n              - count: {of: tickets, window: %dm, \">=\": %d}\n              - count: {of: customer_share, \">=\": %d}\n", i%30+1, 5+i%7, 50+i%40)
		case 2:
			fmt.Fprintf(&b, "          - duration: {\">=\": %dm}\n          - not: {match: '{env=~\"staging|dev%d\"}'}\n", 10+i%20, i)
		case 3:
			fmt.Fprintf(&b, "          - service: {name: svc%d}\n          - count: {of: mentions, window: 1h, \">\": %d}\n", i%20, i%9)
		case 4:
			fmt.Fprintf(&b, "          - not: {flag: security}\n          - count: {of: firing_alerts, \">=\": %d}\n", i%30)
		}
		fmt.Fprintf(&b, "          - match: '{alertname=\"A%d\",severity=\"critical\"}'\n", i)
	}
	return []byte(b.String())
}

func BenchmarkEvaluate200Rules(b *testing.B) {
	s, err := Compile([]File{{Name: "bench.yml", Data: manyRules(200)}})
	if err != nil {
		b.Fatal(err)
	}
	hits := make([]int, s.NumMatchers())
	f := &Facts{
		Now: now, Started: now.Add(-time.Hour), Services: []string{"svc1", "svc3", "svc2"},
		MatcherHits: hits, FiringAlerts: 40, Instances: 12, Customers: 100,
		Count: func(c Counter, d time.Duration) int64 { return int64(d / time.Minute) },
	}
	if v := s.Evaluate(f); v.Rule != "" {
		b.Fatalf("rule %s holds: %s", v.Rule, v.Explanation)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Evaluate(f)
	}
}

func BenchmarkMatchSignal(b *testing.B) {
	s, err := Compile([]File{{Name: "bench.yml", Data: manyRules(200)}})
	if err != nil {
		b.Fatal(err)
	}
	sg := sig("alertname", "A45", "severity", "critical", "service", "svc5", "env", "prod", "instance", "10.0.0.1:9100", "job", "node")
	b.ReportAllocs()
	for b.Loop() {
		s.MatchSignal(sg)
	}
}

func BenchmarkClassify(b *testing.B) {
	s := exampleSet(b)
	sg := sig("alertname", "HighLatency", "job", "checkout-api", "env", "prod", "instance", "10.0.0.1:9100")
	b.ReportAllocs()
	for b.Loop() {
		s.Classify(sg)
	}
}

func BenchmarkCompileExamples(b *testing.B) {
	files, err := Load("../configs/rules", []string{"*.yml"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(files); err != nil {
			b.Fatal(err)
		}
	}
}
