package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/klaxonhq/klaxon/config"
)

const adminToken = "reload-test-admin-token"

const goodRules = `
severity:
  rules:
    - name: everything-critical
      level: SEV1
      when: {match: '{severity="critical"}'}
`

// startServe runs serve in-process on a free port with the rule files in
// dir/rules (goodRules in rules/sev.yml unless the test wrote some); extra
// is appended to the configuration.
func startServe(t *testing.T, dir string, extra ...string) (base string, stop func()) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "rules")); os.IsNotExist(err) {
		writeIn(t, dir, "rules/sev.yml", goodRules)
	}
	writeIn(t, dir, "klaxon.yml", klaxonConfig(freeAddr(t), adminToken, extra...))
	k, err := launch(t, dir)
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	return k.base, k.stop
}

// klaxonConfig is a configuration listening on addr with one admin token,
// open ingest and metrics, the rule files in rules/; extra is appended.
func klaxonConfig(addr, token string, extra ...string) string {
	return fmt.Sprintf(`listen_address: %s
data_dir: data
rule_files: [rules/*.yml]
auth:
  admin: [{name: sre, token: %s}]
  metrics_open: true
  ingest:
    alertmanager: {open: true}
    prometheus: {open: true}
`, addr, token) + strings.Join(extra, "\n")
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeIn writes data to dir/name, making the directories it needs.
func writeIn(t *testing.T, dir, name, data string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// instance is a Klaxon that launch runs in-process.
type instance struct {
	base  string // http://address
	logs  *observer.ObservedLogs
	level zap.AtomicLevel
	stop  func() // shuts it down and checks that serve returned no error
}

// launch runs serve with dir/klaxon.yml and returns once Klaxon is ready,
// or with serve's error if serve returns first.
func launch(t *testing.T, dir string) (*instance, error) {
	t.Helper()
	cfg, err := config.Load(filepath.Join(dir, "klaxon.yml"))
	if err != nil {
		t.Fatal(err)
	}
	level, err := zap.ParseAtomicLevel(cfg.LogLevel)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(level)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, zap.New(core), level) }()
	k := &instance{base: "http://" + cfg.ListenAddress, logs: logs, level: level}
	k.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-done:
			cancel()
			return nil, err
		default:
		}
		if resp, err := http.Get(k.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return k, nil
			}
		}
		if time.Now().After(deadline) {
			k.stop()
			t.Fatal("klaxon did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// call sends a request with the admin token.
func call(t *testing.T, method, url string) (int, string) {
	t.Helper()
	return callAs(t, method, url, adminToken)
}

// callAs sends a request with token as its bearer token.
func callAs(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func metric(t *testing.T, base, name string) string {
	_, body := call(t, "GET", base+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// TestReloadIsAllOrNothing breaks a rule file under a running Klaxon: the
// reload is refused, the old rules stay, the metric says so; fixing the file
// and sending SIGHUP installs the new rules.
func TestReloadIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rulesDir, 0o700); err != nil {
		t.Fatal(err)
	}
	rulePath := filepath.Join(rulesDir, "sev.yml")
	if err := os.WriteFile(rulePath, []byte(goodRules), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, dir)
	defer stop()

	broken := strings.Replace(goodRules, "SEV1", "SEV7", 1)
	if err := os.WriteFile(rulePath, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body := call(t, "POST", base+"/-/reload")
	if code != 400 || !strings.Contains(body, "sev.yml:") {
		t.Fatalf("reload of a broken file = %d %s", code, body)
	}
	if v := metric(t, base, "klaxon_config_last_reload_successful"); v != "0" {
		t.Fatalf("reload metric after failure = %q", v)
	}

	// The old rules still run: a critical alert is SEV1.
	resp, err := http.Post(base+"/api/v2/alerts", "application/json",
		strings.NewReader(`[{"labels":{"alertname":"X","severity":"critical"}}]`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post alert: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, body := call(t, "GET", base+"/api/v1/incidents/INC-1"); !strings.Contains(body, `"severity":"SEV1"`) {
		t.Fatalf("old rules not in force: %s", body)
	}

	fixed := strings.Replace(goodRules, "SEV1", "SEV2", 1)
	if err := os.WriteFile(rulePath, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, base, "klaxon_config_last_reload_successful") != "1" {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload the fixed rules")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLimitsAreWired checks that the configured limits reach the engine:
// past them ingest answers 429, and the gauge shows what is held.
func TestLimitsAreWired(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServe(t, dir, "limits: {active_alerts_per_source: 2}")
	defer stop()
	post := func(body string) *http.Response {
		t.Helper()
		resp, err := http.Post(base+"/api/v2/alerts", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(`[{"labels":{"alertname":"A"}},{"labels":{"alertname":"B"}},{"labels":{"alertname":"C"}}]`); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("three alerts over a limit of two: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := post(`[{"labels":{"alertname":"A"}},{"labels":{"alertname":"B"}}]`); resp.StatusCode != 200 {
		t.Fatalf("two alerts: %d", resp.StatusCode)
	}
	if v := metric(t, base, `klaxon_alerts_active{source="prometheus"}`); v != "2" {
		t.Errorf("klaxon_alerts_active = %q, want 2", v)
	}
	if v := metric(t, base, `klaxon_signals_received_total{outcome="throttled",source="prometheus"}`); v != "3" {
		t.Errorf("throttled = %q, want 3", v)
	}
}
