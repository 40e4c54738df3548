package ruletest

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestShippedRuleTestsPass(t *testing.T) {
	paths, _ := filepath.Glob("../configs/rules/tests/*.yml")
	if len(paths) == 0 {
		t.Fatal("no shipped rule tests")
	}
	var out bytes.Buffer
	if !Run(&out, paths) {
		t.Fatalf("shipped rule tests fail:\n%s", out.String())
	}
}

func TestFailuresAreReported(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"testdata/failing_test.yml", []string{
			"--- FAIL: expects the wrong severity",
			`severity = "SEV1", want "SEV3"`,
			"--- FAIL: expects too many incidents",
			"1 incidents, want 2",
		}},
		{"testdata/badfile_test.yml", []string{"field signalz not found"}},
		{"testdata/noexpect_test.yml", []string{
			"--- PASS: has expectations",
			"--- FAIL: forgot its expectations",
			`testdata/noexpect_test.yml:11: test "forgot its expectations" has no expectations, so it cannot fail`,
			"--- FAIL: empty expect list",
			`testdata/noexpect_test.yml:15: test "empty expect list" has no expectations`,
		}},
		{"testdata/missing.yml", []string{"no such file"}},
		{"testdata/indent_test.yml", []string{"testdata/indent_test.yml:7: invalid YAML: did not find expected key (check the indentation of this line against the lines above it)"}},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if Run(&out, []string{tt.file}) {
			t.Errorf("%s passed", tt.file)
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.file, w, out.String())
			}
		}
		if !strings.HasSuffix(out.String(), "FAIL\n") {
			t.Errorf("%s: output does not end in FAIL", tt.file)
		}
	}
}
