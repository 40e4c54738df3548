package notify

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/config"

	"github.com/klaxonhq/klaxon/acklink"
	"github.com/klaxonhq/klaxon/triage"
)

var t0 = time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)

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

// outbox is a fake Source that settles intents the way triage does: a
// success or a final failure removes the intent, a retryable failure bumps
// its attempts and makes it due 10s later.
type outbox struct {
	mu      sync.Mutex
	now     func() time.Time
	intents map[string]*triage.Intent
	scans   chan struct{} // a signal at the start of every scan
}

func newOutbox(now func() time.Time, intents ...triage.Intent) *outbox {
	o := &outbox{now: now, intents: make(map[string]*triage.Intent), scans: make(chan struct{}, 10000)}
	for _, in := range intents {
		o.add(in)
	}
	return o
}

func (o *outbox) add(in triage.Intent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.intents[in.ID] = &in
}

func (o *outbox) DueIntents(now time.Time, limit int) []triage.Intent {
	o.mu.Lock()
	defer o.mu.Unlock()
	var due []triage.Intent
	for _, in := range o.intents {
		if !in.Due.After(now) {
			due = append(due, *in)
		}
	}
	slices.SortFunc(due, func(a, b triage.Intent) int { return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID)) })
	return due[:min(len(due), limit)]
}

func (o *outbox) NextIntentDue() (time.Time, bool) {
	o.scans <- struct{}{}
	o.mu.Lock()
	defer o.mu.Unlock()
	var next time.Time
	for _, in := range o.intents {
		if next.IsZero() || in.Due.Before(next) {
			next = in.Due
		}
	}
	return next, !next.IsZero()
}

func (o *outbox) apply(d triage.Delivery) {
	o.mu.Lock()
	defer o.mu.Unlock()
	in := o.intents[d.Intent]
	if in == nil || d.Attempt != in.Attempts+1 {
		return
	}
	if d.OK || !d.Retry {
		delete(o.intents, d.Intent)
		return
	}
	in.Attempts++
	in.Error = d.Error
	in.Due = o.now().Add(10 * time.Second)
}

func (o *outbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.intents)
}

// recorder is a fake Recorder: it hands each stored report to the test and
// applies it to the outbox, unless fail says the store is down.
type recorder struct {
	box       *outbox
	fail      func(triage.Delivery) error
	holdApply bool // store the report but leave applying it to the test
	got       chan triage.Delivery
}

func newRecorder(box *outbox) *recorder {
	return &recorder{box: box, got: make(chan triage.Delivery, 1000)}
}

func (r *recorder) Deliver(_ context.Context, d triage.Delivery) error {
	if r.fail != nil {
		if err := r.fail(d); err != nil {
			return err
		}
	}
	if !r.holdApply {
		r.box.apply(d)
	}
	r.got <- d
	return nil
}

// waitScan waits until a scan that starts after the call has finished:
// it wakes the dispatcher twice and sees the second scan begin.
func waitScan(t *testing.T, d *Dispatcher, box *outbox) {
	t.Helper()
	drain(box.scans)
	d.Wake()
	<-box.scans
	d.Wake()
	<-box.scans
}

// settle scans until nothing is in flight: a worker marks its report
// stored just after the recorder returns, and the next scan forgets it.
func settle(t *testing.T, f *fixture) {
	t.Helper()
	for range 1000 {
		if f.d.InFlight() == 0 {
			return
		}
		waitScan(t, f.d, f.box)
	}
	t.Fatalf("%d intents stay in flight", f.d.InFlight())
}

func drain[T any](c chan T) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// run starts d and stops it when the test ends.
func run(t testing.TB, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

var ackKey = []byte("test-ack-key-test-ack-key-test-ack-key")

func signer(t testing.TB) *acklink.Signer {
	t.Helper()
	s, err := acklink.NewSigner(ackKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// receivers parses receivers written exactly as in alertmanager.yml,
// through Alertmanager's own loader.
func receivers(t testing.TB, yml string) map[string]*config.Receiver {
	t.Helper()
	cfg, err := config.Load("route:\n  receiver: blackhole\nreceivers:\n- name: blackhole\n" + strings.TrimSpace(yml) + "\n")
	if err != nil {
		t.Fatalf("receivers: %v", err)
	}
	out := make(map[string]*config.Receiver)
	for i := range cfg.Receivers {
		if r := &cfg.Receivers[i]; r.Name != "blackhole" {
			out[r.Name] = r
		}
	}
	return out
}

func page(id, receiver string, due time.Time) triage.Intent {
	return triage.Intent{
		ID: id, Kind: triage.IntentPage, Incident: "INC-42", Person: "alice", Receiver: receiver, Due: due,
		Message: triage.Message{
			Key: "INC-42", Title: "API down", Severity: "SEV1", Status: "triggered", Service: "api",
			Explanation: "rule api-down: 5 alerts on api", OpenedAt: t0.Add(-time.Minute),
			Labels: map[string]string{"team": "core", "": "dropped"},
		},
	}
}
