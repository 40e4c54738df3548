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

// probes are rule files with an unknown key (or counter) in each place the
// loader checks keys, by the README.md heading that documents that place.
// The loader's error lists the keys it accepts there.
var probes = map[string]string{
	"File":                          "zzz: 1",
	"`services.<name>`":             "services: {s: {zzz: 1}}",
	"`services.<name>.correlation`": "services: {s: {display_name: S, tier: 1, keywords: [ss], correlation: {zzz: 1}}}",
	"`correlation`":                 "correlation: {zzz: 1}",
	"`severity`":                    "severity: {zzz: 1}",
	"`severity.levels[]`":           "severity: {levels: [{name: SEV1, zzz: 1}]}",
	"`severity.rules[]`":            "severity: {rules: [{name: r, zzz: 1}]}",
	"Conditions":                    "severity: {rules: [{name: r, level: SEV1, when: {zzz: 1}}]}",
	"`service` condition":           "severity: {rules: [{name: r, level: SEV1, when: {service: {zzz: 1}}}]}",
	"`count` condition":             "severity: {rules: [{name: r, level: SEV1, when: {count: {of: firing_alerts, zzz: 1}}}]}",
	"`duration` condition":          "severity: {rules: [{name: r, level: SEV1, when: {duration: {zzz: 1}}}]}",
	"Counters":                      "severity: {rules: [{name: r, level: SEV1, when: {count: {of: zzz, \">\": 1}}}]}",
	"`policies.<level>`":            "policies: {SEV1: {zzz: 1}}",
	"`calendars.<name>`":            "calendars: {c: {zzz: 1}}",
}

// acceptedRE finds the list of accepted names in an "unknown" error.
var acceptedRE = regexp.MustCompile(`unknown (?:key|counter) "zzz" \(expected one of: ([^)]*)\)`)

// acceptedKeys compiles a probe and returns the names its error lists.
func acceptedKeys(t *testing.T, heading, probe string) []string {
	_, err := rules.Compile([]rules.File{{Name: "probe.yml", Data: []byte(probe)}})
	if err == nil {
		t.Fatalf("%s: the probe %q compiles", heading, probe)
	}
	m := acceptedRE.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("%s: the probe's error does not list the accepted keys:\n%v", heading, err)
	}
	return strings.Split(m[1], ", ")
}

// TestReferenceIsComplete checks that rules/README.md documents exactly the
// keys the loader and ruletest accept, each in the table of its section, so
// that the reference cannot fall behind the code.
func TestReferenceIsComplete(t *testing.T) {
	want := map[string][]string{
		"Rule tests":                     yamlKeys(ruletest.File{}),
		"`tests[]`":                      yamlKeys(ruletest.Test{}),
		"`tests[].signals[]`":            yamlKeys(ruletest.InputSignal{}),
		"`tests[].actions[]`":            yamlKeys(ruletest.InputAction{}),
		"`tests[].expect[]`":             yamlKeys(ruletest.Expectation{}),
		"`tests[].expect[].incidents[]`": yamlKeys(ruletest.ExpectedIncident{}),
	}
	for heading, probe := range probes {
		want[heading] = acceptedKeys(t, heading, probe)
	}
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
