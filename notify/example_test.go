package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/config"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/triage"
)

// oneIntent is a Source holding a single intent until it is delivered.
type oneIntent struct {
	mu   sync.Mutex
	in   *triage.Intent
	done chan triage.Delivery
}

func (s *oneIntent) DueIntents(now time.Time, limit int) []triage.Intent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.in == nil || s.in.Due.After(now) || limit == 0 {
		return nil
	}
	return []triage.Intent{*s.in}
}

func (s *oneIntent) NextIntentDue() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.in == nil {
		return time.Time{}, false
	}
	return s.in.Due, true
}

// Deliver plays the engine: it would journal the report and apply it.
func (s *oneIntent) Deliver(_ context.Context, d triage.Delivery) error {
	s.mu.Lock()
	s.in = nil
	s.mu.Unlock()
	s.done <- d
	return nil
}

func Example() {
	// A webhook receiver, as an on-call team would run one.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			GroupKey string `json:"groupKey"`
		}
		json.NewDecoder(r.Body).Decode(&msg)
		fmt.Println("receiver got page", msg.GroupKey)
	}))
	defer hook.Close()

	// Receivers are written as in alertmanager.yml.
	cfg, err := config.Load(fmt.Sprintf(`
route: {receiver: alice-phone}
receivers:
- name: alice-phone
  webhook_configs:
  - url: %s
`, hook.URL))
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	src := &oneIntent{done: make(chan triage.Delivery, 1), in: &triage.Intent{
		ID: "INC-7/page/0/0/alice", Kind: triage.IntentPage, Incident: "INC-7", Person: "alice",
		Receiver: "alice-phone", Due: now,
		Message: triage.Message{Key: "INC-7", Title: "Checkout down", Severity: "SEV1"},
	}}
	external, _ := url.Parse("https://klaxon.example")
	d, err := notify.New(src, src, notify.Options{
		Receivers:   map[string]*config.Receiver{"alice-phone": &cfg.Receivers[0]},
		ExternalURL: external,
		Clock:       func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	d.Wake()
	del := <-src.done
	fmt.Printf("delivery: intent %s attempt %d ok %v\n", del.Intent, del.Attempt, del.OK)
	// Output:
	// receiver got page INC-7/page/0/0/alice
	// delivery: intent INC-7/page/0/0/alice attempt 1 ok true
}
