package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

func TestClassifyExamples(t *testing.T) {
	s := exampleSet(t)
	cases := []struct {
		labels  []string
		service string
		key     string
		window  time.Duration
	}{
		{[]string{"service", "checkout", "env", "prod"}, "checkout", "service:checkout/env=prod", 30 * time.Minute},
		{[]string{"job", "checkout-worker", "env", "staging"}, "checkout", "service:checkout/env=staging", 30 * time.Minute},
		{[]string{"service", "checkout"}, "checkout", "service:checkout/env=", 30 * time.Minute},
		{[]string{"job", "checkout-cron"}, "", "alertname=X", 30 * time.Minute},
		{[]string{"service", "postgres", "role", "primary"}, "postgres-primary", "service:postgres-primary", time.Hour},
		{[]string{"service", "postgres", "role", "replica"}, "", "service=postgres", 30 * time.Minute},
		{[]string{"job", "keycloak", "service", "payments"}, "payments", "service:payments", 30 * time.Minute},
		{[]string{"job", "nginx-edge"}, "web-storefront", "service:web-storefront", 30 * time.Minute},
		{[]string{"service", "mystery", "alertname", "DiskFull"}, "", "service=mystery", 30 * time.Minute},
		{[]string{"alertname", "DiskFull", "cluster", "eu-1"}, "", "alertname=DiskFull,cluster=eu-1", 30 * time.Minute},
		{[]string{"cluster", "eu,1"}, "", `cluster="eu,1"`, 30 * time.Minute},
		{nil, "", "ungrouped", 30 * time.Minute},
	}
	for _, c := range cases {
		sg := sig(c.labels...)
		if c.key == "alertname=X" {
			labels := sg.Labels.Map()
			labels["alertname"] = "X"
			sg.Labels = signal.StringsFrom(labels)
		}
		cls := s.Classify(sg)
		name := ""
		if cls.Service != nil {
			name = cls.Service.Name
		}
		if name != c.service || cls.Key != c.key || cls.Correlation.Window != c.window {
			t.Errorf("Classify(%v) = %q %q %v, want %q %q %v", c.labels, name, cls.Key, cls.Correlation.Window, c.service, c.key, c.window)
		}
		if cls.Correlation.QuietPeriod != 10*time.Minute || cls.Correlation.MaxServices != 5 {
			t.Errorf("Classify(%v): correlation %+v", c.labels, cls.Correlation)
		}
	}
	if s.Classify(nil).Key != "ungrouped" {
		t.Error("Classify(nil)")
	}
}

func TestCatalogue(t *testing.T) {
	s := exampleSet(t)
	var names []string
	for _, svc := range s.Services() {
		names = append(names, svc.Name)
	}
	want := []string{"checkout", "payments", "web-storefront", "search", "auth", "postgres-primary", "internal-admin"}
	if !slices.Equal(names, want) {
		t.Errorf("Services() = %v", names)
	}
	co := s.Service("checkout")
	if co == nil || co.DisplayName != "Checkout" || !co.CustomerFacing || co.Tier != 1 || co.Component != "Checkout & Payments" ||
		co.EscalationPolicy != "checkout-oncall" || !slices.Contains(co.Keywords, "can't pay") {
		t.Errorf("Service(checkout) = %+v", co)
	}
	if ia := s.Service("internal-admin"); ia.Component != "Back Office" {
		t.Errorf("component defaults to the display name, got %q", ia.Component)
	}
	if s.Service("nope") != nil || s.Upstreams("nope") != nil {
		t.Error("unknown service found")
	}
	for name, want := range map[string][]string{
		"checkout":         {"payments", "postgres-primary", "auth"},
		"web-storefront":   {"search", "auth"},
		"payments":         {"postgres-primary"},
		"postgres-primary": nil,
	} {
		if got := s.Upstreams(name); !slices.Equal(got, want) {
			t.Errorf("Upstreams(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestMatchSignal(t *testing.T) {
	s := exampleSet(t)
	text := func(idx []int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, s.Matcher(i))
		}
		return out
	}
	cases := []struct {
		labels []string
		want   []string
	}{
		{[]string{"alertname", "CheckoutDown", "env", "staging"}, []string{`{alertname="CheckoutDown"}`, `{env="staging"}`}},
		{[]string{"alertname", "SecretLeaked", "category", "security"}, []string{`{category="security"}`, `{alertname=~"WAFAttackDetected|SuspiciousAdminLogin|SecretLeaked"}`}},
		{[]string{"alertname", "Other"}, nil},
	}
	for _, c := range cases {
		if got := text(s.MatchSignal(sig(c.labels...))); !slices.Equal(got, c.want) {
			t.Errorf("MatchSignal(%v) = %v, want %v", c.labels, got, c.want)
		}
	}
	if s.MatchSignal(nil) != nil || s.Matcher(-1) != "" || s.Matcher(s.NumMatchers()) != "" {
		t.Error("out of range")
	}
	// Equal matcher strings share an index whatever their order or spacing.
	s2, err := Compile([]File{{Name: "m.yml", Data: []byte(`
severity:
  flags:
    f: ['{a="1", b="2"}']
  rules:
    - {name: x, level: SEV1, when: {match: 'b="2",a="1"'}}
`)}})
	if err != nil {
		t.Fatal(err)
	}
	if s2.NumMatchers() != 1 {
		t.Errorf("NumMatchers = %d, want 1", s2.NumMatchers())
	}
	fl := s2.FlagDefs()
	if len(fl) != 1 || fl[0].Name != "f" || !slices.Equal(fl[0].Matchers, []string{`{a="1",b="2"}`}) {
		t.Errorf("FlagDefs = %+v", fl)
	}
}

func TestRulesInfo(t *testing.T) {
	s := exampleSet(t)
	rs := s.Rules()
	if len(rs) < 10 {
		t.Fatalf("%d rules", len(rs))
	}
	first := rs[0]
	if first.Name != "security-breach" || first.Level != 1 || first.Condition != "flag security" ||
		first.File != "severity.yml" || first.Line == 0 || first.Description == "" {
		t.Errorf("first rule = %+v", first)
	}
	if s.MaxWindow() != 30*time.Minute || s.AllowDowngrade() || s.DefaultLevel() != 3 || s.CustomersTotal() != 250000 {
		t.Error("severity settings differ from severity.yml")
	}
	p := s.Policy(3)
	if p.Page != PageBusinessHours || p.Calendar == nil || p.Calendar.Name != "office" || p.StatusPage != StatusPageOff || p.ChatRoom {
		t.Errorf("SEV3 policy = %+v", p)
	}
	if p := s.Policy(1); p.Page != PageImmediately || p.StatusPage != StatusPageAuto || !p.ChatRoom {
		t.Errorf("SEV1 policy = %+v", p)
	}
	// Friday evening in Berlin: SEV3 pages on Monday morning.
	fri := time.Date(2026, 3, 13, 18, 0, 0, 0, time.UTC)
	if got, want := s.Policy(1).PageAt(fri), fri; !got.Equal(want) {
		t.Errorf("SEV1 PageAt = %v", got)
	}
	if got, want := s.Policy(3).PageAt(fri), time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("SEV3 PageAt = %v, want %v", got, want)
	}
}
