package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/rules"
)

// TestCheckConfigNamesUndefinedFinalMessageReceivers: a policy's
// final_message must name receivers the on-call files define.
func TestCheckConfigNamesUndefinedFinalMessageReceivers(t *testing.T) {
	rs, err := rules.Compile([]rules.File{{Name: "r.yml", Data: []byte("policies:\n  SEV1: {page: immediately, final_message: [announce, nobody]}\n")}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	oncall := `
escalation_policies:
  default:
    steps: [{escalate_after: 10m, teams: [t]}]
    fallback: {name: noc, webhook_configs: [{url: "http://127.0.0.1:1/noc"}]}
teams:
  t: {members: [a]}
people:
  a: {name: A, time_zone: UTC, contact_methods: [{name: m, webhook_configs: [{url: "http://127.0.0.1:1/a"}]}]}
receivers:
  - {name: announce, webhook_configs: [{url: "http://127.0.0.1:1/announce"}]}
`
	if err := os.WriteFile(filepath.Join(dir, "oncall.yml"), []byte(oncall), 0o644); err != nil {
		t.Fatal(err)
	}
	err = checkOnCallFor([]string{filepath.Join(dir, "*.yml")}, rs)
	want := `policy SEV1: final_message receiver "nobody" is not defined under receivers in the on-call files`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if strings.Contains(err.Error(), "announce") {
		t.Error("a defined receiver is reported")
	}
}
