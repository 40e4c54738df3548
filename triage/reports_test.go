package triage

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

// acmeMachine runs the shipped Acme Shop rules.
func acmeMachine(t *testing.T) *machine {
	t.Helper()
	files, err := rules.Load("", []string{"../configs/rules/*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	m := newMachine(t, nil)
	rc, err := NewRulesChange(files)
	if err != nil {
		t.Fatal(err)
	}
	m.apply(t0, &Entry{Rules: rc})
	return m
}

func ticket(id, subject, customer string) signal.Signal {
	return signal.Signal{Source: "tickets", Kind: signal.KindTicket, Fingerprint: id, Status: signal.StatusFiring,
		Labels: signal.StringsFrom(map[string]string{"priority": "high"}), Annotations: signal.StringsFrom(map[string]string{"summary": subject}),
		Report: &signal.Report{Text: "Hello, " + subject, Customer: customer}, StartsAt: t0}
}

func mention(id, text string, reach int64) signal.Signal {
	return signal.Signal{Source: "mentions", Kind: signal.KindMention, Fingerprint: id, Status: signal.StatusFiring,
		Labels: signal.StringsFrom(map[string]string{"platform": "mastodon"}), Report: &signal.Report{Text: text, Reach: reach}, StartsAt: t0}
}

// editReport changes sig's Report, a copy of it: copies of a signal share
// their Report.
func editReport(sig *signal.Signal, edit func(r *signal.Report)) {
	r := sig.Reported()
	edit(&r)
	sig.SetReport(r)
}

func TestTicketsJoinTheOpenIncidentOfTheirService(t *testing.T) {
	m := acmeMachine(t)
	m.signals(t0, firing("alertname", "CheckoutDown", "service", "checkout", "env", "prod"))
	m.signals(t0.Add(time.Minute), ticket("t1", "Checkout hangs", "acme-gmbh"), ticket("t2", "I can't pay", "bob"),
		ticket("t3", "Search is slow", "carol"))
	d, _ := m.s.Get("INC-1", 0, 100)
	if d.SignalsTotal != 3 || d.Customers != 2 {
		t.Fatalf("INC-1 took %d signals from %d customers, want the alert and two checkout tickets from 2", d.SignalsTotal, d.Customers)
	}
	if got := m.list("open"); len(got) != 1 {
		t.Errorf("the search ticket opened an incident alone: %+v", got)
	}
	pools := m.s.Pools()
	if len(pools) != 1 || pools[0].Service != "search" || pools[0].Tickets != 1 {
		t.Errorf("pools = %+v, want the search ticket waiting", pools)
	}
}

func TestTicketsAloneOpenAnIncidentWhenARuleHolds(t *testing.T) {
	m := acmeMachine(t)
	for i := range 4 {
		m.signals(t0.Add(time.Duration(i)*time.Minute), ticket(fmt.Sprint("t", i), "checkout broken", fmt.Sprint("c", i)))
	}
	if got := m.list("open"); len(got) != 0 {
		t.Fatalf("four tickets opened %+v; the rule needs five", got)
	}
	m.signals(t0.Add(5*time.Minute), ticket("t4", "checkout broken", "c4"))
	open := m.list("open")
	if len(open) != 1 || open[0].Severity != "SEV2" || open[0].Rule != "some-customers-affected" || open[0].Alerts.Total != 5 || open[0].Customers != 5 {
		t.Fatalf("after five tickets: %+v", open)
	}
	if !open[0].StartedAt.Equal(t0) {
		t.Errorf("started %v, want the first ticket's %v", open[0].StartedAt, t0)
	}
	for i := 5; i < 20; i++ {
		m.signals(t0.Add(6*time.Minute), ticket(fmt.Sprint("t", i), "checkout broken", fmt.Sprint("c", i)))
	}
	if d, _ := m.s.Get(open[0].Key, 0, 0); d.Severity != "SEV1" || d.Rule != "all-customers-down" {
		t.Errorf("after twenty tickets in fifteen minutes: %s by %s", d.Severity, d.Rule)
	}
	if len(m.s.Pools()) != 0 {
		t.Errorf("the pool outlived its incident: %+v", m.s.Pools())
	}
	checkRestoreMatches(t, m)
}

func TestUpdatesAndBoostsAreNotNewReports(t *testing.T) {
	m := acmeMachine(t)
	m.signals(t0, firing("alertname", "CheckoutDown", "service", "checkout", "env", "prod"))
	tk := ticket("t1", "Checkout hangs", "bob")
	m.signals(t0.Add(time.Minute), tk)
	tk.Annotations = signal.StringsFrom(map[string]string{"summary": "Checkout hangs (update: still)"})
	res := m.signals(t0.Add(2*time.Minute), tk)
	mn := mention("m1", "checkout is down again", 100)
	m.signals(t0.Add(3*time.Minute), mn)
	dup := m.signals(t0.Add(3*time.Minute), mn)
	editReport(&mn, func(r *signal.Report) { r.Reach = 250 }) // boosted
	m.signals(t0.Add(4*time.Minute), mn)
	d, _ := m.s.Get("INC-1", 0, 100)
	if res.Accepted != 1 || dup.Duplicates != 1 || d.SignalsTotal != 3 {
		t.Fatalf("update accepted %d, duplicate %d, %d signals", res.Accepted, dup.Duplicates, d.SignalsTotal)
	}
	inc := m.s.incidents["INC-1"]
	if got := inc.Totals[counterIndex[rules.CounterTickets]]; got != 1 {
		t.Errorf("tickets %d, want 1: an update is the same ticket", got)
	}
	if got := inc.Totals[counterIndex[rules.CounterMentions]]; got != 1 {
		t.Errorf("mentions %d, want 1", got)
	}
	if got := inc.Totals[counterIndex[rules.CounterReach]]; got != 250 {
		t.Errorf("reach %d, want 250: a boost adds reach, not a report", got)
	}
}

func TestReportOnlyIncidentResolvesAfterQuietSinceTheLastReport(t *testing.T) {
	m := acmeMachine(t)
	for i := range 5 {
		m.signals(t0, ticket(fmt.Sprint("t", i), "checkout broken", ""))
	}
	key := m.list("open")[0].Key
	m.signals(t0.Add(4*time.Minute), ticket("t5", "checkout still broken", ""))
	// The example's SEV2 policy resolves after 30m quiet (resolve_after).
	m.tick(t0.Add(31 * time.Minute))
	if d, _ := m.s.Get(key, 0, 0); d.Status == StatusResolved {
		t.Fatal("resolved within the quiet period after the last report")
	}
	m.tick(t0.Add(35 * time.Minute))
	if d, _ := m.s.Get(key, 0, 0); d.Status != StatusResolved {
		t.Fatalf("still %s (%s) long after the last report", d.Status, d.Severity)
	}
}

func TestUnattributedReportsAreKeptAndCounted(t *testing.T) {
	m := acmeMachine(t)
	m.signals(t0, ticket("t1", "my cat walked on the keyboard", "dora"))
	pools := m.s.Pools()
	if len(pools) != 1 || pools[0].Service != "" || pools[0].Tickets != 1 {
		t.Fatalf("pools = %+v", pools)
	}
	m.tick(t0.Add(48 * time.Hour))
	if len(m.s.Pools()) != 0 || len(m.s.alerts) != 0 {
		t.Errorf("an old pool is kept: %+v, %d records", m.s.Pools(), len(m.s.alerts))
	}
}

// A restored state knows the pool each report waits in, as the live one
// does: a boosted mention, and a boost that reached more people, add their
// reach to the pool either way.
func TestBoostOfAPooledMentionCountsAfterRestore(t *testing.T) {
	for name, restore := range map[string]bool{"live": false, "restored": true} {
		t.Run(name, func(t *testing.T) {
			m := acmeMachine(t)
			mn := mention("m1", "my cat walked on the keyboard", 100)
			m.signals(t0, mn)
			if restore {
				snap, err := m.s.Snapshot()()
				if err != nil {
					t.Fatal(err)
				}
				if err := m.s.Restore(snap); err != nil {
					t.Fatal(err)
				}
			}
			boost := mention("b1", "", 40)
			editReport(&boost, func(r *signal.Report) { r.RepostOf = "m1" })
			m.signals(t0.Add(30*time.Second), boost)
			if restore {
				checkRestoreMatches(t, m)
				snap, err := m.s.Snapshot()()
				if err != nil {
					t.Fatal(err)
				}
				if err := m.s.Restore(snap); err != nil {
					t.Fatal(err)
				}
			}
			editReport(&mn, func(r *signal.Report) { r.Reach = 250 })
			m.signals(t0.Add(time.Minute), mn)
			editReport(&boost, func(r *signal.Report) { r.Reach = 90 }) // the boost reached more people since
			m.signals(t0.Add(2*time.Minute), boost)
			if pools := m.s.Pools(); len(pools) != 1 || pools[0].Mentions != 1 || pools[0].Reach != 340 {
				t.Errorf("pools = %+v, want one with 1 mention of reach 250+90", pools)
			}
		})
	}
}

// checkRestoreMatches checks that a state restored from m's snapshot
// serialises exactly as m's.
func checkRestoreMatches(t *testing.T, m *machine) {
	t.Helper()
	want, _ := m.s.Snapshot()()
	if got, _ := restoredCopy(t, m).Snapshot()(); string(got) != string(want) {
		t.Errorf("restored state differs: %s", firstDiff(got, want))
	}
}

func TestImpactAssessment(t *testing.T) {
	m := acmeMachine(t)
	early := alert(signal.StatusFiring, t0.Add(-10*time.Minute), "alertname", "CheckoutDown", "service", "checkout", "env", "prod")
	early.Annotations = signal.StringsFrom(map[string]string{"summary": "Checkout returns 500s"})
	m.signals(t0, early)
	m.signals(t0.Add(time.Minute), ticket("t1", "Checkout hangs", "acme-gmbh"), ticket("t2", "Checkout hangs", "bob"),
		ticket("t3", "I can't pay", "bob"))
	m.signals(t0.Add(2*time.Minute), mention("m1", "checkout down #fail", 1200))
	d, _ := m.s.Get("INC-1", 0, 0)
	im := d.Impact
	if im.Customers != 2 || len(im.CustomerNames) != 2 || im.Tickets != 3 || im.Mentions != 1 || im.Reach != 1200 || im.Alerts != 1 {
		t.Errorf("figures: %+v", im)
	}
	if !im.Since.Equal(t0.Add(-10 * time.Minute)) {
		t.Errorf("since %v, want the alert's start, before the first signal arrived", im.Since)
	}
	if len(im.WhatTheySee) < 2 || im.WhatTheySee[0] != (Seen{What: "Checkout hangs", Count: 2}) {
		t.Errorf("what they see: %+v", im.WhatTheySee)
	}
	if len(im.Factors) != 1 || im.Factors[0] != "social media: 1 mentions, reach 1200" {
		t.Errorf("factors: %q", im.Factors)
	}
}

// TestReportBodiesAreForgotten: a report's body goes after its retention,
// from the live state and so from every later snapshot, while the report
// and its counts stay; and it never reaches the archive.
func TestReportBodiesAreForgotten(t *testing.T) {
	m := acmeMachine(t)
	m.signals(t0, firing("alertname", "CheckoutDown", "service", "checkout", "env", "prod"))
	m.signals(t0, ticket("t1", "Checkout hangs", "bob"))
	t1 := ticket("t1", "", "")
	id := t1.ID()
	m.tick(t0.Add(ReportTextRetention - time.Second))
	if m.s.alerts[id].Signal.Text() == "" {
		t.Fatal("the body went early")
	}
	m.tick(t0.Add(ReportTextRetention))
	snap, _ := m.s.Snapshot()()
	if m.s.alerts[id].Signal.Text() != "" || strings.Contains(string(snap), "Hello, Checkout hangs") {
		t.Fatal("the body outlived its retention")
	}
	if d, _ := m.s.Get("INC-1", 0, 0); d.Impact.Tickets != 1 {
		t.Errorf("the count went with the body: %+v", d.Impact)
	}
	checkRestoreMatches(t, m)

	m2 := acmeMachine(t)
	m2.signals(t0, firing("alertname", "CheckoutDown", "service", "checkout", "env", "prod"))
	m2.signals(t0, ticket("t1", "Checkout hangs", "bob"))
	m2.act(t0.Add(time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"})
	m2.tick(t0.Add(time.Minute + Retention))
	for _, item := range m2.s.TakeArchive() {
		if strings.Contains(string(item.Data), "Hello, Checkout hangs") {
			t.Error("a report's body reached the archive")
		}
	}
}

func TestRepostsAddReachNotReports(t *testing.T) {
	m := acmeMachine(t)
	m.signals(t0, firing("alertname", "CheckoutDown", "service", "checkout", "env", "prod"))
	m.signals(t0.Add(time.Minute), mention("m1", "checkout is down", 100))
	boost := mention("b1", "", 5000)
	editReport(&boost, func(r *signal.Report) { r.RepostOf = "m1" })
	m.signals(t0.Add(2*time.Minute), boost)
	if res := m.signals(t0.Add(3*time.Minute), boost); res.Duplicates != 1 {
		t.Errorf("a boost delivered again counted: %+v", res)
	}
	orphan := mention("b2", "", 700) // a boost of a post never seen
	editReport(&orphan, func(r *signal.Report) { r.RepostOf = "m9" })
	editReport(&orphan, func(r *signal.Report) { r.Text = "checkout is still down" })
	m.signals(t0.Add(4*time.Minute), orphan)
	d, _ := m.s.Get("INC-1", 0, 0)
	if d.Impact.Mentions != 2 || d.Impact.Reach != 5800 {
		t.Errorf("mentions %d reach %d, want 2 (m1, and m9 through its boost) and 100+5000+700", d.Impact.Mentions, d.Impact.Reach)
	}
	checkRestoreMatches(t, m)
}

func TestEventAPIAckAndResolve(t *testing.T) {
	m := acmeMachine(t)
	trigger := signal.Signal{Source: signal.SourcePagerDuty, Kind: signal.KindAlert, Fingerprint: "pd1", Status: signal.StatusFiring,
		Labels:      signal.StringsFrom(map[string]string{"dedup_key": "k1", "source": "db-1", "severity": "critical", "component": "checkout"}),
		Annotations: signal.StringsFrom(map[string]string{"summary": "DB down"}), StartsAt: t0}
	m.signals(t0, trigger)
	ack := signal.Signal{Source: signal.SourcePagerDuty, Kind: signal.KindAlert, Fingerprint: "pd1", Status: signal.StatusFiring,
		Labels: signal.StringsFrom(map[string]string{"dedup_key": "k1"}), Ack: true, StartsAt: t0}
	m.signals(t0.Add(time.Minute), ack)
	d, _ := m.s.Get("INC-1", 0, 10)
	if d.Status != StatusAcknowledged || d.AcknowledgedBy != "pagerduty-events event" {
		t.Fatalf("after the event's ack: %s by %q", d.Status, d.AcknowledgedBy)
	}
	resolve := ack
	resolve.Ack, resolve.Status, resolve.EndsAt = false, signal.StatusResolved, t0.Add(2*time.Minute)
	m.signals(t0.Add(2*time.Minute), resolve)
	d, _ = m.s.Get("INC-1", 0, 10)
	if d.Alerts.Firing != 0 || d.Signals[0].Labels.Get("source") != "db-1" {
		t.Errorf("after the event's resolve: %d firing, labels %v", d.Alerts.Firing, d.Signals[0].Labels)
	}
	if res := m.signals(t0.Add(3*time.Minute), signal.Signal{Source: signal.SourcePagerDuty, Kind: signal.KindAlert,
		Fingerprint: "unknown", Status: signal.StatusFiring, Labels: signal.StringsFrom(map[string]string{"dedup_key": "zz"}), Ack: true}); res.Accepted != 0 {
		t.Errorf("an ack for an unknown key changed something: %+v", res)
	}
}

func TestMissingHeartbeatOpensAnIncidentAndTheNextBeatResolvesIt(t *testing.T) {
	m := acmeMachine(t)
	beat := func(at time.Time) signal.Signal {
		return signal.Signal{Source: signal.SourceHeartbeat, Kind: signal.KindHeartbeat, Fingerprint: "hb-watchdog",
			Status: signal.StatusResolved, Labels: signal.StringsFrom(map[string]string{"heartbeat": "watchdog", "service": "monitoring"}),
			StartsAt: at, EndsAt: at.Add(2 * time.Minute)}
	}
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Minute)
		m.tick(at)
		m.signals(at, beat(at))
	}
	if got := m.list("open"); len(got) != 0 {
		t.Fatalf("beats on time opened %+v", got)
	}
	m.tick(t0.Add(10 * time.Minute)) // the beat due at 12:04 never came
	open := m.list("open")
	if len(open) != 1 || !strings.HasPrefix(open[0].Title, "heartbeat watchdog stopped") || !open[0].StartedAt.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("after the missed beat: %+v", open)
	}
	checkRestoreMatches(t, m)
	m.signals(t0.Add(11*time.Minute), beat(t0.Add(11*time.Minute)))
	if d, _ := m.s.Get(open[0].Key, 0, 0); d.Alerts.Firing != 0 {
		t.Errorf("the next beat did not resolve it: %+v", d.Summary)
	}
}

func TestMergeAndMoveSignals(t *testing.T) {
	m := acmeMachine(t)
	m.signals(t0, firing("alertname", "CheckoutDown", "service", "checkout", "env", "prod"))
	m.signals(t0.Add(time.Minute), firing("alertname", "SearchSlow", "service", "search"),
		ticket("t1", "search is slow", "bob"))
	if got := m.list("open"); len(got) != 2 {
		t.Fatalf("open: %+v", got)
	}
	if err := m.act(t0.Add(2*time.Minute), Action{Kind: ActionMerge, Incident: "INC-1", From: "INC-2", By: "ada", Note: "same outage"}); err != nil {
		t.Fatal(err)
	}
	one, _ := m.s.Get("INC-1", 0, 10)
	two, _ := m.s.Get("INC-2", 0, 10)
	if one.Alerts.Firing != 2 || one.SignalsTotal != 3 || one.Impact.Tickets != 1 || one.Customers != 1 || two.Status != StatusResolved || two.SignalsTotal != 0 {
		t.Fatalf("after the merge: INC-1 %+v, INC-2 %s with %d signals", one.Summary, two.Status, two.SignalsTotal)
	}
	if !timelineSays(two.Timeline, "merged into INC-1 by ada: same outage") || !timelineSays(one.Timeline, "INC-2 merged in by ada: 2 signals") {
		t.Errorf("timelines: %+v / %+v", one.Timeline, two.Timeline)
	}
	// New search signals now join INC-1, which took over the group.
	m.signals(t0.Add(3*time.Minute), firing("alertname", "SearchDown", "service", "search"))
	if got := m.list("open"); len(got) != 1 || got[0].Alerts.Firing != 3 {
		t.Fatalf("after the merge a search alert went elsewhere: %+v", got)
	}

	m.signals(t0.Add(4*time.Minute), firing("alertname", "BillingDown", "service", "billing"))
	slow := firing("alertname", "SearchSlow", "service", "search")
	if err := m.act(t0.Add(5*time.Minute), Action{Kind: ActionMoveSignals, Incident: "INC-1", To: "INC-3", Signals: []string{slow.ID()}, By: "ada"}); err != nil {
		t.Fatal(err)
	}
	one, _ = m.s.Get("INC-1", 0, 10)
	three, _ := m.s.Get("INC-3", 0, 10)
	if one.Alerts.Firing != 2 || three.Alerts.Firing != 2 || one.Impact.Alerts != 2 || three.Impact.Alerts != 2 {
		t.Errorf("after the move: INC-1 %d firing %d counted, INC-3 %d firing %d counted", one.Alerts.Firing, one.Impact.Alerts, three.Alerts.Firing, three.Impact.Alerts)
	}
	for _, bad := range []Action{
		{Kind: ActionMerge, Incident: "INC-1", From: "INC-1"},
		{Kind: ActionMerge, Incident: "INC-1", From: "INC-2"}, // resolved by the merge
		{Kind: ActionMoveSignals, Incident: "INC-1", To: "INC-3", Signals: []string{"alert/nope"}},
		{Kind: ActionMoveSignals, Incident: "INC-1", To: "INC-9", Signals: []string{slow.ID()}},
	} {
		if err := m.act(t0.Add(6*time.Minute), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	checkRestoreMatches(t, m)
}
