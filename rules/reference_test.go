package rules_test

import (
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/ruletest"
)

// referenceRow is a row of a reference table: "| `key` | ...".
var referenceRow = regexp.MustCompile("^\\| `([^`]+)` \\|")

// referenceTables reads README.md's "### heading" sections and the keys of
// the table rows in each.
func referenceTables(t *testing.T) map[string][]string {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	heading := ""
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		case heading != "":
			if m := referenceRow.FindStringSubmatch(line); m != nil {
				out[heading] = append(out[heading], m[1])
			}
		}
	}
	return out
}

// yamlKeys lists the yaml tags of a struct type's fields.
func yamlKeys(v any) []string {
	t := reflect.TypeOf(v)
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// TestReferenceIsComplete checks that rules/README.md documents exactly the
// keys the loader and ruletest accept, each in the table of its section, so
// that the reference cannot fall behind the code.
func TestReferenceIsComplete(t *testing.T) {
	want := rules.ReferenceKeys()
	maps.Copy(want, map[string][]string{
		"Rule tests":                     yamlKeys(ruletest.File{}),
		"`tests[]`":                      yamlKeys(ruletest.Test{}),
		"`tests[].signals[]`":            yamlKeys(ruletest.InputSignal{}),
		"`tests[].actions[]`":            yamlKeys(ruletest.InputAction{}),
		"`tests[].expect[]`":             yamlKeys(ruletest.Expectation{}),
		"`tests[].expect[].incidents[]`": yamlKeys(ruletest.ExpectedIncident{}),
	})
	got := referenceTables(t)
	for _, heading := range slices.Sorted(maps.Keys(want)) {
		keys, ok := got[heading]
		if !ok {
			t.Errorf("README.md has no section %q with a table of its keys", heading)
			continue
		}
		for _, k := range want[heading] {
			if !slices.Contains(keys, k) {
				t.Errorf("README.md, section %q: key %q is accepted but not documented", heading, k)
			}
		}
		for _, k := range keys {
			if !slices.Contains(want[heading], k) {
				t.Errorf("README.md, section %q: key %q is documented but not accepted", heading, k)
			}
		}
	}
}
