package slack

import (
	"context"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/notify/slack/slackfake"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

var t0 = time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)

const token = "xoxb-test-token-never-logged"

// testRules: Down on checkout is SEV1 and pages at once; the rest is SEV3.
const testRules = `
services:
  checkout:
    display_name: Checkout
    tier: 1
    team: shop
    escalation_policy: checkout
    matchers: ['{service="checkout"}']
severity:
  rules:
    - {name: down, level: SEV1, when: {match: '{alertname="Down"}'}}
policies:
  SEV1: {page: immediately}
`

// testOnCall: ada is on call for checkout and technical lead, bob the
// incident manager; both have Slack IDs. PAGES is the pages' webhook base.
const testOnCall = `
people:
  ada: {name: Ada, time_zone: UTC, slack: UADA, contact_methods: [{name: push, webhook_configs: [{url: "PAGES/ada"}]}]}
  bob: {name: Bob, time_zone: UTC, slack: UBOB, contact_methods: [{name: push, webhook_configs: [{url: "PAGES/bob"}]}]}
schedules:
  primary:
    time_zone: UTC
    layers: [{name: all, precedence: 1, rotation: {length: weekly, hand_off: "2026-11-01T00:00", participants: [ada]}}]
  managers:
    time_zone: UTC
    layers: [{name: all, precedence: 1, rotation: {length: weekly, hand_off: "2026-11-01T00:00", participants: [bob]}}]
escalation_policies:
  checkout:
    steps: [{escalate_after: 10m, schedules: [primary]}]
    fallback: {name: noc, webhook_configs: [{url: "PAGES/noc"}]}
roles:
  incident_manager: {name: Incident manager, schedule: managers, from_severity: SEV1}
  technical_lead: {name: Technical lead, from_severity: SEV1}
`

// clock is a fake clock that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a Klaxon journal, state and engine on a data directory, with
// a fake clock.
type harness struct {
	t     *testing.T
	dir   string
	clock *clock
	j     *journal.Badger
	eng   *engine.Engine
	state *triage.State
}

// newHarness opens a data directory with the test rules, on-call files
// (pages to pages) and chat rooms for SEV2 and worse, archived an hour
// after resolution.
func newHarness(t *testing.T, pages string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), clock: &clock{now: t0}}
	h.open()
	ctx := context.Background()
	if _, err := h.eng.SetRules(ctx, []rules.File{{Name: "rules.yml", Data: []byte(testRules)}}); err != nil {
		t.Fatal(err)
	}
	files := []oncall.File{{Name: "oncall.yml", Data: []byte(strings.ReplaceAll(testOnCall, "PAGES", pages))}}
	if _, err := h.eng.SetOnCall(ctx, files); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.SetChat(ctx, &triage.ChatSettings{MinSeverity: "SEV2", ArchiveAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	return h
}

// open opens (or reopens, recovering) the data directory.
func (h *harness) open() {
	h.t.Helper()
	h.state = triage.New(nil)
	j, err := journal.OpenBadger(journal.Options{Dir: h.dir, Clock: h.clock.Now, MemTableSize: 1 << 20}, h.state)
	if err != nil {
		h.t.Fatal(err)
	}
	h.j = j
	h.eng = engine.New(j, h.state, engine.Options{Clock: h.clock.Now})
	h.t.Cleanup(func() { _ = j.Close() })
}

// restart closes the journal as a shutdown does and opens it again.
func (h *harness) restart() {
	h.t.Helper()
	if err := h.j.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.open()
}

// crash opens a copy of the data directory taken while the journal is
// open, as a kill -9 leaves it: recovery replays the records after the
// last snapshot. The journal copied from stays open until the test ends.
func (h *harness) crash() {
	h.t.Helper()
	dir := h.t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(h.dir)); err != nil {
		h.t.Fatal(err)
	}
	h.dir = dir
	h.open()
}

func (h *harness) fire(kv ...string) {
	h.t.Helper()
	labels := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		labels[kv[i]] = kv[i+1]
	}
	sig := signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert, Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)),
		Status: signal.StatusFiring, Labels: signal.StringsFrom(labels), StartsAt: t0,
		Annotations: signal.StringsFrom(map[string]string{"dashboard": "https://grafana.example/d/checkout", "runbook_url": "https://runbooks.example/checkout"})}
	if _, err := h.eng.Submit(context.Background(), []signal.Signal{sig}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) act(a triage.Action) {
	h.t.Helper()
	if err := h.eng.Act(context.Background(), a); err != nil {
		h.t.Fatal(err)
	}
}

// tick appends the Tick the engine's timer loop appends when a timer is due.
func (h *harness) tick() {
	h.t.Helper()
	due, ok := h.state.NextDue()
	if !ok || due.After(h.clock.Now()) {
		return
	}
	e := &triage.Entry{Tick: &triage.Tick{Due: due}}
	data, err := triage.Encode(e)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, _, err := h.j.Append(context.Background(), data, e); err != nil {
		h.t.Fatal(err)
	}
}

// worker returns a Slack worker over the harness's state for apiURL.
func (h *harness) worker(apiURL string, sleeps *[]time.Duration) *Worker {
	h.t.Helper()
	w, err := New(h.state, h.eng, Options{
		Token: token, APIURL: apiURL, VideoBridge: "https://meet.example/{{.Key}}",
		ExternalURL: &url.URL{Scheme: "https", Host: "klaxon.example"}, StatusPage: "https://status.example",
		Clock: h.clock.Now, Timeout: 5 * time.Second,
		Sleep: func(_ context.Context, d time.Duration) error {
			if sleeps != nil {
				*sleeps = append(*sleeps, d)
			}
			return nil
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return w
}

// drain has w carry out every chat intent due now, as Run's scans do.
func drain(t *testing.T, w *Worker) {
	t.Helper()
	for range 100 {
		if len(w.src.DueChatIntents(w.opts.Clock(), 1)) == 0 {
			return
		}
		if _, ok := w.scan(context.Background()); !ok {
			t.Fatal("scan stopped")
		}
	}
	t.Fatal("chat intents keep coming")
}

// fake starts a fake Slack knowing ada and bob.
func fake(t *testing.T) *slackfake.Server {
	t.Helper()
	f := slackfake.New(token, nil, "UADA", "UBOB")
	t.Cleanup(f.Close)
	return f
}

// pendingChat lists the IDs of the chat intents still pending, with their
// attempts and last error.
func pendingChat(s *triage.State) []triage.Intent {
	return s.DueChatIntents(t0.Add(1000*time.Hour), 1000)
}
