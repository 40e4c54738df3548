package postmortem

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// history is an incident worked through: alerts, a ticket, an ack, human
// entries (one told earlier, one corrected, one struck), then a resolution
// unless open.
func history(t *testing.T, open bool) *triage.State {
	t.Helper()
	s := triage.New(nil)
	seq := uint64(0)
	apply := func(d time.Duration, e *triage.Entry) {
		t.Helper()
		data, err := triage.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		seq++
		if res := s.Apply(journal.Record{Seq: seq, Time: t0.Add(d), Data: data}).(*triage.Result); res.Err != nil {
			t.Fatalf("entry %d: %v", seq, res.Err)
		}
	}
	act := func(d time.Duration, a triage.Action) { a.Incident = "INC-1"; apply(d, &triage.Entry{Action: &a}) }
	alert := func(name string) signal.Signal {
		labels := map[string]string{"alertname": name, "service": "checkout", "env": "prod"}
		return signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert, Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)),
			Status: signal.StatusFiring, Labels: signal.StringsFrom(labels), StartsAt: t0.Add(-2 * time.Minute),
			Annotations: signal.StringsFrom(map[string]string{"summary": "checkout *returns* 500s | pay"})}
	}
	oc, err := triage.NewOnCallChange([]oncall.File{{Name: "o.yml", Data: []byte(people)}})
	if err != nil {
		t.Fatal(err)
	}
	apply(0, &triage.Entry{OnCall: oc})
	apply(0, &triage.Entry{Signals: []signal.Signal{alert("CheckoutDown"), alert("CheckoutLatency")}})
	act(time.Minute, triage.Action{Kind: triage.ActionAssignRole, By: "ada", Role: "incident_manager", Person: "ada"})
	apply(90*time.Second, &triage.Entry{Delivery: &triage.Delivery{Intent: "INC-1/role/incident_manager/ada/1", Attempt: 1, OK: true}})
	act(2*time.Minute, triage.Action{Kind: triage.ActionAssignRole, By: "ada", Role: "incident_manager", Person: "ben"})
	act(3*time.Minute, triage.Action{Kind: triage.ActionAssignRole, By: "ben", Role: "technical_lead", Person: "cy"})
	act(4*time.Minute, triage.Action{Kind: triage.ActionAck, By: "ada", Note: "on it"})
	act(6*time.Minute, triage.Action{Kind: triage.ActionTimelinePost, By: "ada", EntryKind: triage.EntryObservation,
		Note: "errors began at the 11:55 deploy", At: t0.Add(-5 * time.Minute)})
	act(7*time.Minute, triage.Action{Kind: triage.ActionTimelinePost, By: "ben", EntryKind: triage.EntryTheory, Note: "bad config in v42"})
	act(8*time.Minute, triage.Action{Kind: triage.ActionTimelinePost, By: "ben", EntryKind: triage.EntryExperiment, Note: "rolled back to v14"})
	act(9*time.Minute, triage.Action{Kind: triage.ActionTimelineCorrect, By: "ben", Entry: 3, Note: "rolled back to v41"})
	act(10*time.Minute, triage.Action{Kind: triage.ActionTimelinePost, By: "cy", EntryKind: triage.EntryNote, Note: "wrong room"})
	act(11*time.Minute, triage.Action{Kind: triage.ActionTimelineStrike, By: "cy", Entry: 4, Note: "posted here by mistake"})
	if !open {
		act(20*time.Minute, triage.Action{Kind: triage.ActionResolve, By: "ada"})
	}
	return s
}

// people are the on-call people of history, with the default roles.
const people = `
people:
  ada: {name: Ada, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/ada"}]}]}
  ben: {name: Ben, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/ben"}]}]}
  cy: {name: Cy, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/cy"}]}]}
`

func TestGolden(t *testing.T) {
	tpl, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		open bool
	}{{"resolved", false}, {"open", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s := history(t, tc.open)
			d, ok := s.Get("INC-1", 0, 1000)
			if !ok {
				t.Fatal("no INC-1")
			}
			var buf bytes.Buffer
			if err := tpl.Render(&buf, NewData(&d, t0.Add(30*time.Minute))); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", tc.name+".md"), buf.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n%s", path, got)
	}
}

func TestParseRefusesBadTemplates(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"syntax", "{{.Key", "unclosed action"},
		{"unknown field", "{{.Nope}}", "can't evaluate field Nope"},
		{"unknown function", "{{shout .Key}}", `function "shout" not defined`},
	} {
		_, err := Parse(tc.name, tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "pm.md.tmpl")
	if err := os.WriteFile(file, []byte("# {{.Key}}: {{md .Title}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tpl.Render(&buf, Data{Key: "INC-7", Title: "a_b"}); err != nil || buf.String() != "# INC-7: a\\_b\n" {
		t.Errorf("overriding template: %q, %v", buf.String(), err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing template file loaded")
	}
}
