package main

import (
	"path/filepath"
	"testing"
)

// TestCheckConfigParsesThePostmortemTemplate: a template naming a field
// the draft does not have fails the check, not the first request for a draft.
func TestCheckConfigParsesThePostmortemTemplate(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "good.md.tmpl"), "# {{.Key}}\n")
	writeFile(t, filepath.Join(dir, "bad.md.tmpl"), "# {{.Nope}}\n")
	for _, tc := range []struct {
		template string
		code     int
		out, err string
	}{
		{"good.md.tmpl", 0, "SUCCESS", ""},
		{"bad.md.tmpl", 1, "", "can't evaluate field Nope"},
		{"missing.md.tmpl", 1, "", "no such file or directory"},
	} {
		cfg := writeFile(t, filepath.Join(dir, "klaxon.yml"), `auth:
  admin_open: true
  ingest: {alertmanager: {open: true}, prometheus: {open: true}}
postmortem: {template_file: `+tc.template+`}
`)
		checkRun(t, []string{"check", "config", cfg}, tc.code, tc.out, tc.err)
	}
}
