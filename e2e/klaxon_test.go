package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Tokens the test configuration accepts, one per role.
const (
	adminToken        = "e2e-admin-token-0123456789"
	alertmanagerToken = "e2e-alertmanager-token-0123456789"
	prometheusToken   = "e2e-prometheus-token-0123456789"
)

// httpClient is shared by the tests; no request may hang a test forever.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// klaxon is one Klaxon installation: a config directory with its data dir,
// and the process serving it (restartable on the same data).
type klaxon struct {
	t      *testing.T
	dir    string
	addr   string
	url    string
	config string
	proc   *proc
}

// klaxonConfig is what testdata/klaxon.yml is rendered with.
type klaxonConfig struct {
	Addr, AdminToken, AlertmanagerToken, PrometheusToken string
	DataDir                                              string            // default "data", next to the file
	Storage                                              map[string]int64  // keys of the storage section
	OnCallFiles                                          []string          // globs, next to the file
	Notify                                               map[string]string // keys of the notify section
	Receivers                                            *receiversConfig  // tickets, mentions, heartbeats, PagerDuty
}

// newKlaxon writes a configuration (tokens above, a 1s quiet period) into a
// fresh temp dir; start runs it.
func newKlaxon(t *testing.T) *klaxon {
	t.Helper()
	return newKlaxonWith(t, klaxonConfig{})
}

// newKlaxonWith is newKlaxon with cfg's data directory and storage keys.
func newKlaxonWith(t *testing.T, cfg klaxonConfig) *klaxon {
	t.Helper()
	dir := t.TempDir()
	addr := freePort(t)
	cfg.Addr, cfg.AdminToken, cfg.AlertmanagerToken, cfg.PrometheusToken = addr, adminToken, alertmanagerToken, prometheusToken
	path := writeTemplate(t, "klaxon.yml", dir, "klaxon.yml", cfg)
	writeTemplate(t, "rules.yml", dir, filepath.Join("rules", "e2e.yml"), nil)
	return &klaxon{t: t, dir: dir, addr: addr, url: "http://" + addr, config: path}
}

// startKlaxon is newKlaxon followed by start.
func startKlaxon(t *testing.T) *klaxon {
	t.Helper()
	k := newKlaxon(t)
	k.start()
	return k
}

// start runs `klaxon serve` and waits until /-/ready answers 200.
func (k *klaxon) start() {
	k.t.Helper()
	if k.proc != nil && !k.proc.exited() {
		k.t.Fatal("klaxon is already running")
	}
	k.proc = startProc(k.t, "klaxon", klaxonBin, "serve", "--config", k.config)
	k.proc.waitHTTP200(k.url + "/-/healthy")
	k.proc.waitHTTP200(k.url + "/-/ready")
}

// kill9 ends Klaxon with SIGKILL: no chance to flush anything.
func (k *klaxon) kill9() {
	k.t.Helper()
	k.proc.signal(syscall.SIGKILL)
	k.proc.wait(waitTimeout)
}

// stop ends Klaxon with SIGTERM and returns its exit code.
func (k *klaxon) stop() int {
	k.t.Helper()
	k.proc.signal(syscall.SIGTERM)
	return k.proc.wait(waitTimeout)
}

// do sends a request with an optional bearer token and JSON body, and
// returns the status and body.
func (k *klaxon) do(method, path, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, k.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: reading body: %w", method, path, err)
	}
	return resp.StatusCode, data, nil
}

// mustDo is do that fails the test on a transport error or an unexpected status.
func (k *klaxon) mustDo(method, path, token string, body []byte, want int) []byte {
	k.t.Helper()
	status, data, err := k.do(method, path, token, body)
	if err != nil {
		k.t.Fatal(err)
	}
	if status != want {
		k.t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, status, want, data)
	}
	return data
}

// ingestResult is the answer to an accepted ingest request.
type ingestResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// postWebhook sends an Alertmanager webhook payload and expects 200.
func (k *klaxon) postWebhook(alerts []alert) ingestResult {
	k.t.Helper()
	data := k.mustDo("POST", "/ingest/alertmanager", alertmanagerToken, webhookPayload(alerts), http.StatusOK)
	var res ingestResult
	if err := json.Unmarshal(data, &res); err != nil {
		k.t.Fatalf("POST /ingest/alertmanager: answer %s: %v", data, err)
	}
	if res.Accepted+res.Duplicates != len(alerts) {
		k.t.Fatalf("POST /ingest/alertmanager of %d alerts: answer %s", len(alerts), data)
	}
	return res
}

// postV2 sends alerts the way Prometheus does and expects 200.
func (k *klaxon) postV2(alerts []alert) {
	k.t.Helper()
	k.mustDo("POST", "/api/v2/alerts", prometheusToken, v2Payload(alerts), http.StatusOK)
}

// incident is an entry of GET /api/v1/incidents.
type incident struct {
	Key      string    `json:"key"`
	Status   string    `json:"status"`
	Severity string    `json:"severity"`
	Service  string    `json:"service"`
	GroupKey string    `json:"groupKey"`
	Title    string    `json:"title"`
	OpenedAt time.Time `json:"openedAt"`
	Alerts   struct {
		Firing int `json:"firing"`
		Total  int `json:"total"`
	} `json:"alerts"`
}

// incidentSignal is one signal of an incident's detail.
type incidentSignal struct {
	Fingerprint string            `json:"fingerprint"`
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
}

// timelineEntry is one event of an incident's timeline.
type timelineEntry struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

// incidentDetail is GET /api/v1/incidents/{key}.
type incidentDetail struct {
	incident
	Signals      []incidentSignal `json:"signals"`
	SignalsTotal int              `json:"signalsTotal"` // Signals may be the first of these only
	Timeline     []timelineEntry  `json:"timeline"`
}

// incidentPage is one page of GET /api/v1/incidents.
type incidentPage struct {
	Incidents  []incident `json:"incidents"`
	NextCursor string     `json:"nextCursor"`
}

// incidents lists every incident matching query, following nextCursor.
func (k *klaxon) incidents(query url.Values) ([]incident, error) {
	var all []incident
	q := url.Values{}
	for key, v := range query {
		q[key] = v
	}
	for pages := 0; ; pages++ {
		if pages > 10000 {
			return nil, fmt.Errorf("GET /api/v1/incidents?%s: cursor never ends", query.Encode())
		}
		path := "/api/v1/incidents?" + q.Encode()
		status, data, err := k.do("GET", path, adminToken, nil)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: status %d: %s", path, status, data)
		}
		var page incidentPage
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, fmt.Errorf("GET %s: %w; body: %s", path, err, data)
		}
		all = append(all, page.Incidents...)
		if page.NextCursor == "" {
			return all, nil
		}
		if len(page.Incidents) == 0 {
			return nil, fmt.Errorf("GET %s: empty page with nextCursor %q", path, page.NextCursor)
		}
		q.Set("cursor", page.NextCursor)
	}
}

// mustIncidents is incidents that fails the test on error.
func (k *klaxon) mustIncidents(query url.Values) []incident {
	k.t.Helper()
	all, err := k.incidents(query)
	if err != nil {
		k.t.Fatal(err)
	}
	return all
}

// incident fetches one incident's detail.
func (k *klaxon) incident(key string) (incidentDetail, error) {
	var inc incidentDetail
	path := "/api/v1/incidents/" + url.PathEscape(key)
	status, data, err := k.do("GET", path, adminToken, nil)
	if err != nil {
		return inc, err
	}
	if status != http.StatusOK {
		return inc, fmt.Errorf("GET %s: status %d: %s", path, status, data)
	}
	if err := json.Unmarshal(data, &inc); err != nil {
		return inc, fmt.Errorf("GET %s: %w; body: %s", path, err, data)
	}
	return inc, nil
}

// mustIncident is incident that fails the test on error.
func (k *klaxon) mustIncident(key string) incidentDetail {
	k.t.Helper()
	inc, err := k.incident(key)
	if err != nil {
		k.t.Fatal(err)
	}
	return inc
}

// act posts an ack or resolve for key as who, with the given token.
func (k *klaxon) act(key, action, token, who string) (int, []byte) {
	k.t.Helper()
	body, err := json.Marshal(map[string]string{"by": who, "note": "from the e2e tests"})
	if err != nil {
		k.t.Fatal(err)
	}
	status, data, err := k.do("POST", "/api/v1/incidents/"+url.PathEscape(key)+"/"+action, token, body)
	if err != nil {
		k.t.Fatal(err)
	}
	return status, data
}

// byService lists the incidents of one service, all statuses.
func (k *klaxon) byService(service string) ([]incident, error) {
	return k.incidents(url.Values{"service": {service}})
}

// oneIncident waits until service has exactly one incident that satisfies
// ok, and returns its detail.
func (k *klaxon) oneIncident(service string, ok func(incidentDetail) error) incidentDetail {
	k.t.Helper()
	var got incidentDetail
	eventually(k.t, waitTimeout, "incident of service "+service, func() error {
		list, err := k.byService(service)
		if err != nil {
			return err
		}
		if len(list) != 1 {
			return fmt.Errorf("%d incidents, want 1: %+v", len(list), list)
		}
		if list[0].Service != service {
			return stopErr(fmt.Errorf("?service=%s listed an incident of service %q", service, list[0].Service))
		}
		inc, err := k.incident(list[0].Key)
		if err != nil {
			return err
		}
		if err := ok(inc); err != nil {
			return fmt.Errorf("%s: %w", inc.Key, err)
		}
		got = inc
		return nil
	})
	return got
}
