package replay

import (
	"bytes"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// A human resolve of INC-3 is replayed by key; when the candidate numbers
// incidents differently (or From skips earlier incidents), it hits the wrong
// incident or none, and the report shows a difference the rules did not cause.
func TestScratchActionsFollowIncidentKeys(t *testing.T) {
	var recs []journal.Record
	add := func(at time.Time, e *triage.Entry) {
		data, err := triage.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, journal.Record{Seq: uint64(len(recs) + 1), Time: at, Data: data})
	}
	add(t0, &triage.Entry{Signals: []signal.Signal{firing(t0, "alertname", "A", "service", "a")}})
	add(t0.Add(time.Minute), &triage.Entry{Signals: []signal.Signal{firing(t0, "alertname", "B", "service", "b")}})
	add(t0.Add(2*time.Minute), &triage.Entry{Signals: []signal.Signal{firing(t0, "alertname", "C", "service", "c")}})
	add(t0.Add(3*time.Minute), &triage.Entry{Action: &triage.Action{Kind: triage.ActionResolve, Incident: "INC-3", By: "al"}})
	read := func(from uint64, fn func(journal.Record) error) error {
		for _, r := range recs[from-1:] {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	// Candidate: a and b are one service; c is unchanged.
	cand := []rules.File{{Name: "c.yml", Data: []byte(`
services:
  ab:
    display_name: AB
    tier: 2
    matchers: ['{service=~"a|b"}']
`)}}
	rep, err := Run(read, Options{From: t0.Add(-time.Hour), To: t0.Add(10 * time.Minute), Candidate: cand})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Differences(&out)
	c := firing(t0, "alertname", "C", "service", "c")
	for _, o := range rep.Candidate {
		if o.Opener == c.ID() && o.Status != triage.StatusResolved {
			t.Errorf("candidate run: the incident of C is %s, though a human resolved it; report:\n%s", o.Status, out.String())
		}
	}
}
