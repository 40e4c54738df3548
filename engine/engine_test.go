package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

const quickRules = `
correlation:
  quiet_period: 200ms
`

// open starts an engine over a fresh badger journal in dir.
func open(t *testing.T, dir string) (*Engine, journal.Journal) {
	t.Helper()
	state := triage.New(nil)
	j, err := journal.OpenBadger(journal.Options{Dir: dir}, state)
	if err != nil {
		t.Fatal(err)
	}
	return New(j, state, time.Now, zap.NewNop(), prometheus.NewRegistry()), j
}

func alert(status signal.Status, kv ...string) signal.Signal {
	labels := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		labels[kv[i]] = kv[i+1]
	}
	return signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert,
		Fingerprint: signal.Fingerprint(labels), Status: status, Labels: labels,
		StartsAt: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTimerLoopResolvesAfterQuietPeriodAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	eng, j := open(t, dir)
	ctx := context.Background()
	rs := []rules.File{{Name: "quick.yml", Data: []byte(quickRules)}}
	if changed, err := eng.SetRules(ctx, rs); err != nil || !changed {
		t.Fatalf("SetRules = %v, %v", changed, err)
	}
	if changed, _ := eng.SetRules(ctx, rs); changed {
		t.Error("the same rules were journaled twice")
	}
	a := alert(signal.StatusFiring, "alertname", "X", "service", "api")
	if res, err := eng.Submit(ctx, []signal.Signal{a, a}); err != nil || res.Accepted != 1 || res.Duplicates != 1 {
		t.Fatalf("Submit = %+v, %v", res, err)
	}
	a.Status, a.EndsAt = signal.StatusResolved, time.Now()
	if _, err := eng.Submit(ctx, []signal.Signal{a}); err != nil {
		t.Fatal(err)
	}
	// Restart before the quiet period ends: the timer is rebuilt from state.
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	eng, j = open(t, dir)
	defer j.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { eng.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	waitFor(t, "the incident to resolve", func() bool {
		d, ok := eng.State().Get("INC-1", 0, 0)
		return ok && d.Status == triage.StatusResolved
	})
}

func TestActErrors(t *testing.T) {
	eng, j := open(t, t.TempDir())
	defer j.Close()
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
	if _, err := eng.Submit(ctx, []signal.Signal{alert(signal.StatusFiring, "a", "b")}); !errors.Is(err, journal.ErrUnavailable) {
		t.Fatalf("submit after close = %v", err)
	}
}
