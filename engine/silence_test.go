package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

// A silence is journaled: it survives a restart, its end comes from the
// timer loop, and changes to unknown silences are refused.
func TestSilenceIsJournaledAndEndsByTimer(t *testing.T) {
	dir := t.TempDir()
	eng, j := open(t, dir)
	ctx := context.Background()
	sc, err := triage.NewSilenceChange(triage.SilenceChange{Matchers: []string{`alertname="X"`},
		EndsAt: time.Now().Add(300 * time.Millisecond), CreatedBy: "ada", Comment: "short", By: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := eng.Silence(ctx, sc)
	if err != nil || id == "" {
		t.Fatalf("Silence = %q, %v", id, err)
	}
	if _, err := eng.Silence(ctx, &triage.SilenceChange{ID: "nope", Expire: true}); !errors.Is(err, triage.ErrNoSilence) {
		t.Fatalf("expiring an unknown silence = %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	eng, j = open(t, dir)
	defer j.Close()
	if v, ok := eng.State().SilenceByID(id, time.Now()); !ok || v.Comment != "short" {
		t.Fatalf("after a restart: %+v, %v", v, ok)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { eng.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	waitFor(t, "the silence's end to be applied", func() bool {
		due, ok := eng.State().NextDue()
		return ok && due.Equal(sc.EndsAt.Add(triage.SilenceRetention)) // its timer moved on to its leaving
	})
}
