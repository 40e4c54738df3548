package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// exampleSet compiles the shipped example rules.
func exampleSet(t testing.TB) *Set {
	t.Helper()
	files, err := Load("../configs/rules", []string{"*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(files)
	if err != nil {
		t.Fatalf("the example rules do not compile:\n%v", err)
	}
	return s
}

var now = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)

// incident is a hand-built incident summary.
type incident struct {
	started   time.Duration // before now
	services  []string
	firing    []*signal.Signal
	instances int
	customers int
	events    events
}

// facts summarises the incident the way triage does.
func (in incident) facts(s *Set) *Facts {
	hits := make([]int, s.NumMatchers())
	for _, sg := range in.firing {
		for _, i := range s.MatchSignal(sg) {
			hits[i]++
		}
	}
	started := now.Add(-in.started)
	if in.started == 0 {
		started = now.Add(-5 * time.Minute)
	}
	return &Facts{
		Now: now, Started: started, Services: in.services, MatcherHits: hits,
		FiringAlerts: len(in.firing), Instances: in.instances, Customers: in.customers,
		Count: in.events.count(now),
	}
}

// spread makes n events of c, one every step, the newest at now.
func spread(n int, step time.Duration, size int64) []eventAt {
	out := make([]eventAt, n)
	for i := range out {
		out[i] = eventAt{at: now.Add(-time.Duration(i) * step), n: size}
	}
	return out
}

// TestEvaluateExamples runs the example severity rules on hand-built
// incidents; explanations are in testdata/evaluate.golden.
func TestEvaluateExamples(t *testing.T) {
	s := exampleSet(t)
	cases := []struct {
		name string
		in   incident
		rule string
	}{
		{"security alert", incident{services: []string{"auth"},
			firing: []*signal.Signal{sig("alertname", "SuspiciousAdminLogin", "service", "auth")}}, "security-breach"},
		{"replication broken on the order database", incident{services: []string{"postgres-primary", "checkout"},
			firing: []*signal.Signal{sig("alertname", "ReplicationBroken", "service", "postgres", "role", "primary")}}, "customer-data-loss"},
		{"checkout down in production", incident{services: []string{"checkout"},
			firing: []*signal.Signal{sig("alertname", "CheckoutDown", "service", "checkout", "env", "prod"),
				sig("alertname", "CheckoutDown", "service", "checkout", "env", "prod", "instance", "b")}}, "checkout-down"},
		{"checkout down in staging", incident{services: []string{"checkout"},
			firing: []*signal.Signal{sig("alertname", "CheckoutDown", "service", "checkout", "env", "staging", "severity", "critical")}}, "staging"},
		{"ticket flood", incident{services: []string{"web-storefront"},
			events: events{CounterTickets: spread(34, 20*time.Second, 1)}}, "all-customers-down"},
		{"large customer share", incident{services: []string{"checkout"}, customers: 15000}, "all-customers-down"},
		{"social media storm", incident{services: []string{"search"},
			events: events{CounterMentions: spread(60, 20*time.Second, 1), CounterReach: spread(60, 20*time.Second, 4000)}}, "social-media-storm"},
		{"many instances", incident{instances: 12, firing: []*signal.Signal{sig("alertname", "NodeDown")}}, "widespread-failure"},
		{"alert storm", incident{events: events{CounterAlerts: spread(80, 3*time.Second, 1)}}, "widespread-failure"},
		{"some tickets about search", incident{services: []string{"search"},
			events: events{CounterTickets: spread(6, 4*time.Minute, 1)}}, "some-customers-affected"},
		{"critical alert on search", incident{services: []string{"search"},
			firing: []*signal.Signal{sig("alertname", "SearchErrors", "service", "search", "severity", "critical", "env", "prod")}}, "critical-on-customer-facing"},
		{"backup failed", incident{services: []string{"search"},
			firing: []*signal.Signal{sig("alertname", "BackupFailed", "service", "search")}}, "backup-at-risk"},
		{"sign-in slow for hours", incident{services: []string{"auth"}, started: 2*time.Hour + 30*time.Minute,
			firing: []*signal.Signal{sig("alertname", "HighLatency", "service", "auth")}}, "lingering-tier1-issue"},
		{"sign-in slow for an hour", incident{services: []string{"auth"}, started: time.Hour,
			firing: []*signal.Signal{sig("alertname", "HighLatency", "service", "auth")}}, ""},
		{"back office down", incident{services: []string{"internal-admin"}, firing: []*signal.Signal{sig("service", "internal-admin")}}, "back-office"},
		{"unknown service", incident{firing: []*signal.Signal{sig("alertname", "DiskFull", "service", "mystery")}}, ""},
	}
	var b strings.Builder
	for _, c := range cases {
		f := c.in.facts(s)
		v := s.Evaluate(f)
		if v.Rule != c.rule {
			t.Errorf("%s: rule %q, want %q (%s)", c.name, v.Rule, c.rule, v.Explanation)
		}
		recheck := "never"
		if !v.Recheck.IsZero() {
			recheck = "now+" + v.Recheck.Sub(now).String()
		}
		fmt.Fprintf(&b, "%s\n  %s rule=%q recheck=%s flags=%v\n  %s\n", c.name, v.Level, v.Rule, recheck, s.Flags(f), v.Explanation)
	}
	golden(t, "evaluate.golden", b.String())
}

// TestEvaluateDefault covers the set without rule files.
func TestEvaluateDefault(t *testing.T) {
	s := Default()
	v := s.Evaluate(&Facts{Now: now})
	want := Verdict{Level: 3, Explanation: "SEV3 by default: no severity rule matched"}
	if v != want {
		t.Errorf("Evaluate = %+v, want %+v", v, want)
	}
	if v := s.Evaluate(nil); v.Level != 3 {
		t.Errorf("Evaluate(nil) = %+v", v)
	}
	if s.NumMatchers() != 0 || s.MaxWindow() != 0 || s.AllowDowngrade() {
		t.Error("the default set has matchers, windows or downgrades")
	}
	var names []string
	for _, l := range s.Levels() {
		names = append(names, fmt.Sprintf("%d=%s", l.Level, l.Name))
		if l.Description == "" {
			t.Errorf("%s has no description", l.Name)
		}
	}
	if got := strings.Join(names, " "); got != "1=SEV1 2=SEV2 3=SEV3" {
		t.Errorf("levels = %s", got)
	}
	for name, want := range map[string]Level{"SEV1": 1, "sev2": 2, " SEV3 ": 3, "SEV4": 0, "": 0, "critical": 0} {
		if got, ok := s.Level(name); got != want || ok != (want != 0) {
			t.Errorf("Level(%q) = %v, %v", name, got, ok)
		}
	}
	if p := s.Policy(1); p.Page != PageImmediately || !p.ChatRoom || p.StatusPage != StatusPageApproval {
		t.Errorf("default policy = %+v", p)
	}
}

func TestLevelString(t *testing.T) {
	for l, want := range map[Level]string{0: "none", 1: "SEV1", 3: "SEV3", 7: "SEV7", -1: "none"} {
		if got := l.String(); got != want {
			t.Errorf("Level(%d).String() = %q, want %q", int(l), got, want)
		}
	}
}

// TestRecheck checks when a verdict may change with time alone.
func TestRecheck(t *testing.T) {
	s, err := Compile([]File{{Name: "r.yml", Data: []byte(`
severity:
  rules:
    - name: long
      level: SEV1
      when: {duration: {">": 2h}}
    - name: tickets
      level: SEV2
      when: {count: {of: tickets, window: 10m, ">=": 3}}
    - name: quiet
      level: SEV3
      when: {count: {of: mentions, window: 10m, "<": 2}}
`)}})
	if err != nil {
		t.Fatal(err)
	}
	at := func(ago ...time.Duration) []eventAt {
		out := make([]eventAt, len(ago))
		for i, a := range ago {
			out[i] = eventAt{at: now.Add(-a), n: 1}
		}
		return out
	}
	cases := []struct {
		name    string
		started time.Duration
		ev      events
		rule    string
		recheck time.Duration // after now; 0 for none
	}{
		// 4 tickets: the count falls below 3 when the second oldest, 8m
		// old, leaves the 10m window in 2m.
		{"tickets age out", time.Hour, events{CounterTickets: at(time.Minute, 3*time.Minute, 8*time.Minute, 9*time.Minute)}, "tickets", 2 * time.Minute},
		// The duration rule is reached sooner than the tickets age out.
		{"duration first", 2*time.Hour - 30*time.Second, events{CounterTickets: at(time.Minute, 3*time.Minute, 8*time.Minute)}, "tickets", 30*time.Second + time.Nanosecond},
		// No rule holds; 3 mentions become fewer than 2 when the second
		// oldest (5m old) leaves the window in 5m.
		{"mentions age out", time.Hour, events{CounterMentions: at(0, 5*time.Minute, 6*time.Minute)}, "", 5 * time.Minute},
		// Fewer than 2 mentions already holds and cannot stop by time.
		{"nothing changes", 3 * time.Hour, nil, "long", 0},
	}
	for _, c := range cases {
		f := &Facts{Now: now, Started: now.Add(-c.started), Count: c.ev.count(now)}
		v := s.Evaluate(f)
		if v.Rule != c.rule {
			t.Errorf("%s: rule %q, want %q: %s", c.name, v.Rule, c.rule, v.Explanation)
		}
		var got time.Duration
		if !v.Recheck.IsZero() {
			got = v.Recheck.Sub(now)
		}
		if got != c.recheck {
			t.Errorf("%s: recheck now+%v, want now+%v", c.name, got, c.recheck)
		}
	}
}
