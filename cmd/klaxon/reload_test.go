package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// newToken is the admin token the reload tests rotate to.
const newToken = "reload-test-rotated-token"

// ackKey signs the acknowledgement links of the on-call tests.
const ackKey = "reload-test-ack-key-0123456789abcdef0123456789"

// goodOnCall is an on-call file whose receivers build.
const goodOnCall = `
people:
  ada: {name: Ada, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/"}]}]}
escalation_policies:
  default:
    steps: [{escalate_after: 10m, people: [ada]}]
    fallback: {name: noc, webhook_configs: [{url: "http://127.0.0.1:1/noc"}]}
`

// onCallConfig is what the on-call tests append to the configuration.
const onCallConfig = "oncall_files: [oncall/*.yml]\nnotify: {ack_key_file: ack.key}\n"

// severityOf posts a critical alert named name and answers the severity of
// the incident key it opens.
func severityOf(t *testing.T, base, name, key string) string {
	t.Helper()
	resp, err := http.Post(base+"/api/v2/alerts", "application/json",
		strings.NewReader(`[{"labels":{"alertname":"`+name+`","severity":"critical"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("post alert: %d", resp.StatusCode)
	}
	_, body := call(t, "GET", base+"/api/v1/incidents/"+key)
	_, after, _ := strings.Cut(body, `"severity":"`)
	sev, _, _ := strings.Cut(after, `"`)
	return sev
}

// logged reports whether an entry at level with message containing msg was logged.
func (k *instance) logged(level zapcore.Level, msg string) bool {
	for _, e := range k.logs.All() {
		if e.Level == level && strings.Contains(e.Message, msg) {
			return true
		}
	}
	return false
}

// TestReloadRotatesTokens: after a reload the old admin token is refused
// and the new one admitted, on every admin endpoint at once.
func TestReloadRotatesTokens(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	writeIn(t, dir, "rules/sev.yml", goodRules)
	writeIn(t, dir, "klaxon.yml", klaxonConfig(addr, adminToken))
	k, err := launch(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer k.stop()
	if code, _ := callAs(t, "GET", k.base+"/api/v1/incidents", newToken); code != 401 {
		t.Fatalf("new token before the reload: %d", code)
	}
	writeIn(t, dir, "klaxon.yml", klaxonConfig(addr, newToken))
	if code, body := call(t, "POST", k.base+"/-/reload"); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	for _, tt := range []struct {
		token string
		want  int
	}{{adminToken, 401}, {newToken, 200}} {
		if code, body := callAs(t, "GET", k.base+"/api/v1/incidents", tt.token); code != tt.want {
			t.Errorf("GET /api/v1/incidents with the %s token: %d %s, want %d", tokenName(tt.token), code, body, tt.want)
		}
	}
}

func tokenName(tok string) string {
	if tok == adminToken {
		return "old"
	}
	return "new"
}

// TestReloadSetsLogLevel: a reload to log_level debug makes the access log
// of successful requests (a debug line) appear.
func TestReloadSetsLogLevel(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	writeIn(t, dir, "rules/sev.yml", goodRules)
	writeIn(t, dir, "klaxon.yml", klaxonConfig(addr, adminToken, "log_level: info"))
	k, err := launch(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer k.stop()
	call(t, "GET", k.base+"/api/v1/incidents")
	if k.logged(zapcore.DebugLevel, "http request") {
		t.Fatal("a debug line at level info")
	}
	writeIn(t, dir, "klaxon.yml", klaxonConfig(addr, adminToken, "log_level: debug"))
	if code, body := call(t, "POST", k.base+"/-/reload"); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	call(t, "GET", k.base+"/api/v1/incidents")
	if !k.logged(zapcore.DebugLevel, "http request") || k.level.Level() != zapcore.DebugLevel {
		t.Errorf("level %s after reloading log_level: debug; debug access log: %v", k.level.Level(), k.logged(zapcore.DebugLevel, "http request"))
	}
	if !k.logged(zapcore.InfoLevel, "log level changed") {
		t.Error("the level change is not logged")
	}
}

// TestReloadRefusesAndChangesNothing: a reload whose file needs a restart
// or names files that are not there is refused whole: the old token, log
// level and rules stay in force, and the metric says the reload failed.
func TestReloadRefusesAndChangesNothing(t *testing.T) {
	tests := []struct {
		name   string
		start  string                                     // extra configuration at start-up
		change func(t *testing.T, dir, cfg string) string // rewrites files, returns the new configuration
		want   string                                     // in the 400 answer
	}{
		{"listen address", "", func(t *testing.T, _, cfg string) string {
			return replaceLine(cfg, "listen_address: ", "listen_address: "+freeAddr(t))
		}, "changing listen_address, external_url needs a restart"},
		{"data dir", "", func(_ *testing.T, _, cfg string) string { return replaceLine(cfg, "data_dir: ", "data_dir: other") },
			"changing data_dir needs a restart"},
		{"storage", "", func(_ *testing.T, _, cfg string) string { return cfg + "\nstorage: {retention: 1d}" },
			"changing storage.retention needs a restart"},
		{"server", "", func(_ *testing.T, _, cfg string) string {
			return cfg + "\nserver: {read_timeout: 1s, max_body_bytes: 100}"
		}, "changing server.max_body_bytes, server.read_timeout needs a restart"},
		{"every rule file deleted", "", func(t *testing.T, dir, cfg string) string {
			if err := os.Remove(filepath.Join(dir, "rules/sev.yml")); err != nil {
				t.Fatal(err)
			}
			return cfg
		}, "no rule files matched"},
		{"a glob matching nothing", "", func(_ *testing.T, _, cfg string) string {
			return replaceLine(cfg, "rule_files: ", "rule_files: [rules/*.yml, more-rules/*.yml]")
		}, "no rule files matched"},
		{"broken on-call file", onCallConfig, func(t *testing.T, dir, cfg string) string {
			writeIn(t, dir, "oncall/people.yml", "teams:\n  t: {members: [nobody]}\n")
			return cfg
		}, "unknown person"},
		{"on-call files dropped", onCallConfig, func(_ *testing.T, _, cfg string) string {
			return replaceLine(cfg, "oncall_files: ", "")
		}, "a reload cannot stop paging"},
		{"invalid configuration", "", func(_ *testing.T, _, cfg string) string { return replaceLine(cfg, "log_level: ", "log_level: loud") },
			"log_level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			addr := freeAddr(t)
			writeIn(t, dir, "rules/sev.yml", goodRules)
			writeIn(t, dir, "ack.key", ackKey)
			writeIn(t, dir, "oncall/people.yml", goodOnCall)
			writeIn(t, dir, "klaxon.yml", klaxonConfig(addr, adminToken, tt.start))
			k, err := launch(t, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer k.stop()

			// Every case also rotates the token, raises the log level and
			// changes the rules: none of that may happen.
			writeIn(t, dir, "rules/sev.yml", strings.Replace(goodRules, "SEV1", "SEV2", 1))
			writeIn(t, dir, "klaxon.yml", tt.change(t, dir, klaxonConfig(addr, newToken, tt.start, "log_level: debug")))

			code, body := call(t, "POST", k.base+"/-/reload")
			if code != 400 || !strings.Contains(body, tt.want) {
				t.Fatalf("reload = %d %s, want 400 with %q", code, body, tt.want)
			}
			if v := metric(t, k.base, "klaxon_config_last_reload_successful"); v != "0" {
				t.Errorf("reload metric = %q, want 0", v)
			}
			if code, _ := callAs(t, "GET", k.base+"/api/v1/incidents", newToken); code != 401 {
				t.Errorf("the new token works: %d", code)
			}
			if k.level.Level() != zapcore.InfoLevel {
				t.Errorf("log level %s", k.level.Level())
			}
			if sev := severityOf(t, k.base, "X", "INC-1"); sev != "SEV1" {
				t.Errorf("a critical alert is %q: the old rules are not in force", sev)
			}
			if !k.logged(zapcore.ErrorLevel, "configuration reload failed") {
				t.Error("the failure is not logged")
			}
		})
	}
}

// TestStartWithBrokenRules: broken rule files at start-up fall back to the
// rules last recorded in the journal, logged and with the reload metric at
// 0; without recorded rules Klaxon refuses to start.
func TestStartWithBrokenRules(t *testing.T) {
	broken := strings.Replace(goodRules, "SEV1", "SEV9", 1)
	tests := []struct {
		name     string
		recorded bool   // a first run records goodRules
		rules    string // the rule file at start-up; "" deletes it
		want     string // in serve's error; "" when it starts
	}{
		{"broken, recorded", true, broken, ""},
		{"deleted, recorded", true, "", ""},
		{"broken, none recorded", false, broken, `unknown level "SEV9"`},
		{"deleted, none recorded", false, "", "no rule files matched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeIn(t, dir, "rules/sev.yml", goodRules)
			writeIn(t, dir, "klaxon.yml", klaxonConfig(freeAddr(t), adminToken))
			if tt.recorded {
				k, err := launch(t, dir)
				if err != nil {
					t.Fatal(err)
				}
				k.stop()
			}
			if tt.rules == "" {
				if err := os.Remove(filepath.Join(dir, "rules/sev.yml")); err != nil {
					t.Fatal(err)
				}
			} else {
				writeIn(t, dir, "rules/sev.yml", tt.rules)
			}
			k, err := launch(t, dir)
			if tt.want != "" {
				if err == nil {
					k.stop()
					t.Fatal("Klaxon started")
				}
				if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "no rules to fall back to") {
					t.Fatalf("serve: %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
			defer k.stop()
			if v := metric(t, k.base, "klaxon_config_last_reload_successful"); v != "0" {
				t.Errorf("reload metric = %q, want 0", v)
			}
			if !k.logged(zapcore.ErrorLevel, "starting with the rules last recorded") {
				t.Error("the fallback is not logged at error level")
			}
			if sev := severityOf(t, k.base, "X", "INC-1"); sev != "SEV1" {
				t.Errorf("a critical alert is %q: the recorded rules are not in force", sev)
			}
		})
	}
}

// TestStartWithBrokenOnCall: broken on-call files at start-up never stop
// Klaxon: it pages from the recorded files, or, with none recorded, runs
// without paging, saying so at error level and in klaxon_paging_enabled.
func TestStartWithBrokenOnCall(t *testing.T) {
	tests := []struct {
		name     string
		recorded bool
		paging   string // klaxon_paging_enabled
		log      string // logged at error level
	}{
		{"recorded", true, "1", "paging with the on-call files last recorded"},
		{"none recorded", false, "0", "NOBODY WILL BE PAGED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeIn(t, dir, "rules/sev.yml", goodRules)
			writeIn(t, dir, "ack.key", ackKey)
			writeIn(t, dir, "oncall/people.yml", goodOnCall)
			writeIn(t, dir, "klaxon.yml", klaxonConfig(freeAddr(t), adminToken, onCallConfig))
			if tt.recorded {
				k, err := launch(t, dir)
				if err != nil {
					t.Fatal(err)
				}
				waitMetric(t, k.base, "klaxon_paging_enabled", "1")
				k.stop()
			}
			writeIn(t, dir, "oncall/people.yml", "teams:\n  t: {members: [nobody]}\n")
			k, err := launch(t, dir)
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
			defer k.stop()
			waitMetric(t, k.base, "klaxon_paging_enabled", tt.paging)
			if v := metric(t, k.base, "klaxon_config_last_reload_successful"); v != "0" {
				t.Errorf("reload metric = %q, want 0", v)
			}
			if !k.logged(zapcore.ErrorLevel, tt.log) {
				t.Errorf("no error line %q", tt.log)
			}
			if sev := severityOf(t, k.base, "X", "INC-1"); sev != "SEV1" {
				t.Errorf("ingest under broken on-call files: severity %q", sev)
			}
		})
	}
}

// replaceLine replaces the line of cfg starting with prefix by line.
func replaceLine(cfg, prefix, line string) string {
	lines := strings.Split(cfg, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = line
		}
	}
	return strings.Join(lines, "\n")
}

// waitMetric waits until the metric name reads want: the pager sets
// klaxon_paging_enabled from its own goroutine.
func waitMetric(t *testing.T, base, name, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v := metric(t, base, name)
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %q", name, v, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
