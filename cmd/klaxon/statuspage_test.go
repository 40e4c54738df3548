package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const statusRules = `
services:
  shop:
    display_name: Online Shop
    customer_facing: true
    tier: 1
    matchers: ['{service="shop"}']
severity:
  rules:
    - name: everything-critical
      level: SEV1
      when: {match: '{severity="critical"}'}
policies:
  SEV1: {page: immediately, status_page: auto, chat_room: true}
`

// TestStatusPageServed runs Klaxon, fires an alert, and reads the public
// page over HTTP without credentials, from the export directory, and
// through `klaxon statuspage export`.
func TestStatusPageServed(t *testing.T) {
	dir := t.TempDir()
	writeIn(t, dir, "rules/sev.yml", statusRules)
	base, stop := startServe(t, dir, "statuspage: {name: Acme Status, language: de, export_dir: public, render_interval: 10ms}")
	defer stop()
	alert := `[{"labels": {"alertname": "ShopDown", "service": "shop", "severity": "critical", "instance": "db-7.internal"}}]`
	res, err := http.Post(base+"/api/v2/alerts", "application/json", strings.NewReader(alert))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("posting the alert: %s", res.Status)
	}
	body := waitFor(t, base+"/status/api/v2/incidents/unresolved.json", "Untersuchung von Problemen bei Online Shop")
	if strings.Contains(body, "db-7") || strings.Contains(body, "ShopDown") {
		t.Errorf("the public JSON shows internal labels: %s", body)
	}
	page := waitFor(t, base+"/status/", "Untersuchung von Problemen bei Online Shop")
	if !strings.Contains(page, `<html lang="de">`) {
		t.Error("the page is not in German")
	}
	exported := waitForFile(t, filepath.Join(dir, "public", "api", "v2", "incidents", "unresolved.json"), "Online Shop")
	if exported == "" {
		t.Error("export_dir lacks the incident")
	}
	var stdout, stderr bytes.Buffer
	out := filepath.Join(dir, "cli-export")
	if code := dispatch([]string{"statuspage", "export", "--out", out, "--klaxon.url", base}, &stdout, &stderr); code != 0 {
		t.Fatalf("statuspage export: exit %d: %s", code, stderr.String())
	}
	if data, err := os.ReadFile(filepath.Join(out, "index.html")); err != nil || !strings.Contains(string(data), "Online Shop") {
		t.Errorf("statuspage export wrote no page (%v)", err)
	}
}

func TestStatusPageExportNeedsOut(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"statuspage", "export"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--out") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if code := dispatch([]string{"statuspage", "export", "--out", t.TempDir(), "--klaxon.url", "http://" + freeAddr(t)}, &stdout, &stderr); code != 1 {
		t.Errorf("with nobody listening: exit %d, want 1", code)
	}
}

// waitFor polls url until its body contains want (rendering is
// asynchronous) and returns the body.
func waitFor(t *testing.T, url, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK && strings.Contains(string(data), want) {
			return string(data)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q; last: %s %s", url, want, res.Status, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitForFile polls a file until it contains want.
func waitForFile(t *testing.T, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), want) {
			return string(data)
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(20 * time.Millisecond)
	}
}
