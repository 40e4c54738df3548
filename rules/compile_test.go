package rules

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
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
