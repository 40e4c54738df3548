package resolution

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/statuspage"
	"github.com/klaxonhq/klaxon/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 11, 30, 22, 5, 0, 0, time.UTC)

// testRules: checkout is customer facing (public name Online Shop); Down
// is SEV1, whose incidents wait for a human and announce their end.
const testRules = `
services:
  checkout:
    display_name: Online Shop
    component: Checkout
    tier: 1
    customer_facing: true
    escalation_policy: checkout
    matchers: ['{service="checkout"}']
severity:
  rules:
    - {name: down, level: SEV1, when: {match: '{alertname="Down"}'}}
policies:
  SEV1: {page: immediately, status_page: auto, auto_resolve: false, final_message: [announce]}
`

// testOnCall: ada-canary is paged by policy checkout and can be incident
// manager; announce is the final message's receiver at url (a format verb).
const testOnCall = `
people:
  ada-canary:
    name: Ada
    time_zone: UTC
    contact_methods: [{name: push, webhook_configs: [{url: "%[1]s/page"}]}]
escalation_policies:
  checkout:
    steps: [{escalate_after: 10m, people: [ada-canary]}]
    fallback: {name: noc, webhook_configs: [{url: "%[1]s/noc"}]}
roles:
  incident_manager: {name: Incident manager, instructions: Hold command.}
receivers:
  - name: announce
    webhook_configs: [{url: "%[1]s/announce"}]
`

// life is an incident's whole life as entries, each at its time: Down
// fires, 37 tickets from CANARY customers and 4 mentions come in, the page
// is delivered, ada-canary acknowledges and takes command, the alert
// resolves, and ada-canary resolves the incident 1h 25m after it started.
func life(url string) []timed {
	down := signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert, Status: signal.StatusFiring,
		Labels:      signal.StringsFrom(map[string]string{"alertname": "Down", "service": "checkout", "instance": "CANARY-host-1:9100"}),
		Annotations: signal.StringsFrom(map[string]string{"summary": "CANARY checkout returns 500s"}), StartsAt: t0}
	down.Fingerprint = signal.Fingerprint(down.Labels)
	var reports []signal.Signal
	for i := range 37 {
		reports = append(reports, signal.Signal{Source: signal.SourceTicketsGeneric, Kind: signal.KindTicket, Status: signal.StatusFiring,
			Fingerprint: fmt.Sprintf("t-%d", i), Labels: signal.StringsFrom(map[string]string{"service": "checkout"}),
			Report: &signal.Report{Text: "CANARY cannot pay", Customer: fmt.Sprintf("CANARY-customer-%d", i%12)}, StartsAt: t0.Add(time.Minute)})
	}
	for i := range 4 {
		reports = append(reports, signal.Signal{Source: signal.SourceMentionsGeneric, Kind: signal.KindMention, Status: signal.StatusFiring,
			Fingerprint: fmt.Sprintf("m-%d", i), Labels: signal.StringsFrom(map[string]string{"service": "checkout"}),
			Report: &signal.Report{Text: "CANARY shop down?", Reach: 1234}, StartsAt: t0.Add(time.Minute)})
	}
	resolved := down
	resolved.Status, resolved.EndsAt = signal.StatusResolved, t0.Add(70*time.Minute)
	rulesFiles := []rules.File{{Name: "rules.yml", Data: []byte(testRules)}}
	oncallFiles := []oncall.File{{Name: "oncall.yml", Data: fmt.Appendf(nil, testOnCall, url)}}
	return []timed{
		{t0, &triage.Entry{Rules: &triage.RulesChange{Files: rulesFiles}}},
		{t0, &triage.Entry{OnCall: &triage.OnCallChange{Files: oncallFiles}}},
		{t0, &triage.Entry{Signals: []signal.Signal{down}}},
		{t0.Add(2 * time.Minute), &triage.Entry{Signals: reports}},
		{t0.Add(2 * time.Minute), deliverPages},
		{t0.Add(4 * time.Minute), &triage.Entry{Action: &triage.Action{Kind: triage.ActionAck, Incident: "INC-1", By: "ada-canary"}}},
		{t0.Add(5 * time.Minute), &triage.Entry{Action: &triage.Action{Kind: triage.ActionAssignRole, Incident: "INC-1", By: "ada-canary",
			Role: "incident_manager", Person: "ada-canary"}}},
		{t0.Add(70 * time.Minute), &triage.Entry{Signals: []signal.Signal{resolved}}},
		{t0.Add(85 * time.Minute), &triage.Entry{Action: &triage.Action{Kind: triage.ActionResolve, Incident: "INC-1", By: "ada-canary"}}},
	}
}

// deliverPages stands in life for the delivery of every page then due.
var deliverPages = &triage.Entry{}

// timed is an entry and when it is appended.
type timed struct {
	at    time.Time
	entry *triage.Entry
}

// resolvedState is the state after life, fed through triage's driver.
func resolvedState(t *testing.T) *triage.State {
	t.Helper()
	d := triage.NewDriver(triage.New(nil))
	for i, e := range life("http://127.0.0.1:1") {
		if e.entry == deliverPages {
			for _, in := range d.State().DueIntents(e.at, 10) {
				if _, err := d.Feed(e.at, &triage.Entry{Delivery: &triage.Delivery{Intent: in.ID, Attempt: 1, OK: true}}); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		res, err := d.Feed(e.at, e.entry)
		if err == nil {
			err = res.Err
		}
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	return d.State()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (-update to rewrite):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestFiguresOfAResolvedIncident(t *testing.T) {
	d, ok := resolvedState(t).Get("INC-1", 0, 0)
	if !ok {
		t.Fatal("no INC-1")
	}
	f := d.Figures
	got := fmt.Sprintf("duration %d tta %d by %s pages %d alerts %d tickets %d mentions %d reach %d customers %d components %q roles %v",
		f.DurationSeconds, f.TimeToAckSeconds, f.AcknowledgedBy, f.PagesSent, f.Alerts, f.Tickets, f.Mentions, f.Reach, f.Customers, f.Components, f.Roles)
	want := `duration 5100 tta 240 by ada-canary pages 1 alerts 1 tickets 37 mentions 4 reach 4936 customers 12 components ["Checkout"] roles [{Incident manager [ada-canary]}]`
	if got != want {
		t.Errorf("figures\n got %s\nwant %s", got, want)
	}
}

// TestFinalMessagesGolden pins the final messages, internal and external,
// in every language the templates ship in; the external one carries none
// of the internal figures.
func TestFinalMessagesGolden(t *testing.T) {
	s := resolvedState(t)
	d, _ := s.Get("INC-1", 0, 0)
	rs := s.Rules()
	for _, lang := range statuspage.Languages {
		t.Run(lang, func(t *testing.T) {
			r, err := New("", lang, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			title, body, err := r.Render(d.Figures)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "final.internal."+lang, title+"\n\n"+body+"\n")

			external := externalFinal(t, rs, lang, d)
			golden(t, "final.external."+lang, external)
			for _, internal := range []string{"CANARY", "ada", "INC-1", "37", "1234", "4936", "SEV1", "Incident manager", "1h 25m", "checkout returns"} {
				if strings.Contains(external, internal) {
					t.Errorf("the external final message carries %q:\n%s", internal, external)
				}
			}
		})
	}
}

// externalFinal is the resolved update the public page shows of d.
func externalFinal(t *testing.T, rs *rules.Set, lang string, d triage.Detail) string {
	t.Helper()
	tpl, err := statuspage.LoadTemplates("", lang)
	if err != nil {
		t.Fatal(err)
	}
	m := statuspage.Mapper{Rules: rs, Templates: tpl, Language: lang, Location: time.UTC}
	inc, ok, err := m.Incident(d.Summary, d.Updates, d.Timeline)
	if err != nil || !ok {
		t.Fatalf("the page does not show the incident: %v", err)
	}
	u := inc.Updates[0] // newest first
	if u.Status != statuspage.Resolved {
		t.Fatalf("the newest public update is %s, want resolved", u.Status)
	}
	return u.Title + "\n\n" + u.Body + "\n"
}

func TestMessageIsForResolvedIncidentsAndMatchesTheIntent(t *testing.T) {
	s := resolvedState(t)
	d, _ := s.Get("INC-1", 0, 0)
	title, body, err := Message(d)
	if err != nil {
		t.Fatal(err)
	}
	var in []triage.Intent
	for _, i := range s.DueIntents(t0.Add(2*time.Hour), 10) {
		if i.Kind == triage.IntentFinal {
			in = append(in, i)
		}
	}
	if len(in) != 1 {
		t.Fatalf("pending intents %+v, want the one final message", in)
	}
	r, _ := New("", "en", nil)
	it, ib, err := r.Intent(in[0])
	if err != nil || it != title || ib != body {
		t.Errorf("the intent's words differ from the view's:\n%s\n%s\n%v", it, ib, err)
	}
	if !strings.Contains(body, "no further messages will follow") {
		t.Errorf("the final message does not say it is the last:\n%s", body)
	}
	d.Status = triage.StatusAcknowledged
	if _, _, err := Message(d); err == nil {
		t.Error("an open incident got a final message")
	}
}

func TestDuration(t *testing.T) {
	for secs, want := range map[int64]string{-5: "0s", 0: "0s", 40: "40s", 60: "1m", 5100: "1h 25m", 90061: "1d 1h 1m", 7200: "2h"} {
		if got := Duration(secs); got != want {
			t.Errorf("Duration(%d) = %q, want %q", secs, got, want)
		}
	}
}

// TestTemplatesDirFallsBackAndNamesTheLine: a directory without
// internal.<lang>.yml uses the built-in templates; a broken one is refused
// at load, naming the file and the line.
func TestTemplatesDirFallsBackAndNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(dir, "en", nil); err != nil {
		t.Fatalf("a directory without internal templates: %v", err)
	}
	bad := "investigating: {title: t, body: b}\nidentified: {title: t, body: b}\nmonitoring: {title: t, body: b}\nresolved:\n  title: t\n  body: \"{{if .Key}}{{.Tickets}} {{.Ticket}}{{end}}\"\n"
	if err := os.WriteFile(filepath.Join(dir, "internal.en.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(dir, "en", nil)
	if want := filepath.Join(dir, "internal.en.yml") + ":6: resolved.body"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error naming %s", err, want)
	}
}
