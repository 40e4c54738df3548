package triage

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

// escalationRules: checkout pages at once through policy "checkout"; SEV3
// (everything else) pages in business hours.
const escalationRules = `
services:
  checkout:
    display_name: Checkout
    tier: 1
    team: shop
    escalation_policy: checkout
    matchers: ['{service="checkout"}']
severity:
  rules:
    - {name: down, level: SEV1, when: {match: '{alertname="Down"}'}}
policies:
  SEV1: {page: immediately}
  SEV3: {page: business_hours, calendar: office}
calendars:
  office: {time_zone: Europe/Berlin, days: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}
`

// escalationOnCall: ada is on call, then bob as the step after; ada has a
// second method five minutes in; the policy repeats once, then the noc.
const escalationOnCall = `
people:
  ada:
    name: Ada
    time_zone: UTC
    contact_methods:
      - {name: push, webhook_configs: [{url: "http://127.0.0.1:1/ada"}]}
      - {name: phone, webhook_configs: [{url: "http://127.0.0.1:1/ada-phone"}]}
    notification_rules:
      - {after: 0m, contact_methods: [push]}
      - {after: 5m, contact_methods: [phone]}
  bob:
    name: Bob
    time_zone: UTC
    contact_methods:
      - {name: push, webhook_configs: [{url: "http://127.0.0.1:1/bob"}]}
schedules:
  primary:
    time_zone: UTC
    layers:
      - name: all
        precedence: 1
        rotation: {length: weekly, hand_off: "2026-11-01T00:00", participants: [ada]}
escalation_policies:
  checkout:
    repeat: 1
    steps:
      - {escalate_after: 10m, schedules: [primary]}
      - {escalate_after: 10m, people: [bob]}
    fallback: {name: noc, webhook_configs: [{url: "http://127.0.0.1:1/noc"}]}
  default:
    steps:
      - {escalate_after: 10m, people: [bob]}
    fallback: {name: noc, webhook_configs: [{url: "http://127.0.0.1:1/noc"}]}
`

// pagingMachine is a machine with the escalation rules and on-call files.
func pagingMachine(t *testing.T) *machine {
	t.Helper()
	m := newMachine(t, nil)
	rc, err := NewRulesChange([]rules.File{{Name: "r.yml", Data: []byte(escalationRules)}})
	if err != nil {
		t.Fatal(err)
	}
	m.apply(t0, &Entry{Rules: rc})
	oc, err := NewOnCallChange([]oncall.File{{Name: "oncall.yml", Data: []byte(escalationOnCall)}})
	if err != nil {
		t.Fatal(err)
	}
	if res := m.apply(t0, &Entry{OnCall: oc}); res.Err != nil {
		t.Fatal(res.Err)
	}
	return m
}

// pending lists the IDs of the pending intents due by at.
func (m *machine) pending(at time.Time) []string {
	var ids []string
	for _, in := range m.s.DueIntents(at, 1000) {
		ids = append(ids, in.ID)
	}
	return ids
}

// deliver journals a delivery of every intent due by at.
func (m *machine) deliver(at time.Time, ok bool) {
	m.t.Helper()
	for _, in := range m.s.DueIntents(at, 1000) {
		m.apply(at, &Entry{Delivery: &Delivery{Intent: in.ID, Attempt: in.Attempts + 1, OK: ok, Error: errText(ok)}})
	}
}

func errText(ok bool) string {
	if ok {
		return ""
	}
	return "400 Bad Request"
}

func TestEscalationPagesStepByStepUntilAcknowledged(t *testing.T) {
	m := pagingMachine(t)
	down := firing("alertname", "Down", "service", "checkout")
	m.signals(t0, down)

	want := []string{"INC-1/page/0/0/ada/0/push"}
	if got := m.pending(t0); !slices.Equal(got, want) {
		t.Fatalf("at once: %v, want %v", got, want)
	}
	m.deliver(t0, true)
	if got := m.pending(t0.Add(5 * time.Minute)); !slices.Equal(got, []string{"INC-1/page/0/0/ada/1/phone"}) {
		t.Fatalf("five minutes in: %v", got)
	}
	m.deliver(t0.Add(5*time.Minute), true)
	m.tick(t0.Add(10 * time.Minute))
	if got := m.pending(t0.Add(10 * time.Minute)); !slices.Equal(got, []string{"INC-1/page/0/1/bob/0/push"}) {
		t.Fatalf("step 2: %v", got)
	}
	if err := m.act(t0.Add(11*time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "bob"}); err != nil {
		t.Fatal(err)
	}
	m.tick(t0.Add(time.Hour))
	if got := m.pending(t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("after the ack: %v", got)
	}
	d, _ := m.s.Get("INC-1", 0, 0)
	if d.Escalation == nil || !d.Escalation.Stopped || d.FirstPaged == nil {
		t.Errorf("escalation = %+v", d.Escalation)
	}
	if !timelineSays(d.Timeline, "escalation stopped: acknowledged by bob") {
		t.Errorf("timeline: %+v", d.Timeline)
	}
}

func TestEscalationEndsInTheFallback(t *testing.T) {
	m := pagingMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	var sent []string
	for at := t0; at.Before(t0.Add(2 * time.Hour)); at = at.Add(time.Minute) {
		m.tick(at)
		for _, in := range m.s.DueIntents(at, 1000) {
			sent = append(sent, in.ID)
		}
		m.deliver(at, true)
	}
	want := []string{
		"INC-1/page/0/0/ada/0/push", "INC-1/page/0/0/ada/1/phone", "INC-1/page/0/1/bob/0/push",
		"INC-1/page/1/0/ada/0/push", "INC-1/page/1/0/ada/1/phone", "INC-1/page/1/1/bob/0/push",
		"INC-1/page/fallback/noc",
	}
	if !slices.Equal(sent, want) {
		t.Fatalf("sent %v\nwant %v", sent, want)
	}
}

func TestUnreachedStepMovesOnAtOnce(t *testing.T) {
	m := pagingMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	m.deliver(t0, false) // ada's push refuses for good
	if got := m.pending(t0); len(got) != 0 {
		t.Fatalf("ada's phone is not due yet, got %v", got)
	}
	m.deliver(t0.Add(5*time.Minute), false) // and her phone
	if got := m.pending(t0.Add(5 * time.Minute)); !slices.Equal(got, []string{"INC-1/page/0/1/bob/0/push"}) {
		t.Fatalf("after ada was not reached: %v (want bob at once, not at 10m)", got)
	}
}

func TestRetriedDeliveryIsNotSentTwice(t *testing.T) {
	m := pagingMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	id := "INC-1/page/0/0/ada/0/push"
	m.apply(t0, &Entry{Delivery: &Delivery{Intent: id, Attempt: 1, Error: "503", Retry: true}})
	if got := m.pending(t0.Add(5 * time.Second)); slices.Contains(got, id) {
		t.Fatal("retried before its backoff")
	}
	if got := m.pending(t0.Add(10 * time.Second)); !slices.Contains(got, id) {
		t.Fatalf("not retried after its backoff: %v", got)
	}
	m.apply(t0.Add(10*time.Second), &Entry{Delivery: &Delivery{Intent: id, Attempt: 2, OK: true}})
	// The same report journaled again (a crash between the send and the
	// worker's bookkeeping) changes nothing.
	m.apply(t0.Add(11*time.Second), &Entry{Delivery: &Delivery{Intent: id, Attempt: 2, OK: true}})
	d, _ := m.s.Get("INC-1", 0, 0)
	if n := countEvents(d.Timeline, EventPaged); n != 1 {
		t.Errorf("%d paged events, want 1", n)
	}
	if restored := restoredCopy(t, m); len(restored.DueIntents(t0.Add(time.Hour), 100)) != len(m.s.DueIntents(t0.Add(time.Hour), 100)) {
		t.Error("restored intents differ")
	}
}

func TestBusinessHoursWaitAndSeverityRiseStartsAtOnce(t *testing.T) {
	m := pagingMachine(t)
	saturday := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	slow := alert(signal.StatusFiring, saturday, "alertname", "Slow", "service", "checkout")
	m.signals(saturday, slow)
	if got := m.pending(saturday.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("SEV3 paged on a Saturday: %v", got)
	}
	if due, _ := m.s.NextDue(); !due.Equal(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("escalation waits until %v, want Monday 09:00 Berlin", due)
	}
	m.signals(saturday.Add(time.Hour), alert(signal.StatusFiring, saturday, "alertname", "Down", "service", "checkout"))
	if got := m.pending(saturday.Add(time.Hour)); !slices.Equal(got, []string{"INC-1/page/0/0/ada/0/push"}) {
		t.Fatalf("SEV1 did not page at once: %v", got)
	}
}

func TestResolveCancelsPendingPages(t *testing.T) {
	m := pagingMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	if err := m.act(t0.Add(time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}); err != nil {
		t.Fatal(err)
	}
	if got := m.pending(t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("pages after resolve: %v", got)
	}
}

func TestManualEscalationAndOverrides(t *testing.T) {
	m := pagingMachine(t)
	res := m.apply(t0, &Entry{Override: &OverrideChange{Set: &oncall.Override{Schedule: "primary", Person: "bob", Start: t0, End: t0.Add(time.Hour)}}})
	if res.Err != nil || res.Created != "override-3" {
		t.Fatalf("override: %v %q", res.Err, res.Created)
	}
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	if got := m.pending(t0); !slices.Equal(got, []string{"INC-1/page/0/0/bob/0/push"}) {
		t.Fatalf("the override's bob is not paged: %v", got)
	}
	m.deliver(t0, true)
	if err := m.act(t0.Add(time.Minute), Action{Kind: ActionEscalate, Incident: "INC-1", By: "cy"}); err != nil {
		t.Fatal(err)
	}
	if got := m.pending(t0.Add(time.Minute)); !slices.Equal(got, []string{"INC-1/page/0/1/bob/0/push"}) {
		t.Fatalf("manual escalation: %v", got)
	}
	for _, bad := range []*OverrideChange{
		{Set: &oncall.Override{Schedule: "nope", Person: "bob", Start: t0, End: t0.Add(time.Hour)}},
		{Set: &oncall.Override{Schedule: "primary", Person: "zed", Start: t0, End: t0.Add(time.Hour)}},
		{Set: &oncall.Override{Schedule: "primary", Person: "bob", Start: t0, End: t0}},
		{Remove: "override-99"},
	} {
		if res := m.apply(t0, &Entry{Override: bad}); res.Err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if res := m.apply(t0, &Entry{Override: &OverrideChange{Remove: "override-3"}}); res.Err != nil {
		t.Errorf("remove: %v", res.Err)
	}
}

func TestNoPolicyIsSaidNotSilent(t *testing.T) {
	m := pagingMachine(t)
	oc, err := NewOnCallChange([]oncall.File{{Name: "o.yml", Data: []byte(strings.Replace(escalationOnCall, "  checkout:\n    repeat", "  other:\n    repeat", 1))}})
	if err != nil {
		t.Fatal(err)
	}
	m.apply(t0, &Entry{OnCall: oc})
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	d, _ := m.s.Get("INC-1", 0, 0)
	if !timelineSays(d.Timeline, `escalation policy "checkout" is not defined`) {
		t.Errorf("timeline: %+v", d.Timeline)
	}
}

func timelineSays(events []Event, text string) bool {
	return slices.ContainsFunc(events, func(e Event) bool { return strings.Contains(e.Message, text) })
}

func countEvents(events []Event, kind EventKind) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// TestEscalationIsDeterministic: live, replayed from the records and
// restored from a snapshot midway, an escalation decides the same intents
// and ends in the same state.
func TestEscalationIsDeterministic(t *testing.T) {
	m := pagingMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	m.deliver(t0, true)
	m.tick(t0.Add(12 * time.Minute))
	mid := restoredCopy(t, m)
	m.deliver(t0.Add(12*time.Minute), false)
	m.tick(t0.Add(40 * time.Minute))

	replayed := New(nil)
	for _, rec := range m.log {
		replayed.Apply(rec)
	}
	for _, rec := range m.log {
		if rec.Seq > mid.LastSeq() {
			mid.Apply(rec)
		}
	}
	want, _ := m.s.Snapshot()()
	for name, s := range map[string]*State{"replayed": replayed, "restored midway": mid} {
		if got, _ := s.Snapshot()(); string(got) != string(want) {
			t.Errorf("%s state differs from live: %s", name, firstDiff(got, want))
		}
	}
}

// A silenced incident is not paged; when the silence ends (its end timer,
// or an expiry), escalation starts at once.
func TestSilenceHoldsEscalationUntilItEnds(t *testing.T) {
	for _, expire := range []bool{false, true} {
		m := pagingMachine(t)
		id := m.mustSilence(t0, SilenceChange{Matchers: []string{`alertname="Down"`}, EndsAt: t0.Add(30 * time.Minute), CreatedBy: "ada", Comment: "deploy"})
		m.signals(t0.Add(time.Minute), firing("alertname", "Down", "service", "checkout"))
		m.tick(t0.Add(20 * time.Minute))
		if got := m.pending(t0.Add(20 * time.Minute)); len(got) != 0 {
			t.Fatalf("silenced incident paged: %v", got)
		}
		end := t0.Add(30 * time.Minute)
		if expire {
			end = t0.Add(25 * time.Minute)
			m.silence(end, SilenceChange{ID: id, Expire: true, By: "bob"})
		}
		m.tick(end)
		if got := m.pending(end); len(got) == 0 {
			t.Fatalf("expire=%v: nobody paged after the silence ended", expire)
		}
	}
}

// A silence that covers an escalation under way holds it: the step's pages
// not yet sent (ada's phone, due five minutes in) are cancelled, no step
// comes due while it lasts, and the next step pages when it ends, unless
// the incident was acknowledged meanwhile.
func TestSilenceHoldsEscalationUnderWay(t *testing.T) {
	for _, ack := range []bool{false, true} {
		m := pagingMachine(t)
		m.signals(t0, firing("alertname", "Down", "service", "checkout"))
		m.deliver(t0, true) // ada's push
		m.mustSilence(t0.Add(2*time.Minute), SilenceChange{Matchers: []string{`alertname="Down"`}, EndsAt: t0.Add(40 * time.Minute), CreatedBy: "ada", Comment: "failover drill"})
		for _, at := range []time.Time{t0.Add(5 * time.Minute), t0.Add(10 * time.Minute), t0.Add(39 * time.Minute)} {
			m.tick(at)
			if got := m.pending(at); len(got) != 0 {
				t.Fatalf("ack=%v: paged at %s under the silence: %v", ack, at.Sub(t0), got)
			}
		}
		if ack {
			if err := m.act(t0.Add(30*time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "ada"}); err != nil {
				t.Fatal(err)
			}
		}
		end := t0.Add(40 * time.Minute)
		m.tick(end)
		want := []string{"INC-1/page/0/1/bob/0/push"}
		if ack {
			want = nil
		}
		if got := m.pending(end); !slices.Equal(got, want) {
			t.Fatalf("ack=%v: when the silence ended: %v, want %v", ack, got, want)
		}
		d, _ := m.s.Get("INC-1", 0, 0)
		if !timelineSays(d.Timeline, "escalation held: every firing alert is silenced") {
			t.Errorf("ack=%v: timeline: %+v", ack, d.Timeline)
		}
		if resumed := timelineSays(d.Timeline, "the escalation goes on"); resumed == ack {
			t.Errorf("ack=%v: resumed=%v; timeline: %+v", ack, resumed, d.Timeline)
		}
	}
}

// A firing alert that no silence covers ends the hold at once.
func TestUnsilencedAlertEndsTheHold(t *testing.T) {
	m := pagingMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	m.deliver(t0, true)
	m.mustSilence(t0.Add(time.Minute), SilenceChange{Matchers: []string{`alertname="Down"`}, EndsAt: t0.Add(time.Hour), CreatedBy: "ada", Comment: "known"})
	m.tick(t0.Add(12 * time.Minute))
	if got := m.pending(t0.Add(12 * time.Minute)); len(got) != 0 {
		t.Fatalf("paged under the silence: %v", got)
	}
	at := t0.Add(15 * time.Minute)
	m.signals(at, firing("alertname", "Latency", "service", "checkout"))
	if got := m.pending(at); !slices.Equal(got, []string{"INC-1/page/0/1/bob/0/push"}) {
		t.Fatalf("after an unsilenced alert joined: %v", got)
	}
}

// TestAckTimeoutPagesAgain: a policy's ack_timeout pages an acknowledged
// incident again from the first step when it is not resolved in time, with
// new page IDs; a resolve before then stops it for good.
func TestAckTimeoutPagesAgain(t *testing.T) {
	for _, resolve := range []bool{false, true} {
		m := pagingMachine(t)
		withTimeout := strings.Replace(escalationOnCall, "  checkout:\n    repeat: 1", "  checkout:\n    ack_timeout: 30m\n    repeat: 1", 1)
		oc, err := NewOnCallChange([]oncall.File{{Name: "oncall.yml", Data: []byte(withTimeout)}})
		if err != nil {
			t.Fatal(err)
		}
		m.apply(t0, &Entry{OnCall: oc})
		m.signals(t0, firing("alertname", "Down", "service", "checkout"))
		m.deliver(t0, true)
		if err := m.act(t0.Add(time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "ada"}); err != nil {
			t.Fatal(err)
		}
		if resolve {
			if err := m.act(t0.Add(20*time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}); err != nil {
				t.Fatal(err)
			}
		}
		m.tick(t0.Add(31 * time.Minute))
		got := m.pending(t0.Add(31 * time.Minute))
		want := []string{"INC-1/page/c1/0/0/ada/0/push"}
		if resolve {
			want = nil
		}
		if !slices.Equal(got, want) {
			t.Errorf("resolve=%v: pending %v, want %v", resolve, got, want)
		}
		if d, _ := m.s.Get("INC-1", 0, 0); !resolve && d.Status != StatusTriggered {
			t.Errorf("status after the ack timed out: %s", d.Status)
		}
		if !resolve {
			if r := restoredCopy(t, m); !reflect.DeepEqual(r.DueIntents(t0.Add(time.Hour), 10), m.s.DueIntents(t0.Add(time.Hour), 10)) {
				t.Error("restored state disagrees")
			}
		}
	}
}

func TestRoutingContext(t *testing.T) {
	m := pagingMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	d, _ := m.s.Get("INC-1", 0, 0)
	want := Routing{Team: "shop", DisplayName: "Checkout", Component: "Checkout", Tier: 1, EscalationPolicy: "checkout",
		SeverityPolicy: &SeverityPolicy{Page: "immediately", StatusPage: "approval", ChatRoom: true}}
	if !reflect.DeepEqual(d.Routing, want) {
		t.Errorf("routing = %+v (policy %+v)\nwant %+v (policy %+v)", d.Routing, d.Routing.SeverityPolicy, want, want.SeverityPolicy)
	}
	list, _ := m.s.List(Filter{Limit: 10})
	if !reflect.DeepEqual(list[0].Routing, want) {
		t.Errorf("the list's routing differs: %+v", list[0].Routing)
	}
}

// TestReopenWithin: with correlation.reopen_within, an alert that fires
// again soon after its incident resolved reopens it, and it pages again;
// later than that it opens a new incident.
func TestReopenWithin(t *testing.T) {
	for _, tc := range []struct {
		after    time.Duration
		wantOpen string
	}{{5 * time.Minute, "INC-1"}, {20 * time.Minute, "INC-2"}} {
		m := pagingMachine(t)
		y := strings.Replace(escalationRules, "    escalation_policy: checkout\n", "    escalation_policy: checkout\n    correlation: {reopen_within: 10m}\n", 1)
		rc, err := NewRulesChange([]rules.File{{Name: "r.yml", Data: []byte(y)}})
		if err != nil {
			t.Fatal(err)
		}
		m.apply(t0, &Entry{Rules: rc})
		down := firing("alertname", "Down", "service", "checkout")
		m.signals(t0, down)
		m.deliver(t0, true)
		if err := m.act(t0.Add(time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Minute + tc.after)
		m.signals(at, down) // a re-send of the still-firing alert
		open := m.list("open")
		if len(open) != 1 || open[0].Key != tc.wantOpen || open[0].Alerts.Firing != 1 {
			t.Fatalf("after %s: open %+v, want %s", tc.after, open, tc.wantOpen)
		}
		if got := m.pending(at); len(got) != 1 || !strings.HasPrefix(got[0], tc.wantOpen+"/page/") {
			t.Errorf("after %s: pages %v", tc.after, got)
		}
		if r := restoredCopy(t, m); r.OpenCount() != 1 {
			t.Errorf("restored open count %d", r.OpenCount())
		}
	}
}
