package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSubcommands(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out, err string // substrings of stdout and stderr
	}{
		{[]string{"version"}, 0, "klaxon, version dev (branch: , revision: ", ""},
		{[]string{"--version"}, 0, "klaxon, version dev (branch: , revision: ", ""},
		{[]string{"bogus"}, 2, "", "usage: klaxon COMMAND"},
		{[]string{"check", "config", "../../configs/klaxon.yml"}, 0, "SUCCESS", ""},
		{[]string{"check", "config", "../../configs/klaxon.yml"}, 0, "SUCCESS", "WARNING: ../../configs/klaxon.yml:52: auth.admin[0].token_file: this is the example token shipped in configs/secrets; replace it before exposing Klaxon"},
		{[]string{"check", "config", "../../config/testdata/invalid/unknown_nested_key.yml"}, 1, "", "server.max_body_byte: unknown key (expected one of: max_body_bytes, read_timeout, write_timeout, shutdown_timeout)"},
		{[]string{"check", "config", "../../config/testdata/invalid/bad_duration.yml"}, 1, "", "bad_duration.yml:"},
		{[]string{"check", "config"}, 2, "", "usage: klaxon check config FILE"},
		{[]string{"check", "rules", "../../configs/rules/*.yml"}, 0, "SUCCESS: 3 files, 7 services", ""},
		{[]string{"check", "rules", "../../rules/testdata/bad/shadowed.yml"}, 1, "", "shadowed.yml:"},
		{[]string{"check", "rules", "nothing-*.yml"}, 1, "", "no rule files matched"},
		{[]string{"test", "rules", "../../configs/rules/tests/acme_test.yml"}, 0, "PASS", ""},
		{[]string{"test", "rules", "../../ruletest/testdata/failing_test.yml"}, 1, "FAIL", ""},
		{[]string{"test", "rules", "../../ruletest/testdata/noexpect_test.yml"}, 1, "has no expectations", ""},
		{[]string{"replay", "--rules", "x.yml"}, 2, "", "usage: klaxon replay"},
	}
	for _, tt := range tests {
		checkRun(t, tt.args, tt.code, tt.out, tt.err)
	}
}

// TestHelp asks every command for help both ways: usage on stdout, exit 0,
// and nothing run.
func TestHelp(t *testing.T) {
	for name := range commands {
		for _, flag := range []string{"--help", "-h"} {
			args := append(strings.Fields(name), flag)
			var out, errOut bytes.Buffer
			code := dispatch(args, &out, &errOut)
			if code != 0 || !strings.HasPrefix(out.String(), "usage: klaxon "+name) || errOut.Len() != 0 {
				t.Errorf("klaxon %s = %d\nstdout: %s\nstderr: %s\nwant 0 and usage on stdout", strings.Join(args, " "), code, out.String(), errOut.String())
			}
			if parsesFlags[name] && !strings.Contains(out.String(), "\nflags:\n  -") {
				t.Errorf("klaxon %s lists no flags:\n%s", strings.Join(args, " "), out.String())
			}
		}
	}
}

func TestHelpAndUnknownCommands(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out, err string // substrings of stdout and stderr
	}{
		{nil, 2, "", "usage: klaxon COMMAND"},
		{[]string{"--help"}, 0, "usage: klaxon COMMAND", ""},
		{[]string{"-h"}, 0, "  klaxon incidents list", ""},
		{[]string{"help"}, 0, "  klaxon serve", ""},
		{[]string{"help", "check", "rules"}, 0, "usage: klaxon check rules FILE...", ""},
		{[]string{"help", "incidents"}, 0, "usage: klaxon incidents COMMAND", ""},
		{[]string{"help", "nosuch"}, 2, "", `unknown command "nosuch"`},
		{[]string{"nosuch"}, 2, "", `klaxon: unknown command "nosuch"`},
		{[]string{"nosuch", "--help"}, 2, "", `klaxon: unknown command "nosuch"`},
		{[]string{"check"}, 2, "", "usage: klaxon check COMMAND"},
		{[]string{"check", "--help"}, 0, "  klaxon check rules", ""},
		{[]string{"check", "nosuch"}, 2, "", `klaxon: unknown command "check nosuch"`},
		{[]string{"incidents", "-h"}, 0, "  klaxon incidents ack", ""},
		{[]string{"incidents", "nosuch", "INC-1"}, 2, "", `klaxon: unknown command "incidents nosuch"`},
		{[]string{"check", "rules", "../../configs/rules/*.yml", "--help"}, 0, "usage: klaxon check rules", ""},
		{[]string{"test", "rules", "--", "--help"}, 1, "FAIL", ""}, // after "--", a file name
		{[]string{"replay", "--help"}, 0, "  -rules value", ""},
	}
	for _, tt := range tests {
		checkRun(t, tt.args, tt.code, tt.out, tt.err)
	}
}

// checkRun runs klaxon with args and checks its exit code and that its
// stdout and stderr contain out and errOut; it returns what both held.
func checkRun(t *testing.T, args []string, code int, out, errOut string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	got := dispatch(args, &o, &e)
	if got != code || !strings.Contains(o.String(), out) || !strings.Contains(e.String(), errOut) {
		t.Errorf("klaxon %s = %d\nstdout: %s\nstderr: %s\nwant %d, stdout ~ %q, stderr ~ %q",
			strings.Join(args, " "), got, o.String(), e.String(), code, out, errOut)
	}
	return o.String(), e.String()
}
