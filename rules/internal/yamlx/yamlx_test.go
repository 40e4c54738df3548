package yamlx

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestJoin(t *testing.T) {
	cases := []struct {
		name string
		errs []*Error
		want string
	}{
		{"none", nil, ""},
		{"sorted by file then line, stable", []*Error{
			{File: "b.yml", Line: 1, Msg: "b1"},
			{File: "a.yml", Line: 9, Msg: "a9"},
			{File: "a.yml", Line: 2, Msg: "a2 first"},
			{File: "a.yml", Line: 2, Msg: "a2 second"},
		}, "a.yml:2: a2 first\na.yml:2: a2 second\na.yml:9: a9\nb.yml:1: b1"},
		{"exact duplicates dropped", []*Error{
			{File: "a.yml", Line: 3, Rule: "r", Msg: "m"},
			{File: "a.yml", Line: 3, Rule: "r", Msg: "m"},
			{File: "a.yml", Line: 0, Msg: "whole file"},
		}, "a.yml: whole file\na.yml:3: rule \"r\": m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Join(c.errs)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Join = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != c.want {
				t.Fatalf("Join =\n%v\nwant\n%s", err, c.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("errors.As(*Error) failed on %v", err)
			}
		})
	}
}

func TestKnown(t *testing.T) {
	many := strings.Split("a b c d e f g h i j k l m", " ")
	cases := []struct {
		names []string
		want  string
	}{
		{nil, " (none are defined)"},
		{[]string{"x", "y"}, " (known: x, y)"},
		{many, " (known: a, b, c, d, e, f, g, h, i, j, k, l, …)"},
	}
	for _, c := range cases {
		if got := Known(c.names); got != c.want {
			t.Errorf("Known(%q) = %q, want %q", c.names, got, c.want)
		}
	}
	if len(many) != 13 || many[12] != "m" {
		t.Errorf("Known modified its argument: %q", many)
	}
}

// TestAliasBudget checks that one Log's alias budget spans every Scope
// sharing it, and that spending it is reported once.
func TestAliasBudget(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("a: &x 1\nb: *x\n"), &doc); err != nil {
		t.Fatal(err)
	}
	alias := doc.Content[0].Content[3]
	log := &Log{}
	for i := range maxAliases + 5 {
		s := Scope{Log: log, File: []string{"one.yml", "two.yml"}[i%2]}
		got := s.Node(alias)
		if (got != nil) != (i < maxAliases) {
			t.Fatalf("alias %d: Node = %v, want nil only past the budget of %d", i+1, got, maxAliases)
		}
	}
	if len(log.Errs) != 1 || !strings.Contains(log.Errs[0].Msg, "more than 200 YAML aliases") {
		t.Fatalf("errors = %v, want one about the alias budget", log.Errs)
	}
}
