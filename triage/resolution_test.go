package triage

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

// resolutionRules: Down is SEV1 on checkout, with the SEV1 policy from the
// test; anything else is SEV3. The quiet period is 10m.
const resolutionRules = `
services:
  checkout:
    display_name: Checkout
    component: Checkout API
    tier: 1
    customer_facing: true
    escalation_policy: checkout
    matchers: ['{service="checkout"}']
correlation:
  quiet_period: 10m
severity:
  rules:
    - {name: down, level: SEV1, when: {match: '{alertname="Down"}'}}
policies:
  SEV1: {page: immediately, %s}
  SEV3: {page: immediately}
`

// announceOnCall adds named receivers beside escalationOnCall's people.
const announceOnCall = `
receivers:
  - name: sre-announce
    webhook_configs: [{url: "http://127.0.0.1:1/announce"}]
  - name: company
    webhook_configs: [{url: "http://127.0.0.1:1/company"}]
`

// resolutionMachine is a machine with resolutionRules (SEV1 policy sev1),
// escalationOnCall and announceOnCall.
func resolutionMachine(t *testing.T, sev1 string) *machine {
	t.Helper()
	m := newMachine(t, nil)
	rc, err := NewRulesChange([]rules.File{{Name: "r.yml", Data: fmt.Appendf(nil, resolutionRules, sev1)}})
	must(t, err)
	m.apply(t0, &Entry{Rules: rc})
	oc, err := NewOnCallChange([]oncall.File{{Name: "oncall.yml", Data: []byte(escalationOnCall)},
		{Name: "announce.yml", Data: []byte(announceOnCall)}})
	must(t, err)
	if res := m.apply(t0, &Entry{OnCall: oc}); res.Err != nil {
		t.Fatal(res.Err)
	}
	return m
}

func (m *machine) status(key string) Status {
	m.t.Helper()
	d, ok := m.s.Get(key, 0, 0)
	if !ok {
		m.t.Fatalf("no incident %s", key)
	}
	return d.Status
}

func TestAutoResolvePolicy(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		alert  string // alertname: Down is SEV1, anything else SEV3
		// override sets SEV1 by hand one minute after the alert resolves.
		override bool
		// want is the status at 5m, 11m, 59m and 61m after the alert resolved.
		want [4]Status
	}{
		{"the quiet period by default", "status_page: off", "Down", false,
			[4]Status{StatusTriggered, StatusResolved, StatusResolved, StatusResolved}},
		{"auto_resolve false waits for a human", "auto_resolve: false", "Down", false,
			[4]Status{StatusTriggered, StatusTriggered, StatusTriggered, StatusTriggered}},
		{"resolve_after replaces the quiet period", "resolve_after: 1h", "Down", false,
			[4]Status{StatusTriggered, StatusTriggered, StatusTriggered, StatusResolved}},
		{"auto_resolve true is the default", "auto_resolve: true", "Down", false,
			[4]Status{StatusTriggered, StatusResolved, StatusResolved, StatusResolved}},
		{"an override to a manual level while quiet holds it", "auto_resolve: false", "Slow", true,
			[4]Status{StatusTriggered, StatusTriggered, StatusTriggered, StatusTriggered}},
		{"an override to a longer level while quiet moves the end", "resolve_after: 1h", "Slow", true,
			[4]Status{StatusTriggered, StatusTriggered, StatusTriggered, StatusResolved}},
		{"other levels keep the quiet period", "auto_resolve: false", "Slow", false,
			[4]Status{StatusTriggered, StatusResolved, StatusResolved, StatusResolved}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := resolutionMachine(t, tc.policy)
			a := firing("alertname", tc.alert, "service", "checkout")
			m.signals(t0, a)
			quiet := t0.Add(time.Minute)
			m.signals(quiet, resolved(a, quiet))
			if tc.override {
				must(t, m.act(quiet.Add(time.Minute), Action{Kind: ActionSetSeverity, Incident: "INC-1", By: "ada", Severity: "SEV1", Note: "customers"}))
			}
			var got [4]Status
			for i, after := range []time.Duration{5 * time.Minute, 11 * time.Minute, 59 * time.Minute, 61 * time.Minute} {
				m.tick(quiet.Add(after))
				got[i] = m.status("INC-1")
			}
			if got != tc.want {
				t.Errorf("status at 5m, 11m, 59m, 61m quiet = %v, want %v", got, tc.want)
			}
			if got[3] == StatusTriggered {
				must(t, m.act(quiet.Add(2*time.Hour), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}))
				if m.status("INC-1") != StatusResolved {
					t.Error("a human could not resolve it")
				}
			}
			assertRestoresEqual(t, m)
		})
	}
}

func TestManualResolveSaysSoAndStaysMonitoring(t *testing.T) {
	m := resolutionMachine(t, "auto_resolve: false")
	a := firing("alertname", "Down", "service", "checkout")
	m.signals(t0, a)
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute)))
	m.tick(t0.Add(24 * time.Hour))
	d, _ := m.s.Get("INC-1", 0, 0)
	if !timelineSays(d.Timeline, "SEV1 incidents stay open until a human resolves them") {
		t.Errorf("the timeline does not say why it stays open: %+v", d.Timeline)
	}
	if u := m.updates("INC-1"); !slices.Contains(u, "internal/monitoring/published") || slices.Contains(u, "internal/resolved/published") {
		t.Errorf("updates %q, want monitoring and not resolved", u)
	}
}

// finalIntents lists the pending final-message intents due by at.
func (m *machine) finalIntents(at time.Time) []Intent {
	var out []Intent
	for _, in := range m.s.DueIntents(at, 1000) {
		if in.Kind == IntentFinal {
			out = append(out, in)
		}
	}
	return out
}

// finalLife is an incident's life: Down fires at t0 with a ticket and a
// mention, ada's page is delivered, ada acknowledges at 3m and holds a
// role, the alert resolves at 20m and ada resolves it at 30m.
func finalLife(t *testing.T, m *machine) {
	t.Helper()
	a := firing("alertname", "Down", "service", "checkout")
	m.signals(t0, a)
	ticket := signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindTicket, Fingerprint: "t-1", Status: signal.StatusFiring,
		Labels: signal.StringsFrom(map[string]string{"service": "checkout"}), Report: &signal.Report{Text: "cannot pay", Customer: "acme-corp"}, StartsAt: t0}
	mention := signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindMention, Fingerprint: "m-1", Status: signal.StatusFiring,
		Labels: signal.StringsFrom(map[string]string{"service": "checkout"}), Report: &signal.Report{Text: "checkout down?", Reach: 1200}, StartsAt: t0}
	m.signals(t0.Add(time.Minute), ticket, mention)
	m.deliver(t0.Add(time.Minute), true)
	must(t, m.act(t0.Add(3*time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "ada"}))
	must(t, m.act(t0.Add(4*time.Minute), Action{Kind: ActionAssignRole, Incident: "INC-1", By: "ada", Role: "incident_manager", Person: "ada"}))
	m.signals(t0.Add(20*time.Minute), resolved(a, t0.Add(20*time.Minute)))
	must(t, m.act(t0.Add(30*time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}))
}

func TestResolutionSendsOneFinalMessagePerReceiver(t *testing.T) {
	m := resolutionMachine(t, "auto_resolve: false, final_message: [sre-announce, company, nobody]")
	finalLife(t, m)
	at := t0.Add(30 * time.Minute)
	got := m.finalIntents(at)
	var ids []string
	for _, in := range got {
		ids = append(ids, in.ID+" "+in.Receiver)
	}
	want := []string{"INC-1/final/1/company receiver/company", "INC-1/final/1/sre-announce receiver/sre-announce"}
	if !slices.Equal(ids, want) {
		t.Fatalf("final intents %q, want %q", ids, want)
	}
	f := got[0].Message.Final
	wantF := Figures{Key: "INC-1", Title: got[0].Message.Title, Service: "checkout", Services: []string{"checkout"},
		Components: []string{"Checkout API"}, Severity: "SEV1", StartedAt: t0, ResolvedAt: at, ResolvedBy: "ada",
		DurationSeconds: 1800, AcknowledgedBy: "ada", TimeToAckSeconds: 180, PagesSent: 1,
		Alerts: 1, Tickets: 1, Mentions: 1, Reach: 1200, Customers: 1,
		Roles: []RoleHolders{{Role: "Incident manager", People: []string{"ada"}}}}
	if f == nil || fmt.Sprintf("%+v", *f) != fmt.Sprintf("%+v", wantF) {
		t.Fatalf("figures\n got %+v\nwant %+v", f, wantF)
	}
	d, _ := m.s.Get("INC-1", 0, 0)
	if fmt.Sprintf("%+v", d.Figures) != fmt.Sprintf("%+v", wantF) {
		t.Errorf("the view's figures differ from the message's:\n got %+v\nwant %+v", d.Figures, wantF)
	}
	if !timelineSays(d.Timeline, `final message not sent to "nobody"`) {
		t.Error("an undefined receiver is not on the timeline")
	}

	m.deliver(at, true)
	m.deliver(at.Add(time.Minute), true) // nothing is left to deliver
	d, _ = m.s.Get("INC-1", 0, 0)
	if n := countEvents(d.Timeline, EventFinal); n != 3 {
		t.Errorf("%d final-message events, want 3 (two sent, one not)", n)
	}
	if len(m.finalIntents(at.Add(time.Hour))) != 0 {
		t.Error("a delivered final message is pending again")
	}
	// A delivery report journaled twice around a crash changes nothing.
	res := m.apply(at.Add(2*time.Minute), &Entry{Delivery: &Delivery{Intent: want[0][:len("INC-1/final/1/company")], Attempt: 1, OK: true}})
	if len(res.Delivered) != 0 || res.Intents != 0 {
		t.Errorf("a repeated report did something: %+v", res)
	}
	assertRestoresEqual(t, m)
}

func TestFinalMessageFollowsEachResolution(t *testing.T) {
	m := resolutionMachine(t, "final_message: [sre-announce]")
	a := firing("alertname", "Down", "service", "checkout")
	m.signals(t0, a)
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute)))
	m.tick(t0.Add(11 * time.Minute)) // resolves by itself
	if got := m.finalIntents(t0.Add(11 * time.Minute)); len(got) != 1 || got[0].ID != "INC-1/final/1/sre-announce" ||
		got[0].Message.Final.ResolvedBy != "" || got[0].Message.Final.PagesSent != 0 {
		t.Fatalf("after the automatic resolution: %+v", got)
	}
	m.deliver(t0.Add(11*time.Minute), true)
	// a human resolution of another incident, and a merge, which ends an
	// incident without its impact ending: no final message for the merged.
	m.signals(t0.Add(20*time.Minute), firing("alertname", "Down", "service", "checkout", "env", "b"))
	m.signals(t0.Add(20*time.Minute), firing("alertname", "Other", "service", "search"))
	must(t, m.act(t0.Add(21*time.Minute), Action{Kind: ActionMerge, Incident: "INC-2", From: "INC-3", By: "ada"}))
	if got := m.finalIntents(t0.Add(21 * time.Minute)); len(got) != 0 {
		t.Errorf("a merge sent a final message: %+v", got)
	}
	var pages []string
	for _, in := range m.s.DueIntents(t0.Add(time.Hour), 1000) {
		pages = append(pages, string(in.Kind)+" "+in.ID)
	}
	if slices.ContainsFunc(pages, func(s string) bool { return strings.HasPrefix(s, "final ") }) {
		t.Errorf("final messages pending: %q", pages)
	}
}

// TestShorterWaitResolvesNowNotInThePast: a reload that shortens the wait
// of an incident quiet for longer than the new wait resolves it at the
// reload, never at a time before it.
func TestShorterWaitResolvesNowNotInThePast(t *testing.T) {
	m := resolutionMachine(t, "resolve_after: 2h")
	a := firing("alertname", "Down", "service", "checkout")
	m.signals(t0, a)
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute)))
	m.tick(t0.Add(time.Hour))
	if m.status("INC-1") != StatusTriggered {
		t.Fatal("resolved before its 2h")
	}
	rc, err := NewRulesChange([]rules.File{{Name: "r.yml", Data: fmt.Appendf(nil, resolutionRules, "resolve_after: 30m")}})
	must(t, err)
	reload := t0.Add(time.Hour + time.Minute)
	m.apply(reload, &Entry{Rules: rc})
	m.tick(reload.Add(time.Second))
	d, _ := m.s.Get("INC-1", 0, 0)
	if d.Status != StatusResolved || d.ResolvedAt == nil || d.ResolvedAt.Before(reload) {
		t.Fatalf("status %s at %v, want resolved at or after the reload %v", d.Status, d.ResolvedAt, reload)
	}
}
