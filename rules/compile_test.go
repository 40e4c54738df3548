package rules

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestCompileErrors compiles each testdata/bad/*.yml and compares the full
// error list with its .err golden file.
func TestCompileErrors(t *testing.T) {
	paths, err := filepath.Glob("testdata/bad/*.yml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no bad rule files: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".yml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			set, err := Compile([]File{{Name: name + ".yml", Data: data}})
			if err == nil || set != nil {
				t.Fatalf("Compile(%s) = %v, %v; want an error", path, set, err)
			}
			for _, e := range unwrap(err) {
				var re *Error
				if !errors.As(e, &re) || re.File != name+".yml" {
					t.Errorf("error %q is not a *Error naming the file", e)
				}
			}
			golden(t, filepath.Join("bad", name+".err"), err.Error()+"\n")
		})
	}
}

func unwrap(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestCompileMultipleFiles(t *testing.T) {
	a := File{Name: "a.yml", Data: []byte(`correlation:
  window: 10m
services:
  checkout:
    display_name: Checkout
    tier: 1
    matchers: ['{service="checkout"}']
severity:
  rules:
    - name: first
      level: SEV1
      when: {duration: {">=": 2h}}
`)}
	b := File{Name: "b.yml", Data: []byte(`correlation:
  window: 20m
services:
  checkout:
    display_name: Checkout again
    tier: 1
    matchers: ['{service="checkout"}']
  payments:
    display_name: Payments
    tier: 1
    matchers: ['{service="payments"}']
    depends_on: [checkout]
severity:
  rules:
    - name: first
      level: SEV2
      when: {duration: {">=": 1h}}
    - name: second
      level: SEV2
      when: {service: {name: ledger}}
    - name: third
      level: SEV3
      when: {duration: {">=": 3h}}
`)}
	_, err := Compile([]File{a, b})
	if err == nil {
		t.Fatal("no error")
	}
	want := strings.Join([]string{
		`b.yml:1: correlation is already set at a.yml:1`,
		`b.yml:4: service "checkout" is already defined at a.yml:4`,
		`b.yml:15: rule "first": rule name is already used at a.yml:10`,
		`b.yml:20: rule "second": unknown service "ledger" (known: checkout, payments)`,
		`b.yml:21: rule "third": never applies: rule "first" (a.yml:10) comes first and matches whenever this one does`,
	}, "\n")
	if err.Error() != want {
		t.Errorf("got:\n%s\nwant:\n%s", err, want)
	}

	// Without the clashes, the files merge in order.
	b.Data = []byte(`services:
  payments:
    display_name: Payments
    tier: 1
    matchers: ['{service="payments"}']
    depends_on: [checkout]
severity:
  rules:
    - name: second
      level: SEV2
      when: {duration: {">=": 1h}}
`)
	set, err := Compile([]File{a, b})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range set.Rules() {
		names = append(names, r.Name+"@"+r.File)
	}
	if got := strings.Join(names, " "); got != "first@a.yml second@b.yml" {
		t.Errorf("rules = %s", got)
	}
	if got := set.Upstreams("payments"); len(got) != 1 || got[0] != "checkout" {
		t.Errorf("Upstreams(payments) = %v", got)
	}
	if c := set.Classify(sig("service", "payments")); c.Correlation.Window != 10*time.Minute {
		t.Errorf("window = %v, want the one set in a.yml", c.Correlation.Window)
	}
}

func TestCompileFeatures(t *testing.T) {
	data, err := os.ReadFile("testdata/good/features.yml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile([]File{{Name: "features.yml", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Levels()) != 4 || s.DefaultLevel() != 4 || !s.AllowDowngrade() {
		t.Errorf("levels %v, default %v, downgrade %v", s.Levels(), s.DefaultLevel(), s.AllowDowngrade())
	}
	cls := s.Classify(sig("job", "api-gw", "env", "prod", "region", "eu"))
	want := Correlation{Window: time.Hour, QuietPeriod: 2 * time.Minute, MaxServices: 3}
	if cls.Service == nil || cls.Service.Name != "api" || cls.Key != "service:api/region=eu" || cls.Correlation != want {
		t.Errorf("Classify = %+v", cls)
	}
	cls = s.Classify(sig("service", "batch", "env", "dev"))
	want = Correlation{Window: 45 * time.Minute, QuietPeriod: 0, MaxServices: 2}
	if cls.Service != nil || cls.Key != "service=batch,env=dev" || cls.Correlation != want {
		t.Errorf("Classify = %+v", cls)
	}
	if p := s.Policy(4); p.Page != PageBusinessHours || p.Calendar.Location.String() != "America/New_York" {
		t.Errorf("SEV4 policy = %+v", p)
	}
	if p := s.Policy(1); !p.ManualResolve || !slices.Equal(p.FinalMessage, []string{"sre-announce", "team-api"}) || p.QuietFor(time.Minute) != time.Minute {
		t.Errorf("SEV1 policy = %+v, want manual resolution and two final-message receivers", p)
	}
	if p := s.Policy(3); p.ManualResolve || p.QuietFor(time.Minute) != 2*time.Hour {
		t.Errorf("SEV3 policy = %+v, want automatic resolution after 2h quiet", p)
	}
	if p := s.Policy(2); !reflect.DeepEqual(p, defaultPolicy(2)) {
		t.Errorf("SEV2 policy = %+v, want the default", p)
	}

	cases := []struct {
		facts Facts
		want  string
	}{
		{Facts{Customers: 126}, "SEV1 by rule share: 12.6% of customers > 12.5%"},
		{Facts{Customers: 125}, "SEV4 by rule anything-else: it always applies"},
		{Facts{Started: now.Add(-25 * time.Hour), Services: []string{"api"}},
			`SEV2 by rule quiet-but-old: open for 1d1h > 1d; 0 alerts in 1h <= 3; 0 reach in 1h == 0; not (any(service tier=3; match {env="dev"}))`},
		{Facts{Instances: 2, Services: []string{"unknown", "db"}}, "SEV3 by rule exactly-two-instances: 2 instances == 2"},
		{Facts{Services: []string{"unknown", "db"}}, "SEV3 by rule not-customer-facing: db is not customer facing and tier 2"},
	}
	for _, c := range cases {
		f := c.facts
		f.Now = now
		if got := s.Evaluate(&f).Explanation; got != c.want {
			t.Errorf("Evaluate(%+v)\n got %s\nwant %s", c.facts, got, c.want)
		}
	}
}

// TestMatchIndex checks the matcher index against trying every matcher.
func TestMatchIndex(t *testing.T) {
	s, err := Compile([]File{{Name: "bench.yml", Data: manyRules(200)}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		sg := sig("alertname", fmt.Sprintf("A%d", i%220), "severity", []string{"critical", "warning"}[i%2],
			"env", []string{"prod", "staging", fmt.Sprintf("dev%d", i%50), ""}[i%4], "category", []string{"security", ""}[i%3%2])
		var want []int
		for j := range s.matchers {
			if s.matchers[j].Matches(sg.Labels) {
				want = append(want, j)
			}
		}
		if got := s.MatchSignal(sg); !slices.Equal(got, want) {
			t.Fatalf("MatchSignal(%v) = %v, want %v", sg.Labels, got, want)
		}
	}
}
