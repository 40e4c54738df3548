package statuspage

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is when the fixtures' first incident opens.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// fixture applies entries to a triage state under testdata/rules.yml.
type fixture struct {
	t     testing.TB
	state *triage.State
	seq   uint64
	now   time.Time
	arch  memArchive
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	data, err := os.ReadFile("testdata/rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Compile([]rules.File{{Name: "rules.yml", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, state: triage.New(rs), now: t0}
}

// apply applies e at f.now.
func (f *fixture) apply(e *triage.Entry) {
	f.t.Helper()
	data, err := triage.Encode(e)
	if err != nil {
		f.t.Fatal(err)
	}
	f.seq++
	res := f.state.Apply(journal.Record{Seq: f.seq, Time: f.now, Data: data}).(*triage.Result)
	if res.Err != nil {
		f.t.Fatalf("entry %d: %v", f.seq, res.Err)
	}
	f.arch.items = append(f.state.TakeArchive(), f.arch.items...)
}

// alert applies one alert of service, firing or not, with a canary in
// every internal field.
func (f *fixture) alert(id, service string, sev int, firing bool) {
	status := signal.StatusFiring
	if !firing {
		status = signal.StatusResolved
	}
	f.apply(&triage.Entry{Signals: []signal.Signal{{
		Source: signal.SourceAlertmanager, Kind: signal.KindAlert, Fingerprint: "CANARY-fp-" + id, Status: status,
		Labels: signal.StringsFrom(map[string]string{"service": service, "sev": fmt.Sprint(sev), "alertname": "CANARY-alertname-" + id,
			"instance": "CANARY-host-" + id + ".internal:9100", "pod_ip": "CANARY-10.1.2.3", "shard": "CANARY-shard-" + id}),
		Annotations: signal.StringsFrom(map[string]string{"summary": "CANARY-annotation-" + id, "runbook_url": "https://CANARY-wiki/" + id}),
		StartsAt:    f.now.Add(-time.Minute), Report: &signal.Report{Customer: "CANARY-customer-" + id}, Link: "https://CANARY-link/" + id,
	}}})
}

// ticket applies one support ticket about service.
func (f *fixture) ticket(id, service string) {
	f.apply(&triage.Entry{Signals: []signal.Signal{{
		Source: signal.SourceTicketsGeneric, Kind: signal.KindTicket, Fingerprint: "CANARY-ticket-" + id, Status: signal.StatusFiring,
		Labels:   signal.StringsFrom(map[string]string{"service": service, "subject": "CANARY-subject-" + id, "shard": "CANARY-shard-" + id}),
		Report:   &signal.Report{Text: "CANARY-ticket-text " + id + " @CANARY-mention", Customer: "CANARY-customer-" + id},
		StartsAt: f.now,
	}}})
}

// act applies a human action on incident key.
func (f *fixture) act(kind triage.ActionKind, key, severity string) {
	f.apply(&triage.Entry{Action: &triage.Action{Kind: kind, Incident: key, By: "CANARY-person@example.com",
		Note: "CANARY-note " + key, Severity: severity}})
}

// post applies a human update of incident key.
func (f *fixture) post(key string, audience triage.Audience, state triage.UpdateState, text string) {
	f.apply(&triage.Entry{Update: &triage.UpdateChange{Op: triage.UpdatePost, Incident: key, Audience: audience,
		State: state, Text: text, By: "CANARY-person@example.com"}})
}

// decide applies a decision (approve, withdraw) about update id of key.
func (f *fixture) decide(op triage.UpdateOp, key string, id int) {
	f.apply(&triage.Entry{Update: &triage.UpdateChange{Op: op, Incident: key, Update: id, By: "CANARY-comms@example.com"}})
}

// newest is the key of the newest incident.
func (f *fixture) newest() string {
	list, _ := f.state.List(triage.Filter{Limit: 1})
	return list[0].Key
}

// later moves the fixture's clock on.
func (f *fixture) later(d time.Duration) { f.now = f.now.Add(d) }

// tick applies a timer entry at f.now.
func (f *fixture) tick() { f.apply(&triage.Entry{Tick: &triage.Tick{Due: f.now}}) }

// memArchive is an archive in memory, newest first, as the journal's.
type memArchive struct{ items []journal.ArchiveItem }

func (a *memArchive) ScanArchive(_ string, fn func(journal.ArchiveItem) (bool, error)) error {
	for _, it := range a.items {
		if more, err := fn(it); err != nil || !more {
			return err
		}
	}
	return nil
}

// standard is a small history with every incident and component state:
// a resolved SEV1, an identified SEV2, an investigating SEV1, a monitored
// SEV2, one needing approval (SEV3) and one of an internal service.
func standard(t testing.TB) *fixture {
	f := newFixture(t)
	f.alert("a", "shop", 1, true) // INC-1
	f.later(10 * time.Minute)
	f.act(triage.ActionAck, "INC-1", "")
	f.later(20 * time.Minute)
	f.act(triage.ActionResolve, "INC-1", "")
	f.later(24 * time.Hour)
	f.alert("b", "payments", 2, true) // INC-2
	f.later(5 * time.Minute)
	f.act(triage.ActionAck, "INC-2", "")
	f.later(time.Hour)
	f.alert("c", "api", 1, true) // INC-3
	f.ticket("c", "api")
	f.alert("d", "reports", 3, true)   // INC-4: approval
	f.alert("e", "ledger-db", 1, true) // INC-5: internal
	f.alert("f", "shop", 2, true)      // INC-6
	f.later(time.Minute)
	f.alert("f", "shop", 2, false) // quiet: monitoring
	f.later(time.Minute)
	return f
}

// page renders f's state as the page for lang at f.now.
func (f *fixture) site(lang string, withArchive bool) *Site {
	f.t.Helper()
	tpl, err := LoadTemplates("", lang)
	if err != nil {
		f.t.Fatal(err)
	}
	opts := Options{
		Page:   PageOptions{Name: "Acme Status", URL: "https://status.example.com/status", Language: lang, Location: berlin(f.t)},
		Mapper: Mapper{Templates: tpl, Language: lang, Location: berlin(f.t), States: DefaultStates},
		Now:    func() time.Time { return f.now },
	}
	var arch Archive
	if withArchive {
		arch = &f.arch
	}
	p := NewPublisher(f.state, arch, opts)
	if err := p.Render(); err != nil {
		f.t.Fatal(err)
	}
	return p.Handler().Site()
}

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// golden compares got with testdata/name (rewritten with -update).
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\nwant %s\ngot  %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("want %d lines, got %d", len(al), len(bl))
}
