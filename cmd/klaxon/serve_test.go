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
// dir/rules; extra is appended to the configuration.
func startServe(t *testing.T, dir string, extra ...string) (base string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfgPath := filepath.Join(dir, "klaxon.yml")
	cfgText := fmt.Sprintf(`listen_address: %s
data_dir: data
rule_files: [rules/*.yml]
auth:
  admin: [{name: sre, token: %s}]
  metrics_open: true
  ingest:
    alertmanager: {open: true}
    prometheus: {open: true}
`, addr, adminToken) + strings.Join(extra, "\n")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, zap.NewNop()) }()
	base = "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("klaxon did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

func call(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
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
