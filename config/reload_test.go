package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// reloadAuth is the auth section of the configurations parseReload
// builds, unless they give their own.
const reloadAuth = `
auth:
  admin: [{name: sre, token: reload-admin-token-0001}]
  ingest:
    alertmanager: {open: true}
    prometheus: {open: true}
`

func TestRestartNeeded(t *testing.T) {
	dir := t.TempDir()
	for name, key := range map[string]string{"ack1.key": "0123456789abcdef0123456789abcdef-one", "ack2.key": "0123456789abcdef0123456789abcdef-two"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(key), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		old, new string // appended to reloadBase
		want     []string
	}{
		{"nothing", "", "", nil},
		{"live keys only", "", "log_level: debug\nrule_files: [r/*.yml]\n" +
			"auth:\n  admin: [{name: ops, token: reload-admin-token-0002}]\n  metrics_open: true\n  ingest:\n    alertmanager: {open: true}\n    prometheus: {open: true}\n", nil},
		{"listen address", "", "listen_address: 127.0.0.1:9999\n", []string{"listen_address", "external_url"}},
		{"data dir", "", "data_dir: elsewhere\n", []string{"data_dir"}},
		{"storage and server", "", "storage: {retention: 1d}\nserver: {read_timeout: 1s, max_body_bytes: 10}\n",
			[]string{"server.max_body_bytes", "server.read_timeout", "storage.retention"}},
		{"limits", "", "limits: {active_alerts: 7}\n", []string{"limits.active_alerts"}},
		{"ack key file", "notify: {ack_key_file: ack1.key}\n", "notify: {ack_key_file: ack2.key}\n", []string{"notify.ack_key_file"}},
		{"ack key added", "", "notify: {ack_key_file: ack1.key}\n", []string{"notify.ack_key_file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := parseReload(t, dir, tt.old)
			new := parseReload(t, dir, tt.new)
			if got := RestartNeeded(old, new); !slices.Equal(got, tt.want) {
				t.Errorf("RestartNeeded = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRestartNeededSeesAKeyChangeInTheSameFile: rewriting the ack key file
// under the same name is a change too.
func TestRestartNeededSeesAKeyChangeInTheSameFile(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "ack.key")
	extra := "notify: {ack_key_file: ack.key}\n"
	if err := os.WriteFile(keyPath, []byte("0123456789abcdef0123456789abcdef-one"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := parseReload(t, dir, extra)
	if err := os.WriteFile(keyPath, []byte("0123456789abcdef0123456789abcdef-two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := RestartNeeded(old, parseReload(t, dir, extra)); !slices.Equal(got, []string{"notify.ack_key_file"}) {
		t.Errorf("RestartNeeded = %q", got)
	}
}

func parseReload(t *testing.T, dir, extra string) *Config {
	t.Helper()
	if !strings.Contains(extra, "auth:") {
		extra += reloadAuth
	}
	cfg, err := Parse([]byte(extra), filepath.Join(dir, "klaxon.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
