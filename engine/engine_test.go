package engine

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

const quiet = 5 * time.Minute

var quickRules = []rules.File{{Name: "quick.yml", Data: []byte(`
correlation:
  quiet_period: 5m
`)}}

// openMemory starts an engine over a fresh in-memory journal whose clock is
// time.Now: inside a synctest bubble, the bubble's fake clock.
func openMemory(opts Options) (*Engine, *journal.Memory) {
	state := triage.New(nil)
	j := journal.NewMemory(state, nil)
	return New(j, state, opts), j
}

func alert(status signal.Status, kv ...string) signal.Signal {
	labels := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		labels[kv[i]] = kv[i+1]
	}
	return signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert,
		Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)), Status: status, Labels: signal.StringsFrom(labels),
		StartsAt: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
}

// run starts eng's timer loop and returns the function that stops it and
// waits for it to return.
func run(eng *Engine) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func status(t *testing.T, eng *Engine, key string) (triage.Status, time.Time) {
	t.Helper()
	d, ok := eng.State().Get(key, 0, 0)
	if !ok {
		t.Fatalf("no incident %s", key)
	}
	var at time.Time
	if d.ResolvedAt != nil {
		at = *d.ResolvedAt
	}
	return d.Status, at
}

// TestTimerLoopResolvesAfterQuietPeriodAndSurvivesRestart resolves an
// incident exactly when its quiet period ends, though the engine restarted
// in between: the timer is rebuilt from the journal.
func TestTimerLoopResolvesAfterQuietPeriodAndSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng, j := openMemory(Options{})
		ctx := context.Background()
		if changed, err := eng.SetRules(ctx, quickRules); err != nil || !changed {
			t.Fatalf("SetRules = %v, %v", changed, err)
		}
		if changed, _ := eng.SetRules(ctx, quickRules); changed {
			t.Error("the same rules were journaled twice")
		}
		a := alert(signal.StatusFiring, "alertname", "X", "service", "api")
		if res, err := eng.Submit(ctx, []signal.Signal{a, a}); err != nil || res.Accepted != 1 || res.Duplicates != 1 {
			t.Fatalf("Submit = %+v, %v", res, err)
		}
		time.Sleep(time.Minute)
		resolvedAt := time.Now()
		a.Status, a.EndsAt = signal.StatusResolved, resolvedAt
		if _, err := eng.Submit(ctx, []signal.Signal{a}); err != nil {
			t.Fatal(err)
		}
		stop := run(eng)
		time.Sleep(quiet / 2)
		stop()
		_ = j.Close()

		// Restart before the quiet period ends.
		state := triage.New(nil)
		j = j.Reopen(state)
		eng = New(j, state, Options{})
		stop = run(eng)
		defer stop()
		time.Sleep(quiet/2 - time.Nanosecond)
		synctest.Wait()
		if st, _ := status(t, eng, "INC-1"); st != triage.StatusTriggered {
			t.Fatalf("status %s before the quiet period ended", st)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		st, at := status(t, eng, "INC-1")
		if st != triage.StatusResolved || !at.Equal(resolvedAt.Add(quiet)) {
			t.Fatalf("status %s at %v, want resolved at %v", st, at, resolvedAt.Add(quiet))
		}
	})
}

// TestRunStops checks that the timer loop returns when its context ends and
// when the journal closes under a due timer, appending nothing after.
func TestRunStops(t *testing.T) {
	tests := []struct {
		name    string
		stopRun func(cancel context.CancelFunc, j journal.Journal)
	}{
		{"context cancelled", func(cancel context.CancelFunc, _ journal.Journal) { cancel() }},
		{"journal closed", func(_ context.CancelFunc, j journal.Journal) { _ = j.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng, j := openMemory(Options{})
				ctx := context.Background()
				if _, err := eng.SetRules(ctx, quickRules); err != nil {
					t.Fatal(err)
				}
				a := alert(signal.StatusFiring, "alertname", "X")
				a.EndsAt = time.Now().Add(time.Minute) // a timer: the alert expires
				if _, err := eng.Submit(ctx, []signal.Signal{a}); err != nil {
					t.Fatal(err)
				}
				runCtx, cancel := context.WithCancel(ctx)
				defer cancel()
				done := make(chan struct{})
				go func() { eng.Run(runCtx); close(done) }()
				synctest.Wait()
				seq := j.LastSeq()
				tt.stopRun(cancel, j)
				time.Sleep(time.Hour)
				synctest.Wait()
				select {
				case <-done:
				default:
					t.Fatal("Run did not return")
				}
				if got := j.LastSeq(); got != seq {
					t.Errorf("Run appended %d entries after it was stopped", got-seq)
				}
			})
		})
	}
}

// TestActErrors checks the errors Act, SetRules and Submit pass on, over the
// real store: a closed badger journal is unavailable.
func TestActErrors(t *testing.T) {
	state := triage.New(nil)
	j, err := journal.OpenBadger(journal.Options{Dir: t.TempDir()}, state)
	if err != nil {
		t.Fatal(err)
	}
	eng := New(j, state, Options{Logger: zap.NewNop(), Registerer: prometheus.NewRegistry()})
	ctx := context.Background()
	if err := eng.Act(ctx, triage.Action{Kind: triage.ActionAck, Incident: "INC-1"}); !errors.Is(err, triage.ErrNotFound) {
		t.Fatalf("ack of nothing = %v", err)
	}
	if _, err := eng.SetRules(ctx, []rules.File{{Name: "bad.yml", Data: []byte("services: [")}}); !errors.Is(err, triage.ErrInvalid) {
		t.Fatalf("broken rules = %v", err)
	}
	if eng.State().RuleFiles() != nil {
		t.Fatal("broken rules replaced the running ones")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Submit(ctx, []signal.Signal{alert(signal.StatusFiring, "a", "b")}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("submit after close = %v", err)
	}
}

// TestJournaledEntries stores what triage.Encode gives, whether the journal
// takes the entry behind room for its header (a journal.Framer, badger) or
// as it is (the in-memory journal).
func TestJournaledEntries(t *testing.T) {
	sigs := []signal.Signal{alert(signal.StatusFiring, "alertname", "Down", "service", "checkout")}
	want, err := triage.Encode(&triage.Entry{Signals: sigs})
	if err != nil {
		t.Fatal(err)
	}
	badgerState := triage.New(nil)
	bj, err := journal.OpenBadger(journal.Options{Dir: t.TempDir()}, badgerState)
	if err != nil {
		t.Fatal(err)
	}
	defer bj.Close()
	memState := triage.New(nil)
	for _, tc := range []struct {
		name  string
		j     journal.Journal
		state *triage.State
	}{
		{"badger", bj, badgerState},
		{"memory", journal.NewMemory(memState, nil), memState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := New(tc.j, tc.state, Options{Logger: zap.NewNop(), Registerer: prometheus.NewRegistry()})
			if _, err := eng.Submit(context.Background(), sigs); err != nil {
				t.Fatalf("Submit: %v", err)
			}
			var got [][]byte
			if err := tc.j.Read(1, func(r journal.Record) error {
				got = append(got, r.Data)
				return nil
			}); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(got) != 1 || !bytes.Equal(got[0], want) {
				t.Errorf("journaled %q, want the one entry %q", got, want)
			}
		})
	}
}

// TestSubmitKeepsNothingOfSignals overwrites the signals once Submit has
// returned, as the ingest handlers do when they hand the slice back for
// the next request, and wants the state as it was: nothing in it may
// point into the slice.
func TestSubmitKeepsNothingOfSignals(t *testing.T) {
	eng, _ := openMemory(Options{})
	ctx := context.Background()
	ticket := alert(signal.StatusFiring, "priority", "high")
	ticket.Kind, ticket.Source, ticket.Fingerprint = signal.KindTicket, "tickets", "t-1"
	ticket.SetReport(signal.Report{Text: "the checkout fails", Customer: "acme"})
	batches := [][]signal.Signal{
		{alert(signal.StatusFiring, "alertname", "Down", "service", "api"), alert(signal.StatusFiring, "alertname", "Slow", "service", "api")},
		{alert(signal.StatusResolved, "alertname", "Down", "service", "api"), ticket},
	}
	for _, sigs := range batches {
		if _, err := eng.Submit(ctx, sigs); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, eng)
	poison := alert(signal.StatusFiring, "alertname", "Poison", "service", "elsewhere")
	poison.SetReport(signal.Report{Text: "poison"})
	for _, sigs := range batches {
		for i := range sigs {
			sigs[i] = poison
		}
	}
	if after := snapshot(t, eng); !bytes.Equal(before, after) {
		t.Errorf("the state changed with the submitted slices:\nbefore %s\nafter  %s", before, after)
	}
}

func snapshot(t *testing.T, eng *Engine) []byte {
	t.Helper()
	b, err := eng.State().Snapshot()()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
