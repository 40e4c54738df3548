package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Tokens of the benchmark's own Klaxon; it listens on loopback only.
const (
	ingestToken = "bench-prometheus-token-0123456789"
	adminToken  = "bench-admin-token-0123456789"
	ackKey      = "bench-ack-link-key-0123456789-0123456789"
)

// alertName is the alert the rules make SEV1: every opened incident and
// every probe carries it.
const alertName = "ServiceDown"

// writeConfig writes Klaxon's configuration, rules and on-call files into
// dir: services svc-0 … svc-(teams-1), each grouping its alerts into
// incidents by the shard label and paging its own person, whose one
// contact method is a webhook to pageURL. Escalation steps wait an hour,
// so every escalation stays active through the run.
func writeConfig(dir, listen, pageURL string, teams int) (string, error) {
	files := map[string]string{
		"klaxon.yml":          klaxonYAML(listen),
		"rules/bench.yml":     rulesYAML(teams),
		"oncall/bench.yml":    oncallYAML(pageURL, teams),
		"secrets/ack.key":     ackKey + "\n",
		"secrets/admin.token": adminToken + "\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", fmt.Errorf("config dir: %w", err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			return "", fmt.Errorf("write %s: %w", name, err)
		}
	}
	return filepath.Join(dir, "klaxon.yml"), nil
}

func klaxonYAML(listen string) string {
	return `listen_address: ` + listen + `
external_url: http://` + listen + `
data_dir: data
log_level: warn
rule_files: [rules/*.yml]
oncall_files: [oncall/*.yml]
notify: {ack_key_file: secrets/ack.key, timeout: 10s}
# The benchmark holds far more firing alerts than the default limits allow.
limits: {active_alerts: 100000000, active_alerts_per_source: 100000000}
auth:
  admin: [{name: bench, token_file: secrets/admin.token}]
  metrics_open: true
  ingest:
    prometheus:
      tokens: [{name: bench, token: ` + ingestToken + `}]
    alertmanager:
      tokens: [{name: bench, token: ` + ingestToken + `}]
`
}

func rulesYAML(teams int) string {
	var b strings.Builder
	b.WriteString(`correlation:
  group_by: [shard]
  window: 30m
  quiet_period: 10m
  max_services: 5
services:
`)
	for i := range teams {
		fmt.Fprintf(&b, `  svc-%[1]d:
    display_name: Service %[1]d
    customer_facing: true
    tier: 1
    team: team-%[1]d
    escalation_policy: oncall-%[1]d
    matchers: ['{service="svc-%[1]d"}']
    correlation: {group_by: [shard]}  # one incident per shard
`, i)
	}
	b.WriteString(`severity:
  levels:
    - {name: SEV1, description: Critical.}
    - {name: SEV2, description: Major.}
    - {name: SEV3, description: Minor.}
  default: SEV3
  rules:
    - name: service-down
      level: SEV1
      description: The service is down.
      when:
        match: '{alertname="` + alertName + `"}'
policies:
  SEV1: {page: immediately}
  SEV2: {page: immediately}
  SEV3: {page: immediately}
`)
	return b.String()
}

func oncallYAML(pageURL string, teams int) string {
	var people, policies strings.Builder
	for i := range teams {
		fmt.Fprintf(&people, `  p%[1]d:
    name: Person %[1]d
    time_zone: UTC
    contact_methods:
      - name: p%[1]d-push
        webhook_configs: [{url: "%[2]s"}]
`, i, pageURL)
		fmt.Fprintf(&policies, `  oncall-%[1]d:
    steps:
      - {escalate_after: 1h, people: [p%[1]d]}
    fallback: {name: noc-%[1]d, webhook_configs: [{url: "%[2]s?via=noc"}]}
`, i, pageURL)
	}
	return "people:\n" + people.String() + "escalation_policies:\n" + policies.String()
}

// klaxon is the server under test, started from its built binary.
type klaxon struct {
	cmd  *exec.Cmd
	done chan error
	base string
}

// startKlaxon runs bin with the configuration at config, its output in
// logPath, and waits until it is ready.
func startKlaxon(ctx context.Context, bin, config, logPath, base string) (*klaxon, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("klaxon log: %w", err)
	}
	cmd := exec.Command(bin, "serve", "--config", config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start klaxon: %w", err)
	}
	k := &klaxon{cmd: cmd, done: make(chan error, 1), base: base}
	go func() { k.done <- cmd.Wait(); logFile.Close() }()
	if err := k.waitReady(ctx); err != nil {
		k.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	return k, nil
}

func (k *klaxon) waitReady(ctx context.Context) error {
	deadline := time.After(60 * time.Second)
	for {
		resp, err := http.Get(k.base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-k.done:
			k.done <- err
			return fmt.Errorf("klaxon exited before it was ready: %v", err)
		case <-deadline:
			return errors.New("klaxon not ready after 60s")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends Klaxon with SIGTERM, or SIGKILL if it has not stopped in 30s.
func (k *klaxon) stop() {
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(30 * time.Second):
		_ = k.cmd.Process.Kill()
		<-k.done
	}
}

// peakRSSMiB is Klaxon's peak resident set (VmHWM), 0 if unknown.
func (k *klaxon) peakRSSMiB() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", k.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		var kb float64
		if _, err := fmt.Sscanf(line, "VmHWM: %f kB", &kb); err == nil {
			return kb / 1024
		}
	}
	return 0
}
