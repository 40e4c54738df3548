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
		{[]string{"version"}, 0, "klaxon dev", ""},
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
		var out, errOut bytes.Buffer
		code := dispatch(tt.args, &out, &errOut)
		if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.err) {
			t.Errorf("klaxon %s = %d\nstdout: %s\nstderr: %s\nwant %d, stdout ~ %q, stderr ~ %q",
				strings.Join(tt.args, " "), code, out.String(), errOut.String(), tt.code, tt.out, tt.err)
		}
	}
}
