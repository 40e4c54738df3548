package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// prometheusBin is Debian's Prometheus (package prometheus).
const prometheusBin = "/usr/bin/prometheus"

// TestPrometheusToKlaxon points the real Prometheus' alerting at Klaxon, as
// if Klaxon were its Alertmanager, and waits for its always-firing alert.
func TestPrometheusToKlaxon(t *testing.T) {
	t.Parallel()
	requireBinary(t, prometheusBin)
	k := startKlaxon(t)

	dir := t.TempDir()
	cfg := writeTemplate(t, "prometheus.yml", dir, "prometheus.yml", map[string]string{
		"KlaxonAddr": k.addr,
		"Token":      prometheusToken,
	})
	rules, err := os.ReadFile(filepath.Join("testdata", "prometheus-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus-rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	p := startProc(t, "prometheus", prometheusBin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		// Its first notification can go out before the target is
		// discovered and be dropped; resend soon rather than in a minute.
		"--rules.alert.resend-delay=1s",
		"--log.level=debug",
	)
	p.waitHTTP200("http://" + addr + "/-/ready")

	inc := k.oneIncident("e2e-prom", func(inc incidentDetail) error {
		if inc.Alerts.Firing != 1 {
			return fmt.Errorf("alerts %+v, want 1 firing", inc.Alerts)
		}
		if len(inc.Signals) != 1 {
			return fmt.Errorf("%d signals, want 1", len(inc.Signals))
		}
		s := inc.Signals[0]
		if s.Labels["alertname"] != "E2EAlwaysFiring" || s.Labels["severity"] != "critical" || s.Status != "firing" {
			return fmt.Errorf("signal %s %s, want firing E2EAlwaysFiring with severity=critical", s.Status, identity(s.Labels))
		}
		return nil
	})
	if inc.Status != "triggered" {
		t.Errorf("%s: status %q, want triggered", inc.Key, inc.Status)
	}
}
