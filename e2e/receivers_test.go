package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/ingest"
)

// Credentials of the receivers' sources in the test configuration.
const (
	ticketsToken    = "e2e-tickets-token-0123456789"
	mentionsToken   = "e2e-mentions-token-0123456789"
	heartbeatsToken = "e2e-heartbeats-token-0123456789"
	routingKey      = "E2E0123456789abcdef0123456789abc"
	zendeskSecret   = "e2e-zendesk-signing-secret-0123456789"
)

// receiversConfig is the Receivers part of klaxonConfig.
type receiversConfig struct {
	TicketsToken, MentionsToken, HeartbeatsToken, RoutingKey, ZendeskSecretFile string
	Heartbeats                                                                  []heartbeatConfig
}

// heartbeatConfig is one configured heartbeat.
type heartbeatConfig struct{ Name, Interval, Grace string }

// catalogue attributes checkout's alerts by label and its reports by keyword.
const catalogue = `services:
  checkout:
    display_name: Checkout
    tier: 1
    matchers: ['{service="checkout"}']
    keywords: [checkout, basket]
`

// newReceiversKlaxon is a Klaxon that takes tickets, mentions, heartbeats
// and PagerDuty events, with checkout in its service catalogue.
func newReceiversKlaxon(t *testing.T, heartbeats ...heartbeatConfig) *klaxon {
	t.Helper()
	k := newKlaxonWith(t, klaxonConfig{Receivers: &receiversConfig{
		TicketsToken: ticketsToken, MentionsToken: mentionsToken, HeartbeatsToken: heartbeatsToken,
		RoutingKey: routingKey, ZendeskSecretFile: "zendesk.secret", Heartbeats: heartbeats,
	}})
	for name, data := range map[string]string{"zendesk.secret": zendeskSecret + "\n", "rules/catalogue.yml": catalogue} {
		if err := os.WriteFile(filepath.Join(k.dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	k.start()
	return k
}

// postJSON posts v as JSON to path with extra headers and returns the status and body.
func (k *klaxon) postJSON(path string, v any, header map[string]string) (int, []byte) {
	k.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		k.t.Fatal(err)
	}
	return k.postRaw(path, body, header)
}

// postRaw posts body as JSON to path with extra headers.
func (k *klaxon) postRaw(path string, body []byte, header map[string]string) (int, []byte) {
	k.t.Helper()
	req, err := http.NewRequest(http.MethodPost, k.url+path, bytes.NewReader(body))
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for key, v := range header {
		req.Header.Set(key, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// mustPost is postJSON expecting want.
func (k *klaxon) mustPost(path string, v any, header map[string]string, want int) []byte {
	k.t.Helper()
	status, data := k.postJSON(path, v, header)
	if status != want {
		k.t.Fatalf("POST %s: status %d, want %d; body %s", path, status, want, data)
	}
	return data
}

// bearer is an Authorization header.
func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// impactView is the part of GET /api/v1/incidents/{key} these tests read.
type impactView struct {
	Key    string `json:"key"`
	Status string `json:"status"`
	Impact struct {
		Customers int   `json:"customers"`
		Tickets   int64 `json:"tickets"`
		Mentions  int64 `json:"mentions"`
		Reach     int64 `json:"reach"`
		Alerts    int64 `json:"alerts"`
	} `json:"impact"`
	Signals  []incidentSignal `json:"signals"`
	Timeline []timelineEntry  `json:"timeline"`
}

// impactOf fetches an incident's impact.
func (k *klaxon) impactOf(key string) (impactView, error) {
	var v impactView
	status, data, err := k.do("GET", "/api/v1/incidents/"+url.PathEscape(key), adminToken, nil)
	if err != nil {
		return v, err
	}
	if status != http.StatusOK {
		return v, fmt.Errorf("GET incident %s: %d %s", key, status, data)
	}
	return v, json.Unmarshal(data, &v)
}

// TestStorm is the storm: 40 alerts (posted straight to
// /ingest/alertmanager), 25 tickets (generic and signed Zendesk) and 300
// mentions (generic and Mastodon) about checkout, all within ten minutes,
// end as one incident whose impact counts every report.
func TestStorm(t *testing.T) {
	k := newReceiversKlaxon(t)
	k.postWebhook(newAlerts("CheckoutErrorRate", "checkout", 40))
	inc := k.oneIncident("checkout", func(d incidentDetail) error {
		if d.Alerts.Firing != 40 {
			return fmt.Errorf("%d firing alerts, want 40", d.Alerts.Firing)
		}
		return nil
	})

	now := time.Now().UTC()
	customers := map[string]bool{}
	for i := range 15 { // generic tickets, 8 customers
		customer := fmt.Sprintf("acct-%d", i%8)
		customers[customer] = true
		k.mustPost("/ingest/tickets/generic", map[string]any{
			"id": fmt.Sprintf("T-%d", i), "subject": "Checkout fails at payment", "body": "I cannot complete checkout",
			"customer_id": customer, "created_at": now.Add(-time.Duration(i%10) * time.Minute).Format(time.RFC3339),
		}, bearer(ticketsToken), http.StatusOK)
	}
	for i := range 10 { // Zendesk tickets, 4 organizations
		org := fmt.Sprintf("9000%d", i%4)
		customers[org] = true
		body := zendeskTicket(5000+i, org, now.Add(-time.Duration(i%10)*time.Minute))
		status, data := k.postRaw("/ingest/tickets/zendesk", body, zendeskSignature(body, time.Now()))
		if status != http.StatusOK {
			t.Fatalf("POST /ingest/tickets/zendesk: %d %s", status, data)
		}
	}
	var reach int64
	for i := range 200 { // generic mentions
		reach += int64(i + 1)
		k.mustPost("/ingest/mentions/generic", map[string]any{
			"id": fmt.Sprintf("post-%d", i), "platform": "bluesky", "author": fmt.Sprintf("user%d", i),
			"text": "is checkout down for anyone else?", "reach": i + 1,
			"posted_at": now.Add(-time.Duration(i%10) * time.Minute).Format(time.RFC3339),
		}, bearer(mentionsToken), http.StatusOK)
	}
	for i := range 100 { // Mastodon statuses
		reach += int64(10 * i)
		k.mustPost("/ingest/mentions/mastodon", mastodonStatus(i, now.Add(-time.Duration(i%10)*time.Minute)),
			bearer(mentionsToken), http.StatusOK)
	}

	eventually(t, waitTimeout, "the storm's impact", func() error {
		v, err := k.impactOf(inc.Key)
		if err != nil {
			return err
		}
		im := v.Impact
		if im.Tickets != 25 || im.Mentions != 300 || im.Reach != reach || im.Customers != len(customers) || im.Alerts != 40 {
			return fmt.Errorf("impact %+v, want 40 alerts, 25 tickets, 300 mentions, reach %d, %d customers",
				im, reach, len(customers))
		}
		return nil
	})
	if all := k.mustIncidents(url.Values{}); len(all) != 1 {
		t.Errorf("%d incidents, want the one: %+v", len(all), all)
	}
}

// zendeskTicket is a Zendesk ticket.created event about checkout.
func zendeskTicket(id int, org string, created time.Time) []byte {
	body, _ := json.Marshal(map[string]any{
		"type": "zen:event-type:ticket.created", "account_id": 22129848, "id": fmt.Sprintf("evt-%d", id),
		"time": created.Format(time.RFC3339), "zendesk_event_version": "2022-11-06", "subject": fmt.Sprintf("zen:ticket:%d", id),
		"detail": map[string]any{
			"id": fmt.Sprint(id), "subject": "Basket empties at checkout", "description": "Checkout keeps failing",
			"status": "NEW", "priority": "HIGH", "type": "INCIDENT", "organization_id": org,
			"requester_id": "8447388090494", "created_at": created.Format(time.RFC3339),
		},
		"event": map[string]any{"current": map[string]string{"status": "NEW"}},
	})
	return body
}

// zendeskSignature signs body as Zendesk does at ts.
func zendeskSignature(body []byte, ts time.Time) map[string]string {
	stamp := ts.UTC().Format(time.RFC3339)
	return map[string]string{
		"X-Zendesk-Webhook-Signature":           ingest.SignZendesk(body, stamp, []byte(zendeskSecret)),
		"X-Zendesk-Webhook-Signature-Timestamp": stamp,
	}
}

// mastodonStatus is a Mastodon status.created webhook about checkout
// whose author has 10*i followers.
func mastodonStatus(i int, at time.Time) map[string]any {
	uri := fmt.Sprintf("https://mastodon.example/users/u%d/statuses/%d", i, 1000+i)
	return map[string]any{
		"event": "status.created", "created_at": at.Format(time.RFC3339),
		"object": map[string]any{
			"id": fmt.Sprint(1000 + i), "uri": uri, "url": uri, "visibility": "public", "language": "en",
			"created_at": at.Format(time.RFC3339), "content": "<p>Checkout broken again?</p>",
			"account": map[string]any{"acct": fmt.Sprintf("u%d", i), "display_name": "U", "followers_count": 10 * i},
		},
	}
}

// TestPagerDutyEvents sends a trigger, then an acknowledge and a resolve
// with its dedup_key, through the Events API v2.
func TestPagerDutyEvents(t *testing.T) {
	k := newReceiversKlaxon(t)
	event := func(action string) map[string]any {
		e := map[string]any{"routing_key": routingKey, "event_action": action, "dedup_key": "e2e-disk-full"}
		if action == "trigger" {
			e["payload"] = map[string]any{"summary": "disk full on db-1", "source": "db-1", "severity": "critical"}
		}
		return e
	}
	want := `{"status":"success","message":"Event processed","dedup_key":"e2e-disk-full"}`
	if got := k.mustPost("/v2/enqueue", event("trigger"), nil, http.StatusAccepted); string(got) != want {
		t.Errorf("trigger answered %s, want %s", got, want)
	}
	key := onlyIncident(t, k, "an incident from the trigger")
	k.mustPost("/v2/enqueue", event("acknowledge"), nil, http.StatusAccepted)
	waitIncident(t, k, key, func(v impactView) error {
		if v.Status != "acknowledged" {
			return fmt.Errorf("status %s, want acknowledged", v.Status)
		}
		return nil
	})
	k.mustPost("/v2/enqueue", event("resolve"), nil, http.StatusAccepted)
	waitIncident(t, k, key, func(v impactView) error {
		if len(v.Signals) != 1 || v.Signals[0].Status != "resolved" {
			return fmt.Errorf("signals %+v, want the one alert resolved", v.Signals)
		}
		return nil
	})

	bad := event("trigger")
	bad["routing_key"] = "E2Eunknown0123456789abcdef012345"
	if status, data := k.postJSON("/v2/enqueue", bad, nil); status != http.StatusBadRequest {
		t.Errorf("unknown routing key: %d %s, want 400", status, data)
	}
}

// onlyIncident waits until k has exactly one incident, what, and returns its key.
func onlyIncident(t *testing.T, k *klaxon, what string) string {
	t.Helper()
	var key string
	eventually(t, waitTimeout, what, func() error {
		all, err := k.incidents(url.Values{})
		if err != nil || len(all) != 1 {
			return fmt.Errorf("incidents %+v (%v), want one", all, err)
		}
		key = all[0].Key
		return nil
	})
	return key
}

// waitIncident waits until the incident key satisfies ok.
func waitIncident(t *testing.T, k *klaxon, key string, ok func(impactView) error) {
	t.Helper()
	eventually(t, waitTimeout, "incident "+key, func() error {
		v, err := k.impactOf(key)
		if err != nil {
			return err
		}
		return ok(v)
	})
}

// TestHeartbeatMissed lets a heartbeat's deadline pass: triage fires its
// missing-heartbeat alert, and the next beat resolves it.
func TestHeartbeatMissed(t *testing.T) {
	k := newReceiversKlaxon(t, heartbeatConfig{Name: "watchdog", Interval: "1s", Grace: "0s"})
	if status, data := k.postRaw("/ingest/heartbeats/nightly", nil, bearer(heartbeatsToken)); status != http.StatusNotFound {
		t.Errorf("unconfigured heartbeat: %d %s, want 404", status, data)
	}
	k.mustPost("/ingest/heartbeats/watchdog", map[string]string{"status": "ok"}, bearer(heartbeatsToken), http.StatusOK)
	key := onlyIncident(t, k, "the missing-heartbeat incident")
	waitIncident(t, k, key, func(v impactView) error {
		if len(v.Signals) != 1 || v.Signals[0].Status != "firing" || v.Signals[0].Labels["heartbeat"] != "watchdog" {
			return fmt.Errorf("signals %+v, want the watchdog's missing-heartbeat alert firing", v.Signals)
		}
		return nil
	})
	// The next beat resolves the alert; its deadline passes again a second
	// later, so the timeline, not the alert's current status, tells.
	k.mustPost("/ingest/heartbeats/watchdog", map[string]string{"status": "ok"}, bearer(heartbeatsToken), http.StatusOK)
	waitIncident(t, k, key, func(v impactView) error {
		for _, e := range v.Timeline {
			if e.Kind == "alert_resolved" {
				return nil
			}
		}
		return fmt.Errorf("timeline %+v has no alert_resolved", v.Timeline)
	})
}

// TestWatchdogHeartbeat routes Prometheus's Watchdog alert through the real
// Alertmanager to a heartbeat, with the README's route: Klaxon takes the
// notification as a beat.
func TestWatchdogHeartbeat(t *testing.T) {
	k := newReceiversKlaxon(t, heartbeatConfig{Name: "prometheus-watchdog", Interval: "1m", Grace: "1m"})
	requireBinary(t, alertmanagerBin)
	dir := t.TempDir()
	cfg := writeTemplate(t, "alertmanager-watchdog.yml", dir, "alertmanager.yml", map[string]string{
		"KlaxonURL": k.url, "Token": alertmanagerToken, "HeartbeatsToken": heartbeatsToken,
	})
	addr := freePort(t)
	p := startProc(t, "alertmanager", alertmanagerBin, "--config.file="+cfg, "--storage.path="+dir+"/data",
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=debug")
	amURL := "http://" + addr
	p.waitHTTP200(amURL + "/-/ready")

	postToAlertmanager(t, amURL, []alert{{Labels: map[string]string{"alertname": "Watchdog", "severity": "none"},
		StartsAt: time.Now().UTC()}})
	eventually(t, waitTimeout, "a heartbeat from Alertmanager", func() error {
		status, data, err := k.do("GET", "/metrics", "", nil)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("GET /metrics: %d %v", status, err)
		}
		for _, want := range []string{
			`klaxon_signals_received_total{outcome="accepted",source="heartbeat"} 1`,
			`klaxon_signals_received_total{outcome="rejected",source="heartbeat"} 0`,
		} {
			if !bytes.Contains(data, []byte(want)) {
				return fmt.Errorf("/metrics has no %s", want)
			}
		}
		return nil
	})
	if all := k.mustIncidents(url.Values{}); len(all) != 0 {
		t.Errorf("incidents %+v: a Watchdog routed to a heartbeat opens none", all)
	}
}
