package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// alertmanagerBin is Debian's Alertmanager (package prometheus-alertmanager).
const alertmanagerBin = "/usr/bin/prometheus-alertmanager"

// startAlertmanager runs the real Alertmanager, single node, with its webhook
// pointed at k, and returns its base URL once it is ready.
func startAlertmanager(t *testing.T, k *klaxon) string {
	t.Helper()
	requireBinary(t, alertmanagerBin)
	dir := t.TempDir()
	cfg := writeTemplate(t, "alertmanager.yml", dir, "alertmanager.yml", map[string]string{
		"KlaxonURL": k.url,
		"Token":     alertmanagerToken,
	})
	addr := freePort(t)
	p := startProc(t, "alertmanager", alertmanagerBin,
		"--config.file="+cfg,
		"--storage.path="+dir+"/data",
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=debug",
	)
	url := "http://" + addr
	p.waitHTTP200(url + "/-/ready")
	return url
}

// postToAlertmanager sends alerts to Alertmanager's own API.
func postToAlertmanager(t *testing.T, amURL string, alerts []alert) {
	t.Helper()
	resp, err := httpClient.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(v2Payload(alerts)))
	if err != nil {
		t.Fatalf("posting to Alertmanager: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("posting to Alertmanager: status %d: %s", resp.StatusCode, body)
	}
}

// TestAlertmanagerToKlaxon sends alerts through the real Alertmanager's
// webhook, then resolves them there, and follows both in Klaxon.
func TestAlertmanagerToKlaxon(t *testing.T) {
	t.Parallel()
	k := startKlaxon(t)
	amURL := startAlertmanager(t, k)

	services := map[string][]alert{
		"am-checkout": newAlerts("HighErrorRate", "am-checkout", 3),
		"am-payments": newAlerts("HighLatency", "am-payments", 2),
	}
	for _, alerts := range services {
		postToAlertmanager(t, amURL, alerts)
	}

	keys := map[string]string{}
	for service, alerts := range services {
		inc := k.oneIncident(service, func(inc incidentDetail) error {
			if inc.Alerts.Firing != len(alerts) || inc.Alerts.Total != len(alerts) {
				return fmt.Errorf("alerts %+v, want %d firing of %d", inc.Alerts, len(alerts), len(alerts))
			}
			return sameSignals(inc, alerts, "firing")
		})
		if inc.Status != "triggered" {
			t.Errorf("%s: status %q, want triggered", inc.Key, inc.Status)
		}
		keys[service] = inc.Key
	}

	end := time.Now()
	for _, alerts := range services {
		postToAlertmanager(t, amURL, resolved(alerts, end))
	}
	for service, alerts := range services {
		inc := k.oneIncident(service, func(inc incidentDetail) error {
			if inc.Alerts.Firing != 0 || inc.Alerts.Total != len(alerts) {
				return fmt.Errorf("alerts %+v, want 0 firing of %d", inc.Alerts, len(alerts))
			}
			if inc.Status != "resolved" {
				return fmt.Errorf("status %q, want resolved (after the 1s quiet period)", inc.Status)
			}
			return sameSignals(inc, alerts, "resolved")
		})
		if inc.Key != keys[service] {
			t.Errorf("service %s: resolved incident %s, but alerts opened %s", service, inc.Key, keys[service])
		}
	}
}

// sameSignals checks that inc holds exactly the alerts' label sets, each in
// the given status.
func sameSignals(inc incidentDetail, alerts []alert, status string) error {
	want := map[string]bool{}
	for _, a := range alerts {
		want[identity(a.Labels)] = true
	}
	got := map[string]bool{}
	for _, s := range inc.Signals {
		id := identity(s.Labels)
		if got[id] {
			return fmt.Errorf("signal %s listed twice", id)
		}
		got[id] = true
		if !want[id] {
			return fmt.Errorf("unexpected signal %s", id)
		}
		if s.Status != status {
			return fmt.Errorf("signal %s is %s, want %s", id, s.Status, status)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("%d signals, want %d", len(got), len(want))
	}
	return nil
}
