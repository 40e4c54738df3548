package resolution

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// hook is a webhook receiver, as a team would run one: it records every
// notification it gets, by path.
type hook struct {
	mu   sync.Mutex
	got  map[string][]webhookMessage
	srv  *httptest.Server
	seen chan struct{}
}

// webhookMessage is what Alertmanager's webhook sends, as far as the test reads it.
type webhookMessage struct {
	GroupKey string `json:"groupKey"`
	Alerts   []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

func newHook(t *testing.T) *hook {
	h := &hook{got: map[string][]webhookMessage{}, seen: make(chan struct{}, 100)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhookMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.got[r.URL.Path] = append(h.got[r.URL.Path], m)
		h.mu.Unlock()
		h.seen <- struct{}{}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) messages(path string) []webhookMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhookMessage(nil), h.got[path]...)
}

// wait waits for the receiver to have n messages at path (a bound, not a
// timing: the test fails only if they never come).
func (h *hook) wait(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for len(h.messages(path)) < n {
		select {
		case <-h.seen:
		case <-deadline:
			t.Fatalf("%s got %d messages, want %d", path, len(h.messages(path)), n)
		}
	}
}

// clock is a settable clock for the journal, the engine and the workers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// klaxon is an engine over a journal with its delivery workers running.
type klaxon struct {
	eng  *engine.Engine
	stop func()
}

// start runs the engine's timer loop and the delivery workers over the
// receivers of the on-call files in force, wording final messages with r.
func start(t *testing.T, j journal.Journal, state *triage.State, clk *clock, r *Renderer) *klaxon {
	t.Helper()
	eng := engine.New(j, state, engine.Options{Clock: clk.Now})
	cfg, _ := state.OnCall()
	if cfg == nil {
		t.Fatal("no on-call files in force")
	}
	d, err := notify.New(state, eng, notify.Options{Receivers: cfg.Receivers(), Clock: clk.Now, FinalText: r.Intent})
	if err != nil {
		t.Fatal(err)
	}
	eng.OnApplied(d.Wake)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { eng.Run(ctx) })
	wg.Go(func() { d.Run(ctx) })
	return &klaxon{eng: eng, stop: func() { cancel(); wg.Wait() }}
}

// append journals e at at through the engine, as the API and ingest do.
func (k *klaxon) append(t *testing.T, clk *clock, at time.Time, e *triage.Entry) {
	t.Helper()
	clk.set(at)
	ctx := context.Background()
	var err error
	switch {
	case e.Rules != nil:
		_, err = k.eng.SetRules(ctx, e.Rules.Files)
	case e.OnCall != nil:
		_, err = k.eng.SetOnCall(ctx, e.OnCall.Files)
	case len(e.Signals) > 0:
		_, err = k.eng.Submit(ctx, e.Signals)
	case e.Action != nil:
		err = k.eng.Act(ctx, *e.Action)
	default:
		t.Fatalf("cannot append %+v", e)
	}
	if err != nil {
		t.Fatalf("at %s: %v", at, err)
	}
}

// journals are the two ways Klaxon comes back after a restart: replaying
// every record (the in-memory journal reopened, as after a crash before
// any snapshot), and restoring badger's snapshot after a clean shutdown.
var journals = []struct {
	name   string
	open   func(t *testing.T, dir string, state *triage.State, clk *clock) journal.Journal
	reopen func(t *testing.T, old journal.Journal, dir string, state *triage.State, clk *clock) journal.Journal
}{
	{"replay", func(_ *testing.T, _ string, state *triage.State, clk *clock) journal.Journal {
		return journal.NewMemory(state, clk.Now)
	}, func(_ *testing.T, old journal.Journal, _ string, state *triage.State, _ *clock) journal.Journal {
		return old.(*journal.Memory).Reopen(state)
	}},
	{"badger snapshot", openBadger, func(t *testing.T, _ journal.Journal, dir string, state *triage.State, clk *clock) journal.Journal {
		return openBadger(t, dir, state, clk)
	}},
}

func openBadger(t *testing.T, dir string, state *triage.State, clk *clock) journal.Journal {
	t.Helper()
	j, err := journal.OpenBadger(journal.Options{Dir: dir, Clock: clk.Now, MemTableSize: 1 << 20}, state)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestResolveDeliversTheFinalMessageOnce drives an incident's life through
// the engine with the delivery workers running against a real webhook
// receiver: the resolution decides exactly one final message, the receiver
// gets it once, worded by the templates, and after a restart nothing is
// sent again, while the next incident's final message still goes out.
func TestResolveDeliversTheFinalMessageOnce(t *testing.T) {
	for _, jk := range journals {
		t.Run(jk.name, func(t *testing.T) {
			h := newHook(t)
			r, err := New("", "en", time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			dir, clk := t.TempDir(), &clock{now: t0}
			state := triage.New(nil)
			j := jk.open(t, dir, state, clk)
			// Rules and on-call files go in before the workers start, as
			// serve journals them at start-up.
			k := &klaxon{eng: engine.New(j, state, engine.Options{Clock: clk.Now}), stop: func() {}}
			for _, e := range life(h.srv.URL) {
				switch {
				case e.entry == deliverPages:
					h.wait(t, "/page", 1)
					waitFor(t, "the page's delivery report", func() bool {
						d, _ := state.Get("INC-1", 0, 0)
						return d.FirstPaged != nil
					})
				case e.entry.OnCall != nil:
					k.append(t, clk, e.at, e.entry)
					k = start(t, j, state, clk, r)
				default:
					k.append(t, clk, e.at, e.entry)
				}
			}
			h.wait(t, "/announce", 1)
			waitSettled(t, state, "INC-1/final/1/announce")
			k.stop()
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}

			got := h.messages("/announce")
			if len(got) != 1 || got[0].GroupKey != "INC-1/final/1/announce" || len(got[0].Alerts) != 1 {
				t.Fatalf("the receiver got %+v, want the one final message of INC-1", got)
			}
			body := got[0].Alerts[0].Annotations["description"]
			want, _ := New("", "en", time.UTC)
			d, _ := state.Get("INC-1", 0, 0)
			_, wantBody, _ := want.Render(d.Figures)
			if body != wantBody || got[0].Alerts[0].Labels["message"] != "final" {
				t.Errorf("the receiver got\n%s\nwant\n%s", body, wantBody)
			}
			if !strings.Contains(body, "Pages sent: 1.") || !strings.Contains(body, "Support tickets: 37.") {
				t.Errorf("the final message lacks its figures:\n%s", body)
			}

			// Restart: the state comes back from the journal, and the
			// delivery workers find nothing left to send for INC-1.
			state2 := triage.New(nil)
			clk.set(t0.Add(3 * time.Hour))
			j2 := jk.reopen(t, j, dir, state2, clk)
			defer j2.Close()
			for _, in := range state2.DueIntents(t0.Add(24*time.Hour), 100) {
				t.Errorf("after the restart, intent %s is pending again", in.ID)
			}
			k2 := start(t, j2, state2, clk, r)
			defer k2.stop()
			again := signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert, Status: signal.StatusFiring,
				Labels: signal.StringsFrom(map[string]string{"alertname": "Down", "service": "checkout", "instance": "b"}), StartsAt: t0.Add(3 * time.Hour)}
			again.Fingerprint = signal.Fingerprint(again.Labels)
			k2.append(t, clk, t0.Add(3*time.Hour), &triage.Entry{Signals: []signal.Signal{again}})
			h.wait(t, "/page", 2) // the workers have scanned the state since the restart
			k2.append(t, clk, t0.Add(4*time.Hour), &triage.Entry{Action: &triage.Action{Kind: triage.ActionResolve, Incident: "INC-2", By: "ben"}})
			h.wait(t, "/announce", 2)
			waitSettled(t, state2, "INC-2/final/1/announce")
			var keys []string
			for _, m := range h.messages("/announce") {
				keys = append(keys, m.GroupKey)
			}
			if fmt.Sprint(keys) != "[INC-1/final/1/announce INC-2/final/1/announce]" {
				t.Errorf("final messages received: %v, want INC-1's once and INC-2's once", keys)
			}
		})
	}
}

// waitSettled waits until the state records final-message intent id as
// delivered.
func waitSettled(t *testing.T, state *triage.State, id string) {
	t.Helper()
	key, _, _ := strings.Cut(id, "/")
	waitFor(t, id+" settled", func() bool {
		d, _ := state.Get(key, 0, 0)
		for _, e := range d.Timeline {
			if e.Kind == triage.EventFinal && strings.HasPrefix(e.Message, "final message sent") {
				return true
			}
		}
		return false
	})
}

// waitFor polls cond until it holds (a bound, not a timing: the test
// fails only if it never does).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
	}
}
