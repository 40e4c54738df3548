package replay

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

var t0 = time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)

func firing(at time.Time, kv ...string) signal.Signal {
	labels := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		labels[kv[i]] = kv[i+1]
	}
	return signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert, Status: signal.StatusFiring,
		Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)), Labels: signal.StringsFrom(labels), StartsAt: at}
}

// timed is one entry at its journal time.
type timed struct {
	at    time.Time
	entry *triage.Entry
}

// journalOf is a Reader over entries numbered and timed as the journal
// would record them.
func journalOf(t *testing.T, entries ...timed) Reader {
	var recs []journal.Record
	for _, e := range entries {
		data, err := triage.Encode(e.entry)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, journal.Record{Seq: uint64(len(recs) + 1), Time: e.at, Data: data})
	}
	return func(from uint64, fn func(journal.Record) error) error {
		for _, r := range recs[from-1:] {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func signals(at time.Time, sigs ...signal.Signal) timed {
	return timed{at, &triage.Entry{Signals: sigs}}
}

// history is a journal as a running Klaxon with no rule files wrote it.
func history(t *testing.T) Reader {
	return journalOf(t,
		signals(t0, firing(t0, "alertname", "CheckoutDown", "service", "checkout", "env", "prod")),
		signals(t0.Add(time.Minute), firing(t0, "alertname", "PostgresDown", "service", "postgres", "role", "primary")),
		signals(t0.Add(2*time.Minute), firing(t0, "alertname", "Slow", "service", "search")),
		signals(t0.Add(48*time.Hour), firing(t0, "alertname", "Later", "service", "web")),
	)
}

func TestCandidateRulesShowTheDifference(t *testing.T) {
	files, err := rules.Load("../configs/rules", []string{"*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(history(t), Options{From: t0.Add(-time.Hour), To: t0.Add(time.Hour), Candidate: files})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 3 || len(rep.Actual) != 3 || len(rep.Candidate) != 2 {
		t.Fatalf("entries %d, actual %d, candidate %d", rep.Entries, len(rep.Actual), len(rep.Candidate))
	}
	var out bytes.Buffer
	n := rep.Differences(&out)
	for _, want := range []string{
		`~ INC-1, opened by CheckoutDown{env="prod", service="checkout"}: SEV3 (no rule (default severity); 1 alert; triggered) -> SEV1 (rule "checkout-down"; 2 alerts; triggered)`,
		`- INC-2 SEV3, opened by PostgresDown{role="primary", service="postgres"} (1 alert): would not open`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if n != 2 {
		t.Errorf("%d differences, want 2:\n%s", n, out.String())
	}
}

func TestSameRulesNoDifference(t *testing.T) {
	rep, err := Run(history(t), Options{From: t0.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n := rep.Differences(&out); n != 0 || out.Len() != 0 {
		t.Fatalf("%d differences:\n%s", n, out.String())
	}
}

// A human resolve of INC-3 names an incident by key, which means another
// incident in a run that numbers them differently: actions are left out, so
// the report shows only what the candidate rules change.
func TestActionsDoNotInventDifferences(t *testing.T) {
	read := journalOf(t,
		signals(t0, firing(t0, "alertname", "A", "service", "a")),
		signals(t0.Add(time.Minute), firing(t0, "alertname", "B", "service", "b")),
		signals(t0.Add(2*time.Minute), firing(t0, "alertname", "C", "service", "c")),
		timed{t0.Add(3 * time.Minute), &triage.Entry{Action: &triage.Action{Kind: triage.ActionResolve, Incident: "INC-3", By: "al"}}},
	)
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
	if n := rep.Differences(&out); n != 2 || strings.Contains(out.String(), "INC-3") {
		t.Fatalf("%d differences, want the a/b merge only (INC-1 grows, INC-2 goes):\n%s", n, out.String())
	}
}

// TestTruncatedJournalIsSaidSo: a journal whose oldest entries are past
// its retention starts after record 1; replay says so, and says that the
// rules in force before it are unknown, rather than compare in silence.
func TestTruncatedJournalIsSaidSo(t *testing.T) {
	full := history(t)
	truncated := func(from uint64, fn func(journal.Record) error) error {
		return full(max(from, 3), fn)
	}
	rep, err := Run(truncated, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 2 || !strings.Contains(rep.Warnings[0], "from 2026-11-18T12:02:00Z (record 3)") ||
		!strings.Contains(rep.Warnings[1], "built-in defaults") {
		t.Errorf("warnings = %q", rep.Warnings)
	}
	if rep, _ := Run(full, Options{}); len(rep.Warnings) != 0 {
		t.Errorf("a whole journal warns: %q", rep.Warnings)
	}
}
