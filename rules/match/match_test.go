package match

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/klaxonhq/klaxon/signal"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		text, want, err string
	}{
		{`{env="prod",alertname="X"}`, `{alertname="X",env="prod"}`, ""},
		{` alertname="X", env="prod" `, `{alertname="X",env="prod"}`, ""},
		{`{a="1",a="1"}`, `{a="1"}`, ""},
		{`{service=~"api.*"}`, `{service=~"api.*"}`, ""},
		{`{a="1"`, "", "unbalanced braces"},
		{`{a=~"("}`, "", "*"},
		{`{}`, "", ErrEmpty.Error()},
		{``, "", ErrEmpty.Error()},
	} {
		t.Run(tc.text, func(t *testing.T) {
			m, err := Parse(tc.text)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.err == "*" && err == nil, tc.err != "" && tc.err != "*" && (err == nil || err.Error() != tc.err):
				t.Fatalf("Parse error %v, want %q", err, tc.err)
			case tc.err == "" && m.String() != tc.want:
				t.Errorf("canonical %s, want %s", m.String(), tc.want)
			}
			if tc.err == ErrEmpty.Error() && !errors.Is(err, ErrEmpty) {
				t.Errorf("error %v is not ErrEmpty", err)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	m, err := Parse(`{service=~"api|web",env!="staging",team=""}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lbls map[string]string
		want bool
	}{
		{map[string]string{"service": "api"}, true},
		{map[string]string{"service": "web", "env": "prod"}, true},
		{map[string]string{"service": "api", "env": "staging"}, false},
		{map[string]string{"service": "api", "team": "x"}, false},
		{map[string]string{"service": "apis"}, false},
		{nil, false},
	} {
		if got := m.Matches(signal.StringsFrom(tc.lbls)); got != tc.want {
			t.Errorf("Matches(%v) = %v, want %v", tc.lbls, got, tc.want)
		}
	}
}

// The index finds exactly what trying every matcher string finds.
func TestIndexMatchesBruteForce(t *testing.T) {
	var sets []Set
	for _, text := range []string{`{a="1"}`, `{a="1",b="2"}`, `{a=~"1|2"}`, `{b="2",c!="3"}`, `{c=""}`, `{a="2"}`, `{c="",b="2"}`} {
		m, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, m)
	}
	ix := NewIndex(sets)
	for i := range 64 {
		var b signal.Builder
		for j, name := range []string{"a", "b", "c"} {
			if v := (i >> (2 * j)) & 3; v != 0 {
				b.Add(name, fmt.Sprint(v))
			}
		}
		lbls := b.Strings()
		var want []int
		for k := range sets {
			if sets[k].Matches(lbls) {
				want = append(want, k)
			}
		}
		if got := ix.Match(lbls); !slices.Equal(got, want) {
			t.Errorf("Match(%v) = %v, want %v", lbls, got, want)
		}
	}
}
