package triage

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/klaxonhq/klaxon/signal"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/rules"
)

const depRules = `
services:
  db:
    display_name: DB
    tier: 1
    matchers: ['{service="db"}']
  api:
    display_name: API
    tier: 1
    matchers: ['{service="api"}']
    depends_on: [db]
    correlation:
      group_by: [env]
  web:
    display_name: Web
    tier: 1
    matchers: ['{service="web"}']
    depends_on: [api]
`

func mustRules(t *testing.T, y string) *rules.Set {
	t.Helper()
	rs, err := rules.Compile([]rules.File{{Name: "r.yml", Data: []byte(y)}})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// restoredCopy returns a state recovered from m's snapshot.
func restoredCopy(t *testing.T, m *machine) *State {
	t.Helper()
	snap, err := m.s.Snapshot()()
	if err != nil {
		t.Fatal(err)
	}
	r := New(nil)
	if err := r.Restore(snap); err != nil {
		t.Fatal(err)
	}
	return r
}

// The index of open incidents by service must be the same live and after a
// restore, or the next dependent signal correlates differently.
func TestServiceIndexAfterResolveMatchesRestore(t *testing.T) {
	files := []rules.File{{Name: "r.yml", Data: []byte(depRules)}}
	m := newMachine(t, nil)
	m.apply(t0, &Entry{Rules: &RulesChange{Files: files}})
	m.signals(t0, firing("alertname", "Down", "service", "api", "env", "prod"))                     // INC-1 (api/env=prod)
	m.signals(t0.Add(time.Minute), firing("alertname", "Down", "service", "api", "env", "staging")) // INC-2 (api/env=staging)
	if err := m.act(t0.Add(2*time.Minute), Action{Kind: ActionResolve, Incident: "INC-2", By: "al"}); err != nil {
		t.Fatal(err)
	}
	// web depends on api; INC-1 is open on api.
	if rec, same := liveAndRestored(t, m, t0.Add(3*time.Minute), firing("alertname", "Errors", "service", "web")); !same {
		t.Errorf("live and recovered differ: live open=%v recovered open=%v", keys(m.s), keys(rec))
	}
}

// liveAndRestored applies sig to m's state and to a copy restored from its
// snapshot, and reports whether both end up identical.
func liveAndRestored(t *testing.T, m *machine, at time.Time, sig signal.Signal) (*State, bool) {
	t.Helper()
	rec := restoredCopy(t, m)
	copyM := &machine{t: t, s: rec, d: NewDriver(rec)}
	m.signals(at, sig)
	copyM.signals(at, sig)
	live, _ := m.s.Snapshot()()
	got, _ := rec.Snapshot()()
	return rec, bytes.Equal(live, got)
}

func keys(s *State) []string {
	out, _ := s.List(Filter{Status: "open"})
	var k []string
	for _, o := range out {
		k = append(k, o.Key+":"+o.GroupKey)
	}
	return k
}

func TestOlderIncidentAbsorbingServiceMatchesRestore(t *testing.T) {
	files := []rules.File{{Name: "r.yml", Data: []byte(depRules)}}
	m := newMachine(t, nil)
	m.apply(t0, &Entry{Rules: &RulesChange{Files: files}})
	m.signals(t0, firing("alertname", "Down", "service", "db"))                                        // INC-1 db
	m.signals(t0.Add(31*time.Minute), firing("alertname", "Down", "service", "api", "env", "staging")) // INC-2: INC-1 out of window
	m.signals(t0.Add(32*time.Minute), firing("alertname", "Slow", "service", "db"))                    // refreshes INC-1
	m.signals(t0.Add(33*time.Minute), firing("alertname", "Down", "service", "api", "env", "prod"))    // joins INC-1 via db
	if rec, same := liveAndRestored(t, m, t0.Add(34*time.Minute), firing("alertname", "Errors", "service", "web")); !same {
		lw, _ := m.s.List(Filter{Service: "web"})
		rw, _ := rec.List(Filter{Service: "web"})
		t.Errorf("live and recovered differ: web joined live %s, recovered %s", lw[0].Key, rw[0].Key)
	}
}

func TestClearOverrideOnResolvedIsConflict(t *testing.T) {
	m := newMachine(t, nil)
	m.signals(t0, firing("alertname", "X", "service", "api"))
	if err := m.act(t0, Action{Kind: ActionSetSeverity, Incident: "INC-1", By: "al", Severity: "SEV1", Note: "bad"}); err != nil {
		t.Fatal(err)
	}
	if err := m.act(t0.Add(time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "al"}); err != nil {
		t.Fatal(err)
	}
	err := m.act(t0.Add(2*time.Minute), Action{Kind: ActionClearSeverity, Incident: "INC-1", By: "al"})
	d, _ := m.s.Get("INC-1", 0, 0)
	if !errors.Is(err, ErrConflict) || d.Severity != "SEV1" {
		t.Errorf("clear on a resolved incident: %v, severity %q; want ErrConflict and SEV1 kept", err, d.Severity)
	}
}

// A rule change that changes an alert's grouping key (here: its service is
// added to the catalogue) must not split the incident it is firing in.
func TestRuleChangeKeepsOpenIncidentWhole(t *testing.T) {
	m := newMachine(t, nil)
	m.signals(t0, firing("alertname", "X", "service", "api"))
	m.apply(t0.Add(time.Minute), &Entry{Rules: &RulesChange{Files: []rules.File{{Name: "r.yml", Data: []byte(`
services:
  api:
    display_name: API
    tier: 1
    matchers: ['{service="api"}']
`)}}}})
	m.signals(t0.Add(2*time.Minute), firing("alertname", "Y", "service", "api"))
	if got := keys(m.s); len(got) != 1 {
		t.Errorf("a rule reload mid-incident split it: open %v", got)
	}
}

// TestSnapshotWhileApplying serialises captures while Apply goes on; run
// under -race it proves the capture shares nothing Apply writes.
func TestSnapshotWhileApplying(t *testing.T) {
	m := newMachine(t, nil)
	at := t0
	for i := range 50 {
		a := firing("alertname", "A", "service", "api", "instance", string(rune('a'+i%26)))
		editReport(&a, func(r *signal.Report) { r.Customer = string(rune('a' + i%7)) })
		m.signals(at, a)
	}
	for round := range 20 {
		ser := m.s.Snapshot()
		done := make(chan struct{})
		go func() { defer close(done); _, _ = ser() }()
		for i := range 30 {
			at = at.Add(time.Second)
			a := firing("alertname", "A", "service", "api", "instance", string(rune('a'+(i+round)%26)))
			editReport(&a, func(r *signal.Report) { r.Customer = string(rune('a' + i%11)) })
			if i%2 == 0 {
				m.signals(at, resolved(a, at))
			} else {
				m.signals(at, a)
			}
			_ = m.act(at, Action{Kind: ActionSetSeverity, Incident: "INC-1", By: "x", Severity: "SEV2", Note: "n"})
			m.tick(at.Add(time.Hour))
		}
		<-done
	}
}

func TestTicketsAreCountedAsTickets(t *testing.T) {
	rs := mustRules(t, `
severity:
  rules:
    - name: tickets
      level: SEV1
      description: support is flooded
      when: {count: {of: tickets, window: 15m, ">=": 3}}
`)
	m := newMachine(t, rs)
	var sigs []signal.Signal
	for i := range 3 {
		s := firing("service", "shop", "ticket", fmt.Sprint(i))
		s.Kind = signal.KindTicket
		sigs = append(sigs, s)
	}
	m.signals(t0, sigs...)
	got := m.list("")
	if len(got) != 1 || got[0].Severity != "SEV1" {
		t.Errorf("3 tickets in 15m: %+v, want one SEV1 incident (rule tickets)", got)
	}
}
