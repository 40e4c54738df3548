package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestIngestAuth checks that senders without the right bearer token are
// turned away with 401, and that nothing they sent is stored.
func TestIngestAuth(t *testing.T) {
	t.Parallel()
	k := startKlaxon(t)
	webhook := webhookPayload(newAlerts("Unauthorised", "auth-webhook", 1))
	v2 := v2Payload(newAlerts("Unauthorised", "auth-v2", 1))

	tests := []struct {
		name   string
		path   string
		token  string
		body   []byte
		wanted []int
	}{
		{"webhook without token", "/ingest/alertmanager", "", webhook, []int{http.StatusUnauthorized}},
		{"webhook with unknown token", "/ingest/alertmanager", "not-a-token-of-this-klaxon", webhook, []int{http.StatusUnauthorized}},
		{"webhook with admin token", "/ingest/alertmanager", adminToken, webhook, []int{http.StatusUnauthorized, http.StatusForbidden}},
		{"webhook with prometheus token", "/ingest/alertmanager", prometheusToken, webhook, []int{http.StatusUnauthorized, http.StatusForbidden}},
		{"v2 without token", "/api/v2/alerts", "", v2, []int{http.StatusUnauthorized}},
		{"v2 with unknown token", "/api/v2/alerts", "not-a-token-of-this-klaxon", v2, []int{http.StatusUnauthorized}},
		{"v2 with alertmanager token", "/api/v2/alerts", alertmanagerToken, v2, []int{http.StatusUnauthorized, http.StatusForbidden}},
	}
	for _, tt := range tests {
		status, body, err := k.do("POST", tt.path, tt.token, tt.body)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !slices.Contains(tt.wanted, status) {
			t.Errorf("%s: status %d, want %v; body: %s", tt.name, status, tt.wanted, body)
		}
	}
	if all := k.mustIncidents(nil); len(all) != 0 {
		t.Errorf("unauthorised requests stored incidents: %+v", all)
	}

	// The incident API wants an admin token; /metrics is open in this config.
	for _, token := range []string{"", alertmanagerToken} {
		if status, body, err := k.do("GET", "/api/v1/incidents", token, nil); err != nil || status != http.StatusUnauthorized && status != http.StatusForbidden {
			t.Errorf("GET /api/v1/incidents with token %q: status %d (%v), want 401 or 403; body: %s", token, status, err, body)
		}
	}
	body := k.mustDo("GET", "/metrics", "", nil, http.StatusOK)
	if !strings.Contains(string(body), `klaxon_signals_received_total{outcome="rejected",source="alertmanager"}`) {
		t.Errorf("/metrics lacks klaxon_signals_received_total for rejected alertmanager signals:\n%.2000s", body)
	}
}

// TestIngestBadInput checks that malformed payloads are answered 400 and
// that none of them, not even part of a batch, is stored.
func TestIngestBadInput(t *testing.T) {
	t.Parallel()
	k := startKlaxon(t)
	good := newAlerts("HalfStored", "bad-input", 1)[0]
	noLabels := alert{Labels: map[string]string{}, StartsAt: good.StartsAt}

	tests := []struct {
		name  string
		path  string
		token string
		body  []byte
	}{
		{"webhook truncated JSON", "/ingest/alertmanager", alertmanagerToken, []byte(`{"version":"4","alerts":[`)},
		{"webhook not JSON", "/ingest/alertmanager", alertmanagerToken, []byte("alerts: yes")},
		{"webhook wrong types", "/ingest/alertmanager", alertmanagerToken, []byte(`{"version":"4","alerts":"many"}`)},
		{"webhook alert without labels", "/ingest/alertmanager", alertmanagerToken, webhookPayload([]alert{good, noLabels})},
		{"v2 truncated JSON", "/api/v2/alerts", prometheusToken, []byte(`[{"labels":{"alertname":"x"`)},
		{"v2 object, not array", "/api/v2/alerts", prometheusToken, []byte(`{"labels":{"alertname":"x"}}`)},
		{"v2 alert without labels", "/api/v2/alerts", prometheusToken, v2Payload([]alert{good, noLabels})},
	}
	for _, tt := range tests {
		status, body, err := k.do("POST", tt.path, tt.token, tt.body)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; body: %s", tt.name, status, body)
		}
	}
	if all := k.mustIncidents(nil); len(all) != 0 {
		t.Errorf("bad requests stored incidents: %+v", all)
	}

	// Still healthy, and still taking good input.
	k.postWebhook([]alert{good})
	k.oneIncident("bad-input", func(inc incidentDetail) error { return sameSignals(inc, []alert{good}, "firing") })
}

// TestIncidentActions checks ack and resolve through the API: admin token
// required, 404 for an unknown key, 409 for acking a resolved incident, and
// retries of the same payload counted once.
func TestIncidentActions(t *testing.T) {
	t.Parallel()
	k := startKlaxon(t)

	first := newAlerts("DiskFull", "act-storage", 2)
	k.postWebhook(first)
	older := k.oneIncident("act-storage", func(incidentDetail) error { return nil })
	second := newAlerts("Down", "act-frontend", 1)
	k.postV2(second)
	newer := k.oneIncident("act-frontend", func(incidentDetail) error { return nil })

	// Retrying the same payload changes nothing.
	k.postWebhook(first)
	if inc := k.mustIncident(older.Key); inc.Alerts.Total != len(first) || len(inc.Signals) != len(first) {
		t.Errorf("%s after a retried payload: alerts %+v and %d signals, want %d", inc.Key, inc.Alerts, len(inc.Signals), len(first))
	}

	all := k.mustIncidents(url.Values{"status": {"open"}})
	if len(all) != 2 || all[0].Key != newer.Key || all[1].Key != older.Key {
		t.Errorf("open incidents %+v, want %s then %s (newest first)", all, newer.Key, older.Key)
	}

	for _, token := range []string{"", alertmanagerToken} {
		if status, body := k.act(older.Key, "ack", token, "mallory"); status != http.StatusUnauthorized && status != http.StatusForbidden {
			t.Errorf("ack with token %q: status %d, want 401 or 403; body: %s", token, status, body)
		}
	}
	if status, body := k.act("INC-999999", "ack", adminToken, "alice"); status != http.StatusNotFound {
		t.Errorf("ack of an unknown incident: status %d, want 404; body: %s", status, body)
	}

	if status, body := k.act(older.Key, "ack", adminToken, "alice"); status != http.StatusOK {
		t.Fatalf("ack %s: status %d; body: %s", older.Key, status, body)
	}
	if inc := k.mustIncident(older.Key); inc.Status != "acknowledged" {
		t.Errorf("%s after ack: status %q, want acknowledged", inc.Key, inc.Status)
	}
	acked := k.mustIncidents(url.Values{"status": {"acknowledged"}})
	if len(acked) != 1 || acked[0].Key != older.Key {
		t.Errorf("?status=acknowledged: %+v, want only %s", acked, older.Key)
	}

	if status, body := k.act(newer.Key, "resolve", adminToken, "bob"); status != http.StatusOK {
		t.Fatalf("resolve %s: status %d; body: %s", newer.Key, status, body)
	}
	inc := k.mustIncident(newer.Key)
	if inc.Status != "resolved" {
		t.Errorf("%s after resolve: status %q, want resolved", inc.Key, inc.Status)
	}
	if len(inc.Timeline) == 0 {
		t.Errorf("%s: empty timeline after being opened and resolved", inc.Key)
	}
	if status, body := k.act(newer.Key, "ack", adminToken, "alice"); status != http.StatusConflict {
		t.Errorf("ack of resolved %s: status %d, want 409; body: %s", newer.Key, status, body)
	}
}
