package notify

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/config"
	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/klaxonhq/klaxon/triage"
)

// webhookPayload is the part of Alertmanager's webhook message the tests read.
type webhookPayload struct {
	Receiver    string            `json:"receiver"`
	GroupKey    string            `json:"groupKey"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// hook is an httptest receiver that answers with the next status in line
// (the last one repeats) and hands each payload to the test.
type hook struct {
	*httptest.Server
	statuses []int
	body     string
	calls    atomic.Int64
	got      chan []byte
}

func newHook(t testing.TB, body string, statuses ...int) *hook {
	t.Helper()
	h := &hook{statuses: statuses, body: body, got: make(chan []byte, 100)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n := int(h.calls.Add(1))
		h.got <- b
		w.WriteHeader(h.statuses[min(n, len(h.statuses))-1])
		io.WriteString(w, h.body)
	}))
	t.Cleanup(h.Close)
	return h
}

func webhookYAML(name string, urls ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- name: %s\n  webhook_configs:\n", name)
	for _, u := range urls {
		fmt.Fprintf(&b, "  - url: %s\n", u)
	}
	return b.String()
}

type fixture struct {
	clock *clock
	box   *outbox
	rec   *recorder
	d     *Dispatcher
	reg   *prometheus.Registry
}

func newFixture(t testing.TB, rcv map[string]*config.Receiver, opts Options, intents ...triage.Intent) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{now: t0}, reg: prometheus.NewRegistry()}
	f.box = newOutbox(f.clock.Now, intents...)
	f.rec = newRecorder(f.box)
	opts.Receivers = rcv
	opts.Clock = f.clock.Now
	opts.Registerer = f.reg
	opts.ExternalURL = mustURL(t, "https://klaxon.example/base")
	opts.AckSigner = signer(t)
	opts.Sweep = cmpOrDuration(opts.Sweep, time.Hour) // scans come from Wake, not from the clock
	d, err := New(f.box, f.rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	return f
}

func cmpOrDuration(a, b time.Duration) time.Duration {
	if a != 0 {
		return a
	}
	return b
}

func TestWebhookPageCarriesIntentAndAckLink(t *testing.T) {
	h := newHook(t, "", http.StatusOK)
	f := newFixture(t, receivers(t, webhookYAML("alice-hook", h.URL)), Options{}, page("INC-42/page/0/0/alice/alice-hook", "alice-hook", t0))
	run(t, f.d)

	var p webhookPayload
	if err := json.Unmarshal(<-h.got, &p); err != nil {
		t.Fatal(err)
	}
	del := <-f.rec.got
	if want := (triage.Delivery{Intent: "INC-42/page/0/0/alice/alice-hook", Attempt: 1, OK: true}); del != want {
		t.Fatalf("delivery = %+v, want %+v", del, want)
	}
	if p.GroupKey != "INC-42/page/0/0/alice/alice-hook" || p.Receiver != "alice-hook" {
		t.Fatalf("groupKey %q receiver %q", p.GroupKey, p.Receiver)
	}
	if p.GroupLabels["intent"] != p.GroupKey || p.GroupLabels["incident"] != "INC-42" {
		t.Fatalf("group labels %v", p.GroupLabels)
	}
	if len(p.Alerts) != 1 {
		t.Fatalf("%d alerts", len(p.Alerts))
	}
	a := p.Alerts[0]
	wantLabels := map[string]string{"alertname": "API down", "incident": "INC-42", "severity": "SEV1", "service": "api", "person": "alice", "team": "core"}
	if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) || a.Status != "firing" {
		t.Fatalf("labels %v status %s, want %v firing", a.Labels, a.Status, wantLabels)
	}
	if a.Annotations["summary"] != "API down" || a.Annotations["description"] != "rule api-down: 5 alerts on api" ||
		a.Annotations["incident_url"] != "https://klaxon.example/base/api/v1/incidents/INC-42" {
		t.Fatalf("annotations %v", a.Annotations)
	}
	token, ok := strings.CutPrefix(a.Annotations["ack_url"], "https://klaxon.example/base/ack/")
	if !ok {
		t.Fatalf("ack_url %q", a.Annotations["ack_url"])
	}
	c, err := signer(t).Verify(token, t0)
	if err != nil || c.Incident != "INC-42" || c.Person != "alice" || !c.Expires.Equal(t0.Add(DefaultAckTTL)) {
		t.Fatalf("ack token verifies as %+v, %v", c, err)
	}
	if f.box.pending() != 0 {
		t.Fatal("the intent is still pending")
	}
}

// TestOutcomes: what one attempt reports for each way a receiver answers.
func TestOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		statuses  [][]int // per webhook of the receiver
		ok, retry bool
		errHas    []string
	}{
		{"200", [][]int{{200}}, true, false, nil},
		{"500 is retried", [][]int{{500}}, false, true, []string{"webhook[0]", "500"}},
		{"503 is retried", [][]int{{503}}, false, true, []string{"503"}},
		{"400 is not retried", [][]int{{400}}, false, false, []string{"400"}},
		{"404 is not retried", [][]int{{404}}, false, false, []string{"404"}},
		{"one of two took it", [][]int{{500}, {200}}, true, false, nil},
		{"both failed, one may pass", [][]int{{400}, {500}}, false, true, []string{"webhook[0]", "webhook[1]", "400", "500"}},
		{"both failed for good", [][]int{{400}, {403}}, false, false, []string{"400", "403"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var urls []string
			for _, s := range tt.statuses {
				urls = append(urls, newHook(t, "nope", s...).URL)
			}
			f := newFixture(t, receivers(t, webhookYAML("r", urls...)), Options{}, page("p1", "r", t0))
			run(t, f.d)
			del := <-f.rec.got
			if del.OK != tt.ok || del.Retry != tt.retry || del.Attempt != 1 {
				t.Fatalf("delivery %+v, want ok=%v retry=%v", del, tt.ok, tt.retry)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(del.Error, s) {
					t.Errorf("error %q lacks %q", del.Error, s)
				}
			}
			if tt.ok && del.Error != "" {
				t.Errorf("a delivered page carries error %q", del.Error)
			}
		})
	}
}

func TestUnknownAndEmptyReceivers(t *testing.T) {
	rcv := receivers(t, "- name: silent\n")
	f := newFixture(t, rcv, Options{}, page("a", "nobody", t0), page("b", "silent", t0))
	run(t, f.d)
	got := map[string]triage.Delivery{}
	for range 2 {
		del := <-f.rec.got
		got[del.Intent] = del
	}
	want := map[string]triage.Delivery{
		"a": {Intent: "a", Attempt: 1, Error: `no receiver "nobody"`},
		"b": {Intent: "b", Attempt: 1, Error: `receiver "silent" has no integrations`},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
}

// TestServerErrorRetriedLater: a 500 is reported retryable, the retry
// waits for its due time, and the second attempt gets through.
func TestServerErrorRetriedLater(t *testing.T) {
	h := newHook(t, "", http.StatusInternalServerError, http.StatusOK)
	f := newFixture(t, receivers(t, webhookYAML("r", h.URL)), Options{}, page("p1", "r", t0))
	run(t, f.d)
	if del := <-f.rec.got; del.OK || !del.Retry || del.Attempt != 1 {
		t.Fatalf("first delivery %+v", del)
	}
	waitScan(t, f.d, f.box)
	if n := h.calls.Load(); n != 1 {
		t.Fatalf("%d calls before the retry was due", n)
	}
	f.clock.Add(10 * time.Second)
	f.d.Wake()
	if del := <-f.rec.got; !del.OK || del.Attempt != 2 {
		t.Fatalf("second delivery %+v", del)
	}
	var p webhookPayload
	<-h.got
	if err := json.Unmarshal(<-h.got, &p); err != nil || p.GroupKey != "p1" {
		t.Fatalf("retry carried groupKey %q (%v)", p.GroupKey, err)
	}
	if h.calls.Load() != 2 || f.box.pending() != 0 {
		t.Fatalf("%d calls, %d pending", h.calls.Load(), f.box.pending())
	}
}

// hanger is a receiver that never answers until released.
type hanger struct {
	*httptest.Server
	entered chan struct{}
	release chan struct{}
}

func newHanger(t *testing.T) *hanger {
	t.Helper()
	h := &hanger{entered: make(chan struct{}, 100), release: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.entered <- struct{}{}
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(h.release)
		h.Close()
	})
	return h
}

// TestHangingReceiverDelaysNobodyElse: pages to a receiver that hangs fill
// its workers and its queue; a healthy receiver's page, due after all of
// them, still arrives while the hanging one is blocked.
func TestHangingReceiverDelaysNobodyElse(t *testing.T) {
	hang := newHanger(t)
	ok := newHook(t, "", http.StatusOK)
	var intents []triage.Intent
	for i := range 5 {
		intents = append(intents, page(fmt.Sprintf("hang-%d", i), "hang", t0))
	}
	intents = append(intents, page("zz-ok", "ok", t0.Add(time.Second)))
	f := newFixture(t, receivers(t, webhookYAML("hang", hang.URL)+webhookYAML("ok", ok.URL)),
		Options{Workers: 2, QueueSize: 1, Batch: 1, Timeout: time.Hour}, intents...)
	f.clock.Add(time.Second)
	run(t, f.d)
	<-hang.entered
	<-hang.entered
	<-ok.got
	if del := <-f.rec.got; del.Intent != "zz-ok" || !del.OK {
		t.Fatalf("delivery %+v", del)
	}
	select {
	case del := <-f.rec.got:
		t.Fatalf("a hanging page was reported: %+v", del)
	default:
	}
	select {
	case <-hang.entered:
		t.Fatal("a third page reached the hanging receiver past its two blocked workers")
	default:
	}
}

// TestTimeoutIsRetryable: a receiver that does not answer within the
// timeout fails the attempt as worth retrying.
func TestTimeoutIsRetryable(t *testing.T) {
	hang := newHanger(t)
	f := newFixture(t, receivers(t, webhookYAML("hang", hang.URL)), Options{Timeout: 20 * time.Millisecond}, page("p1", "hang", t0))
	run(t, f.d)
	del := <-f.rec.got
	if del.OK || !del.Retry || !strings.Contains(del.Error, "no answer within 20ms") {
		t.Fatalf("delivery %+v", del)
	}
	if got := testutil.ToFloat64(f.d.metrics.failed.WithLabelValues("webhook", "contextDeadlineExceeded")); got != 1 {
		t.Fatalf("failed{contextDeadlineExceeded} = %v", got)
	}
}

// TestReportFailureNeverResends: while the store refuses the report, the
// intent stays in flight and is not sent again; once stored, it settles.
func TestReportFailureNeverResends(t *testing.T) {
	h := newHook(t, "", http.StatusOK)
	f := newFixture(t, receivers(t, webhookYAML("r", h.URL)), Options{ReportRetry: time.Millisecond}, page("p1", "r", t0))
	refused := make(chan struct{}, 100)
	var down atomic.Bool
	down.Store(true)
	f.rec.fail = func(triage.Delivery) error {
		if down.Load() {
			refused <- struct{}{}
			return fmt.Errorf("journal unavailable")
		}
		return nil
	}
	run(t, f.d)
	<-h.got
	<-refused
	waitScan(t, f.d, f.box)
	<-refused
	if n := h.calls.Load(); n != 1 {
		t.Fatalf("sent %d times while the report was refused", n)
	}
	down.Store(false)
	if del := <-f.rec.got; !del.OK {
		t.Fatalf("delivery %+v", del)
	}
	settle(t, f)
	if h.calls.Load() != 1 || f.box.pending() != 0 {
		t.Fatalf("%d calls, %d pending, %d in flight", h.calls.Load(), f.box.pending(), f.d.InFlight())
	}
}

// TestReportedButNotAppliedIsNotResent: between a report being stored and
// being applied the state still lists the attempt; it is not taken again,
// and is forgotten once the state lets it go.
func TestReportedButNotAppliedIsNotResent(t *testing.T) {
	h := newHook(t, "", http.StatusOK)
	f := newFixture(t, receivers(t, webhookYAML("r", h.URL)), Options{}, page("p1", "r", t0))
	f.rec.holdApply = true
	run(t, f.d)
	del := <-f.rec.got
	waitScan(t, f.d, f.box)
	if h.calls.Load() != 1 || f.d.InFlight() != 1 {
		t.Fatalf("%d calls, %d in flight", h.calls.Load(), f.d.InFlight())
	}
	f.box.apply(del)
	settle(t, f)
	if h.calls.Load() != 1 {
		t.Fatalf("%d calls, %d in flight after applying", h.calls.Load(), f.d.InFlight())
	}
}

// TestNewIntentGoesOutOnWake: an intent added after the dispatcher went
// idle goes out on Wake, without waiting for the sweep.
func TestNewIntentGoesOutOnWake(t *testing.T) {
	h := newHook(t, "", http.StatusOK)
	f := newFixture(t, receivers(t, webhookYAML("r", h.URL)), Options{Sweep: 24 * time.Hour})
	run(t, f.d)
	waitScan(t, f.d, f.box)
	f.box.add(page("late", "r", t0))
	f.d.Wake()
	if del := <-f.rec.got; del.Intent != "late" || !del.OK {
		t.Fatalf("delivery %+v", del)
	}
}

// TestSlackIncomingWebhook: Alertmanager's Slack notifier posting to an
// incoming-webhook URL, answered the way Slack documents it.
func TestSlackIncomingWebhook(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		ok, retry bool
	}{
		{"ok", 200, "ok", true, false},
		{"invalid_payload", 400, "invalid_payload", false, false},
		{"channel_not_found", 404, "channel_not_found", false, false},
		{"channel_is_archived", 410, "channel_is_archived", false, false},
		{"rate limited", 429, "rate_limited", false, true},
		{"rollup_error", 500, "rollup_error", false, true},
		{"200 but not ok", 200, "no_text", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHook(t, tt.body, tt.status)
			rcv := receivers(t, fmt.Sprintf("- name: slack\n  slack_configs:\n  - api_url: %s/services/T0/B0/X\n    channel: '#incidents'\n", h.URL))
			f := newFixture(t, rcv, Options{}, page("p1", "slack", t0))
			run(t, f.d)
			var msg struct {
				Channel     string `json:"channel"`
				Attachments []struct {
					Title string `json:"title"`
				} `json:"attachments"`
			}
			if err := json.Unmarshal(<-h.got, &msg); err != nil {
				t.Fatal(err)
			}
			if msg.Channel != "#incidents" || len(msg.Attachments) != 1 || !strings.Contains(msg.Attachments[0].Title, "API down") {
				t.Fatalf("slack message %+v", msg)
			}
			del := <-f.rec.got
			if del.OK != tt.ok || del.Retry != tt.retry {
				t.Fatalf("delivery %+v, want ok=%v retry=%v", del, tt.ok, tt.retry)
			}
			if !tt.ok && !strings.Contains(del.Error, tt.body) {
				t.Fatalf("error %q lacks Slack's %q", del.Error, tt.body)
			}
			if strings.Contains(del.Error, "/services/") {
				t.Fatalf("error %q holds the secret webhook URL", del.Error)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	good, bad := newHook(t, "", 200), newHook(t, "", 500)
	f := newFixture(t, receivers(t, webhookYAML("r", good.URL, bad.URL)), Options{}, page("p1", "r", t0))
	run(t, f.d)
	<-f.rec.got
	want := `
# HELP klaxon_notifications_failed_total The total number of failed notifications.
# TYPE klaxon_notifications_failed_total counter
klaxon_notifications_failed_total{integration="webhook",reason="serverError"} 1
# HELP klaxon_notifications_total The total number of attempted notifications.
# TYPE klaxon_notifications_total counter
klaxon_notifications_total{integration="webhook"} 2
`
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), "klaxon_notifications_total", "klaxon_notifications_failed_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(f.reg, "klaxon_notification_latency_seconds"); n != 1 {
		t.Fatalf("%d latency series", n)
	}
}

// TestReceiverWithoutHTTPConfig: a receiver built in code, without the
// http_config Alertmanager's loader fills in, still delivers, and the
// caller's configuration is left as it was.
func TestReceiverWithoutHTTPConfig(t *testing.T) {
	h := newHook(t, "", 200)
	wh := &webhook.WebhookConfig{}
	wh.URL = amcommoncfg.SecretTemplateURL(h.URL)
	rcv := map[string]*config.Receiver{"r": {Name: "r", WebhookConfigs: []*webhook.WebhookConfig{wh}}}
	f := newFixture(t, rcv, Options{}, page("p1", "r", t0))
	run(t, f.d)
	if del := <-f.rec.got; !del.OK {
		t.Fatalf("delivery %+v", del)
	}
	if wh.HTTPConfig != nil {
		t.Fatal("the caller's webhook config was changed")
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	box := newOutbox((&clock{now: t0}).Now)
	rec := newRecorder(box)
	bad := filepath.Join(t.TempDir(), "bad.tmpl")
	if err := os.WriteFile(bad, []byte(`{{ define "x" }}{{ .Oops`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  Source
		rec  Recorder
		opts Options
	}{
		{"no source", nil, rec, Options{}},
		{"no recorder", box, nil, Options{}},
		{"nil receiver", box, rec, Options{Receivers: map[string]*config.Receiver{"x": nil}}},
		{"broken template", box, rec, Options{Templates: []string{bad}}},
		{"receiver that does not build", box, rec, Options{Receivers: receivers(t, webhookYAML("r", "http://127.0.0.1:1")+"    http_config:\n      tls_config:\n        ca_file: /nonexistent/ca.pem\n")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.src, tt.rec, tt.opts); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestPagerDutyDedupKeyIsIntent: PagerDuty's dedup_key is the hash of the
// intent ID, so a page sent again after a crash is one alert there.
func TestPagerDutyDedupKeyIsIntent(t *testing.T) {
	h := newHook(t, `{"status":"success","message":"Event processed","dedup_key":"x"}`, http.StatusAccepted)
	rcv := receivers(t, fmt.Sprintf("- name: pd\n  pagerduty_configs:\n  - routing_key: secret-routing-key\n    url: %s/v2/enqueue\n", h.URL))
	f := newFixture(t, rcv, Options{}, page("INC-42/page/1/0/bob/pd", "pd", t0))
	run(t, f.d)
	var ev struct {
		DedupKey    string `json:"dedup_key"`
		EventAction string `json:"event_action"`
		RoutingKey  string `json:"routing_key"`
	}
	if err := json.Unmarshal(<-h.got, &ev); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256([]byte("INC-42/page/1/0/bob/pd"))); ev.DedupKey != want || ev.EventAction != "trigger" {
		t.Fatalf("event %+v, want dedup_key %s", ev, want)
	}
	if del := <-f.rec.got; !del.OK {
		t.Fatalf("delivery %+v", del)
	}
}

// TestFinalMessageIsWordedByFinalText: a final-message intent carries the
// words FinalText gives it, no ack link, and message="final"; words that
// cannot be rendered fail the delivery for good, without a request.
func TestFinalMessageIsWordedByFinalText(t *testing.T) {
	final := func(id string) triage.Intent {
		in := page(id, "announce", t0)
		in.Kind, in.Person = triage.IntentFinal, ""
		return in
	}
	words := func(in triage.Intent) (string, string, error) {
		if in.ID == "broken" {
			return "", "", fmt.Errorf("template resolved.body: boom")
		}
		return "Resolved: api (INC-42)", "Pages sent: 3. No further messages will follow.", nil
	}
	tests := []struct {
		id      string
		summary string
		desc    string
		err     string
	}{
		{"INC-42/final/1/announce", "Resolved: api (INC-42)", "Pages sent: 3. No further messages will follow.", ""},
		{"broken", "", "", "word the final message: template resolved.body: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			h := newHook(t, "", http.StatusOK)
			f := newFixture(t, receivers(t, webhookYAML("announce", h.URL)), Options{FinalText: words}, final(tt.id))
			run(t, f.d)
			del := <-f.rec.got
			if tt.err != "" {
				if del.OK || del.Retry || del.Error != tt.err || h.calls.Load() != 0 {
					t.Fatalf("delivery %+v after %d requests, want a final failure %q and none", del, h.calls.Load(), tt.err)
				}
				return
			}
			var p webhookPayload
			if err := json.Unmarshal(<-h.got, &p); err != nil {
				t.Fatal(err)
			}
			a := p.Alerts[0]
			if !del.OK || p.GroupKey != tt.id || a.Annotations["summary"] != tt.summary || a.Annotations["description"] != tt.desc ||
				a.Annotations["ack_url"] != "" || a.Labels["message"] != "final" {
				t.Fatalf("delivery %+v, payload %+v", del, p)
			}
		})
	}
}

// TestUnreportedDeliveryIsNotSentAgain: a dispatcher stopped while the
// store refuses the report of a page it delivered (its leadership lost)
// keeps the delivery; the next dispatcher over the same Unreported stores
// the report and never sends the page again.
func TestUnreportedDeliveryIsNotSentAgain(t *testing.T) {
	h := newHook(t, "", http.StatusOK)
	kept := &Unreported{}
	f := newFixture(t, receivers(t, webhookYAML("r", h.URL)), Options{ReportRetry: time.Millisecond, Unreported: kept}, page("p1", "r", t0))
	var down atomic.Bool
	down.Store(true)
	refused := make(chan struct{}, 100)
	f.rec.fail = func(triage.Delivery) error {
		if down.Load() {
			refused <- struct{}{}
			return fmt.Errorf("not the leader")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.d.Run(ctx) }()
	<-h.got
	<-refused
	cancel()
	<-done
	if kept.Len() != 1 || f.box.pending() != 1 {
		t.Fatalf("after the first dispatcher: %d kept, %d pending", kept.Len(), f.box.pending())
	}

	down.Store(false)
	next, err := New(f.box, f.rec, f.d.opts)
	if err != nil {
		t.Fatal(err)
	}
	run(t, next)
	if del := <-f.rec.got; !del.OK || del.Intent != "p1" || del.Attempt != 1 {
		t.Fatalf("delivery %+v", del)
	}
	settle(t, &fixture{d: next, box: f.box})
	if n := h.calls.Load(); n != 1 || f.box.pending() != 0 || kept.Len() != 0 {
		t.Fatalf("sent %d times; %d pending, %d kept", n, f.box.pending(), kept.Len())
	}
}

// TestDrainFinishesThePagesUnderWay: a drained dispatcher takes nothing
// more, and returns only once the page it is sending is answered and its
// delivery reported; the page queued behind it is left to the next one.
func TestDrainFinishesThePagesUnderWay(t *testing.T) {
	entered, release := make(chan struct{}, 10), make(chan struct{})
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		entered <- struct{}{}
		<-release
	}))
	defer srv.Close()
	f := newFixture(t, receivers(t, webhookYAML("r", srv.URL)), Options{Workers: 1, Timeout: time.Hour},
		page("first", "r", t0), page("second", "r", t0))
	done := make(chan struct{})
	go func() { defer close(done); f.d.Run(context.Background()) }()
	<-entered
	waitScan(t, f.d, f.box) // the second page waits in the queue
	f.d.Drain()
	select {
	case <-done:
		t.Fatal("Run returned with a page under way")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-done
	if del := <-f.rec.got; del.Intent != "first" || !del.OK {
		t.Fatalf("delivery %+v", del)
	}
	if n := calls.Load(); n != 1 || f.box.pending() != 1 {
		t.Fatalf("after the drain: %d pages sent, %d pending; want the second one left", n, f.box.pending())
	}
}
