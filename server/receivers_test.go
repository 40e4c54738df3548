package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/ingest"
	"github.com/klaxonhq/klaxon/signal"
)

// Credentials of the receivers' test configuration.
const (
	rcvTickets    = "receivers-tickets-token-0001"
	rcvMentions   = "receivers-mentions-token-0002"
	rcvHeartbeats = "receivers-heartbeats-token-0003"
	rcvViewer     = "receivers-viewer-token-00004"
	rcvAdmin      = "receivers-admin-token-000005"
	rcvZendesk    = "receivers-zendesk-signing-secret-06"
	// rcvRoutingKey is the routing key of the recorded PagerDuty events.
	rcvRoutingKey = "R0123456789abcdef0123456789abcde"
)

// receiversServer is a Server with the receivers' routes over a fake sink.
type receiversServer struct {
	srv  *Server
	sink *fakeSink
	reg  *prometheus.Registry
}

func newReceiversServer(t *testing.T) *receiversServer {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "zendesk.secret"), []byte(rcvZendesk+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(`auth:
  admin: [{name: sre, token: `+rcvAdmin+`}]
  viewers: [{name: wallboard, token: `+rcvViewer+`}]
  ingest:
    alertmanager: {open: true}
    prometheus: {open: true}
    tickets: {tokens: [{name: helpdesk, token: `+rcvTickets+`}]}
    mentions: {tokens: [{name: listener, token: `+rcvMentions+`}]}
    heartbeats: {tokens: [{name: jobs, token: `+rcvHeartbeats+`}]}
    pagerduty: {tokens: [{name: legacy, token: `+rcvRoutingKey+`}]}
    zendesk: {signing_secret_file: zendesk.secret}
heartbeats:
  - {name: watchdog, interval: 1m, labels: {service: monitoring}}
  - {name: backup, interval: 24h, grace: 0s}
`), filepath.Join(dir, "klaxon.yml"))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv := New(cfg, zap.NewNop(), reg)
	sink := &fakeSink{}
	in := NewIngestHandler(sink, ingest.Limits{}, func() time.Time { return testNow }, zap.NewNop(), reg)
	NewReceivers(srv, in, cfg.Heartbeats).Register(srv.Engine())
	return &receiversServer{srv: srv, sink: sink, reg: reg}
}

// post sends body to path with the JSON content type and the given headers.
func (s *receiversServer) post(path string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.srv.Engine().ServeHTTP(rec, req)
	return rec
}

// stored is every signal the sink was given.
func (s *receiversServer) stored() []signal.Signal {
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	var all []signal.Signal
	for _, c := range s.sink.calls {
		all = append(all, c...)
	}
	return all
}

// bearerHeader is an Authorization header with tok.
func bearerHeader(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok}
}

// zendeskHeaders signs body as Zendesk would at ts with secret.
func zendeskHeaders(body []byte, ts time.Time, secret string) map[string]string {
	stamp := ts.UTC().Format(time.RFC3339)
	return map[string]string{
		zendeskSignatureHeader: ingest.SignZendesk(body, stamp, []byte(secret)),
		zendeskTimestampHeader: stamp,
	}
}

// ingestFixture reads a recorded payload from ingest/testdata.
func ingestFixture(t *testing.T, name string) []byte {
	t.Helper()
	return readFile(t, filepath.Join("..", "ingest", "testdata", name))
}

// TestReceiversStoreFixtures posts every recorded ticket, mention and event
// fixture with its credentials: each is answered 2xx and stores exactly
// what its parser makes of it, counted under its source.
func TestReceiversStoreFixtures(t *testing.T) {
	for _, tt := range []struct {
		path, fixture string
		src           signal.Source
		parse         ingest.Parser
	}{
		{"/ingest/tickets/generic", "tickets-generic/open.json", signal.SourceTicketsGeneric, ingest.ParseTicketGeneric},
		{"/ingest/tickets/generic", "tickets-generic/solved.json", signal.SourceTicketsGeneric, ingest.ParseTicketGeneric},
		{"/ingest/tickets/jsm", "jsm/issue_created.json", signal.SourceJSM, ingest.ParseJSM},
		{"/ingest/tickets/zendesk", "zendesk/created.json", signal.SourceZendesk, ingest.ParseZendesk},
		{"/ingest/tickets/zendesk", "zendesk/solved.json", signal.SourceZendesk, ingest.ParseZendesk},
		{"/ingest/mentions/generic", "mentions-generic/post.json", signal.SourceMentionsGeneric, ingest.ParseMentionGeneric},
		{"/ingest/mentions/mastodon", "mastodon/status_created.json", signal.SourceMastodon, ingest.ParseMastodon},
		{"/ingest/mentions/mastodon", "mastodon/boost.json", signal.SourceMastodon, ingest.ParseMastodon},
		{"/ingest/mentions/x", "x/post.json", signal.SourceX, ingest.ParseX},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			s := newReceiversServer(t)
			body := ingestFixture(t, tt.fixture)
			header := bearerHeader(rcvTickets)
			switch {
			case tt.src == signal.SourceZendesk:
				header = zendeskHeaders(body, testNow.Add(-time.Minute), rcvZendesk)
			case strings.HasPrefix(tt.path, "/ingest/mentions/"):
				header = bearerHeader(rcvMentions)
			}
			rec := s.post(tt.path, body, header)
			if rec.Code != http.StatusOK || rec.Body.String() != `{"accepted":1,"duplicates":0}` {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			want, err := tt.parse(body, testNow, ingest.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.stored(); !reflect.DeepEqual(got, want) {
				t.Errorf("stored\n%+v\nwant\n%+v", got, want)
			}
			if got := receivedCount(t, s.reg, tt.src, "accepted"); got != 1 {
				t.Errorf("accepted counter of %s is %v, want 1", tt.src, got)
			}
		})
	}
}

// receivedCount reads klaxon_signals_received_total{source, outcome}.
func receivedCount(t *testing.T, reg *prometheus.Registry, src signal.Source, outcome string) float64 {
	t.Helper()
	return (&testServer{reg: reg}).received(t, src, outcome)
}

// TestReceiversRefuseWithoutCredentials sends every new route a valid
// payload without credentials, with a viewer's token and with the wrong
// source's token: all are 401 and nothing is stored.
func TestReceiversRefuseWithoutCredentials(t *testing.T) {
	created := ingestFixture(t, "zendesk/created.json")
	for _, tt := range []struct {
		name, path string
		body       []byte
		header     map[string]string
	}{
		{"tickets no token", "/ingest/tickets/generic", ingestFixture(t, "tickets-generic/open.json"), nil},
		{"tickets viewer", "/ingest/tickets/generic", ingestFixture(t, "tickets-generic/open.json"), bearerHeader(rcvViewer)},
		{"tickets admin", "/ingest/tickets/jsm", ingestFixture(t, "jsm/issue_created.json"), bearerHeader(rcvAdmin)},
		{"tickets with mentions token", "/ingest/tickets/generic", ingestFixture(t, "tickets-generic/open.json"), bearerHeader(rcvMentions)},
		{"tickets unknown format", "/ingest/tickets/freshdesk", []byte(`{}`), nil},
		{"zendesk no signature", "/ingest/tickets/zendesk", created, nil},
		{"zendesk bearer only", "/ingest/tickets/zendesk", created, bearerHeader(rcvTickets)},
		{"zendesk wrong secret", "/ingest/tickets/zendesk", created, zendeskHeaders(created, testNow, "another-signing-secret-0000")},
		{"zendesk other body", "/ingest/tickets/zendesk", created, zendeskHeaders(ingestFixture(t, "zendesk/solved.json"), testNow, rcvZendesk)},
		{"zendesk replayed", "/ingest/tickets/zendesk", created, zendeskHeaders(created, testNow.Add(-time.Hour), rcvZendesk)},
		{"mentions no token", "/ingest/mentions/mastodon", ingestFixture(t, "mastodon/status_created.json"), nil},
		{"mentions viewer", "/ingest/mentions/x", ingestFixture(t, "x/post.json"), bearerHeader(rcvViewer)},
		{"mentions with tickets token", "/ingest/mentions/generic", ingestFixture(t, "mentions-generic/post.json"), bearerHeader(rcvTickets)},
		{"heartbeat no token", "/ingest/heartbeats/watchdog", nil, nil},
		{"heartbeat viewer", "/ingest/heartbeats/watchdog", nil, bearerHeader(rcvViewer)},
		{"heartbeat unknown name", "/ingest/heartbeats/nothing", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newReceiversServer(t)
			rec := s.post(tt.path, tt.body, tt.header)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status %d, want 401; body %s", rec.Code, rec.Body)
			}
			if got := s.stored(); len(got) != 0 {
				t.Errorf("stored %d signals", len(got))
			}
		})
	}
}

// TestReceiversNotFound names what exists for an unknown format or heartbeat.
func TestReceiversNotFound(t *testing.T) {
	for _, tt := range []struct {
		path, token, want string
	}{
		{"/ingest/tickets/freshdesk", rcvTickets, `{"error":"unknown tickets format \"freshdesk\"; want one of generic, jsm, zendesk"}`},
		{"/ingest/mentions/bluesky", rcvMentions, `{"error":"unknown mentions format \"bluesky\"; want one of generic, mastodon, x"}`},
		{"/ingest/heartbeats/nightly", rcvHeartbeats, `{"error":"no heartbeat \"nightly\" is configured"}`},
	} {
		s := newReceiversServer(t)
		rec := s.post(tt.path, []byte(`{}`), bearerHeader(tt.token))
		if rec.Code != http.StatusNotFound || rec.Body.String() != tt.want {
			t.Errorf("%s: %d %s, want 404 %s", tt.path, rec.Code, rec.Body, tt.want)
		}
		if len(s.stored()) != 0 {
			t.Errorf("%s: stored signals", tt.path)
		}
	}
}

// TestReceiversBadInput refuses malformed payloads with 400 naming the
// field, storing nothing and counting them rejected.
func TestReceiversBadInput(t *testing.T) {
	for _, tt := range []struct {
		path, token string
		body        string
		src         signal.Source
		want        string
	}{
		{"/ingest/tickets/generic", rcvTickets, `{"subject":"no id"}`, signal.SourceTicketsGeneric, `{"error":"id: must not be empty","field":"id"}`},
		{"/ingest/mentions/generic", rcvMentions, `{"id":"1"}`, signal.SourceMentionsGeneric, `{"error":"platform: must not be empty","field":"platform"}`},
		{"/ingest/heartbeats/watchdog", rcvHeartbeats, `{"status":"meh"}`, signal.SourceHeartbeat, `{"error":"status: must be \"ok\" or \"fail\", got \"meh\"","field":"status"}`},
	} {
		s := newReceiversServer(t)
		rec := s.post(tt.path, []byte(tt.body), bearerHeader(tt.token))
		if rec.Code != http.StatusBadRequest || rec.Body.String() != tt.want {
			t.Errorf("%s: %d %s, want 400 %s", tt.path, rec.Code, rec.Body, tt.want)
		}
		if len(s.stored()) != 0 {
			t.Errorf("%s: stored signals", tt.path)
		}
		if got := receivedCount(t, s.reg, tt.src, "rejected"); got != 1 {
			t.Errorf("%s: rejected counter %v, want 1", tt.path, got)
		}
	}
}

// TestHeartbeatDeadline checks the contract with triage: a beat's EndsAt is
// receipt + interval + grace, and the heartbeat's labels are added to it.
func TestHeartbeatDeadline(t *testing.T) {
	for _, tt := range []struct {
		name, path string
		body       []byte
		status     signal.Status
		endsAt     time.Time
		labels     map[string]string
	}{
		{"watchdog, empty body, default grace", "/ingest/heartbeats/watchdog", nil, signal.StatusResolved,
			testNow.Add(2 * time.Minute), map[string]string{"heartbeat": "watchdog", "service": "monitoring"}},
		{"watchdog from Alertmanager, firing", "/ingest/heartbeats/watchdog", ingestFixture(t, "webhook/firing.json"), signal.StatusResolved,
			testNow.Add(2 * time.Minute), map[string]string{"heartbeat": "watchdog", "service": "monitoring"}},
		{"watchdog from Alertmanager, resolved", "/ingest/heartbeats/watchdog", ingestFixture(t, "webhook/resolved.json"), signal.StatusFiring,
			testNow.Add(2 * time.Minute), map[string]string{"heartbeat": "watchdog", "service": "monitoring"}},
		{"backup fails, no grace", "/ingest/heartbeats/backup", []byte(`{"status":"fail","message":"disk full"}`), signal.StatusFiring,
			testNow.Add(24 * time.Hour), map[string]string{"heartbeat": "backup"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newReceiversServer(t)
			rec := s.post(tt.path, tt.body, bearerHeader(rcvHeartbeats))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			got := s.stored()
			if len(got) != 1 {
				t.Fatalf("stored %d signals, want 1", len(got))
			}
			b := got[0]
			if b.Status != tt.status || !b.EndsAt.Equal(tt.endsAt) || !reflect.DeepEqual(b.Labels.Map(), tt.labels) {
				t.Errorf("beat %s, endsAt %s, labels %v; want %s, %s, %v", b.Status, b.EndsAt, b.Labels, tt.status, tt.endsAt, tt.labels)
			}
			if b.Fingerprint != ingest.HeartbeatFingerprint(strings.TrimPrefix(tt.path, "/ingest/heartbeats/")) {
				t.Errorf("fingerprint %s is not the heartbeat's", b.Fingerprint)
			}
		})
	}
}

// pagerDutyEvent is a recorded event with its routing key replaced.
func pagerDutyEvent(t *testing.T, name, routingKey string) []byte {
	t.Helper()
	return bytes.Replace(ingestFixture(t, "pagerduty/"+name), []byte(rcvRoutingKey), []byte(routingKey), 1)
}

// TestPagerDuty answers as the Events API v2 does, and stores an event
// only when its routing key is configured.
func TestPagerDuty(t *testing.T) {
	for _, tt := range []struct {
		name   string
		body   []byte
		status int
		reply  string
		stored int
	}{
		{"trigger", ingestFixture(t, "pagerduty/trigger.json"), http.StatusAccepted,
			`{"status":"success","message":"Event processed","dedup_key":"srv01/HTTP"}`, 1},
		{"acknowledge", ingestFixture(t, "pagerduty/acknowledge.json"), http.StatusAccepted,
			`{"status":"success","message":"Event processed","dedup_key":"srv01/HTTP"}`, 1},
		{"resolve", ingestFixture(t, "pagerduty/resolve.json"), http.StatusAccepted,
			`{"status":"success","message":"Event processed","dedup_key":"srv01/HTTP"}`, 1},
		{"unknown routing key", pagerDutyEvent(t, "trigger.json", "R0000000000000000000000000000000"), http.StatusBadRequest,
			`{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}`, 0},
		{"no routing key", []byte(`{"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`), http.StatusBadRequest,
			`{"status":"invalid event","message":"Event object is invalid","errors":["routing_key: must not be empty"]}`, 0},
		{"bad action with a good key", []byte(`{"routing_key":"` + rcvRoutingKey + `","event_action":"snooze"}`), http.StatusBadRequest,
			`{"status":"invalid event","message":"Event object is invalid","errors":["event_action: must be \"trigger\", \"acknowledge\" or \"resolve\", got \"snooze\""]}`, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newReceiversServer(t)
			rec := s.post("/v2/enqueue", tt.body, nil)
			if rec.Code != tt.status || rec.Body.String() != tt.reply {
				t.Errorf("%d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.reply)
			}
			if got := len(s.stored()); got != tt.stored {
				t.Fatalf("stored %d signals, want %d", got, tt.stored)
			}
			if tt.stored == 0 {
				if got := receivedCount(t, s.reg, signal.SourcePagerDuty, "rejected"); got != 1 {
					t.Errorf("rejected counter %v, want 1", got)
				}
				return
			}
			want, err := ingest.ParsePagerDutyEvent(tt.body, testNow, ingest.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.stored()[0]; !reflect.DeepEqual(got, want.Signal) {
				t.Errorf("stored %+v, want %+v", got, want.Signal)
			}
		})
	}
}

// TestReceiversRetryable passes the store's refusals on as 503 and 429
// with Retry-After, on every route.
func TestReceiversRetryable(t *testing.T) {
	created := ingestFixture(t, "zendesk/created.json")
	requests := []struct {
		path   string
		body   []byte
		header map[string]string
	}{
		{"/ingest/tickets/generic", ingestFixture(t, "tickets-generic/open.json"), bearerHeader(rcvTickets)},
		{"/ingest/tickets/zendesk", created, zendeskHeaders(created, testNow, rcvZendesk)},
		{"/ingest/mentions/x", ingestFixture(t, "x/post.json"), bearerHeader(rcvMentions)},
		{"/ingest/heartbeats/watchdog", nil, bearerHeader(rcvHeartbeats)},
		{"/v2/enqueue", ingestFixture(t, "pagerduty/trigger.json"), nil},
	}
	for _, e := range []struct {
		err    error
		status int
	}{{engine.ErrUnavailable, http.StatusServiceUnavailable}, {engine.ErrOverloaded, http.StatusTooManyRequests}} {
		for _, r := range requests {
			s := newReceiversServer(t)
			s.sink.err = e.err
			rec := s.post(r.path, r.body, r.header)
			if rec.Code != e.status || rec.Header().Get("Retry-After") == "" {
				t.Errorf("%s with %v: %d (Retry-After %q), want %d", r.path, e.err, rec.Code, rec.Header().Get("Retry-After"), e.status)
			}
		}
	}
}

// TestZendeskSecretReloads takes up a new signing secret with SetAuth.
func TestZendeskSecretReloads(t *testing.T) {
	s := newReceiversServer(t)
	body := ingestFixture(t, "zendesk/created.json")
	const next = "receivers-next-signing-secret-07"
	a := s.srv.cfg.Auth
	a.Ingest.Zendesk.SigningSecret = config.NewSecret(next)
	s.srv.SetAuth(a)
	if rec := s.post("/ingest/tickets/zendesk", body, zendeskHeaders(body, testNow, rcvZendesk)); rec.Code != http.StatusUnauthorized {
		t.Errorf("old secret: %d, want 401", rec.Code)
	}
	if rec := s.post("/ingest/tickets/zendesk", body, zendeskHeaders(body, testNow, next)); rec.Code != http.StatusOK {
		t.Errorf("new secret: %d %s, want 200", rec.Code, rec.Body)
	}
}

// TestPagerDutyReplyIsJSON keeps the replies decodable as PagerDuty's.
func TestPagerDutyReplyIsJSON(t *testing.T) {
	s := newReceiversServer(t)
	rec := s.post("/v2/enqueue", ingestFixture(t, "pagerduty/trigger_minimal.json"), nil)
	var reply ingest.PagerDutyReply
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || rec.Code != http.StatusAccepted || reply.DedupKey == "" {
		t.Errorf("%d %s: %v", rec.Code, rec.Body, err)
	}
}
