package triage

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/oncall"
)

// rolesOnCall is a second on-call file beside escalationOnCall: a
// managers schedule (bob) and roles:
// the incident manager from that schedule, the technical lead from the
// escalation's first step (ada), communications required with reminders,
// and a scribe assigned by hand only.
const rolesOnCall = `
schedules:
  managers:
    time_zone: UTC
    layers:
      - name: all
        precedence: 1
        rotation: {length: weekly, hand_off: "2026-11-01T00:00", participants: [bob]}
roles:
  incident_manager: {name: Incident manager, instructions: Hold command., schedule: managers, from_severity: SEV1}
  technical_lead: {name: Technical lead, instructions: Lead the fix., from_severity: SEV1}
  communications_manager: {name: Comms, instructions: Write updates., from_severity: SEV1, remind_after: 15m}
  scribe: {name: Scribe}
`

// rolesMachine is pagingMachine with rolesOnCall beside its on-call file.
func rolesMachine(t *testing.T) *machine {
	t.Helper()
	m := pagingMachine(t)
	oc, err := NewOnCallChange([]oncall.File{{Name: "oncall.yml", Data: []byte(escalationOnCall)},
		{Name: "roles.yml", Data: []byte(rolesOnCall)}})
	if err != nil {
		t.Fatal(err)
	}
	if res := m.apply(t0, &Entry{OnCall: oc}); res.Err != nil {
		t.Fatal(res.Err)
	}
	return m
}

// roleHistory renders an incident's role terms as role=person[from-to]by.
func roleHistory(d Detail) []string {
	var out []string
	for _, r := range d.RoleHistory {
		to := "now"
		if !r.To.IsZero() {
			to = r.To.Sub(t0).String()
		}
		out = append(out, fmt.Sprintf("%s=%s[%s-%s]%s", r.Role, r.Person, r.From.Sub(t0), to, r.By))
	}
	return out
}

func roleEvents(d Detail) []string {
	var out []string
	for _, e := range d.Timeline {
		if e.Kind == EventRole {
			out = append(out, e.Message)
		}
	}
	return out
}

// autoAssigned are the events of rolesMachine's automatic assignments.
var autoAssigned = []string{
	`Incident manager: bob assigned automatically: on call in schedule "managers" (layer "all", rotation turn 3)`,
	`Technical lead: ada assigned automatically: first paged by escalation policy "checkout" (schedule primary)`,
}

func TestRoles(t *testing.T) {
	down := firing("alertname", "Down", "service", "checkout")
	minute := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	tests := []struct {
		name    string
		steps   func(t *testing.T, m *machine)
		roles   map[string]string
		history []string
		events  []string
		intents []string // pending role intents, in due order
	}{{
		name:    "automatic at SEV1 from a schedule and the first step",
		steps:   func(t *testing.T, m *machine) { m.signals(t0, down) },
		roles:   map[string]string{"incident_manager": "bob", "technical_lead": "ada"},
		history: []string{"incident_manager=bob[0s-now]", "technical_lead=ada[0s-now]"},
		events:  autoAssigned,
		intents: []string{"INC-1/role/incident_manager/bob/1", "INC-1/role/technical_lead/ada/2"},
	}, {
		name: "manual assignment replaces the holder and keeps the history",
		steps: func(t *testing.T, m *machine) {
			m.signals(t0, down)
			must(t, m.act(minute(2), Action{Kind: ActionAssignRole, Incident: "INC-1", By: "carol", Role: "technical_lead", Person: "bob"}))
			must(t, m.act(minute(3), Action{Kind: ActionAssignRole, Incident: "INC-1", By: "carol", Role: "communications_manager", Person: "ada"}))
			must(t, m.act(minute(4), Action{Kind: ActionUnassignRole, Incident: "INC-1", By: "carol", Role: "incident_manager"}))
		},
		roles: map[string]string{"technical_lead": "bob", "communications_manager": "ada"},
		history: []string{"incident_manager=bob[0s-4m0s]", "technical_lead=ada[0s-2m0s]",
			"technical_lead=bob[2m0s-now]carol", "communications_manager=ada[3m0s-now]carol"},
		events: append(slices.Clone(autoAssigned),
			"Technical lead: bob assigned by carol",
			"Comms: ada assigned by carol",
			"Incident manager: bob unassigned by carol",
		),
		intents: []string{"INC-1/role/incident_manager/bob/1", "INC-1/role/technical_lead/ada/2",
			"INC-1/role/technical_lead/bob/3", "INC-1/role/communications_manager/ada/4"},
	}, {
		name: "a required unassigned role is reminded about until assigned",
		steps: func(t *testing.T, m *machine) {
			m.signals(t0, down)
			m.tick(minute(31))
			must(t, m.act(minute(32), Action{Kind: ActionAssignRole, Incident: "INC-1", By: "carol", Role: "communications_manager", Person: "ada"}))
			m.tick(minute(60))
		},
		roles: map[string]string{"incident_manager": "bob", "technical_lead": "ada", "communications_manager": "ada"},
		history: []string{"incident_manager=bob[0s-now]", "technical_lead=ada[0s-now]",
			"communications_manager=ada[32m0s-now]carol"},
		events: append(slices.Clone(autoAssigned),
			"reminder: Comms is unassigned; SEV1 incidents need one",
			"reminder: Comms is unassigned; SEV1 incidents need one",
			"Comms: ada assigned by carol",
		),
		intents: []string{"INC-1/role/incident_manager/bob/1", "INC-1/role/technical_lead/ada/2", "INC-1/role/communications_manager/ada/3"},
	}, {
		name: "below the role's severity nothing is assigned or reminded",
		steps: func(t *testing.T, m *machine) {
			m.signals(t0, firing("alertname", "Slow", "service", "checkout"))
			m.tick(minute(60))
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := rolesMachine(t)
			tc.steps(t, m)
			d, ok := m.s.Get("INC-1", 0, 1000)
			if !ok {
				t.Fatal("no INC-1")
			}
			if !maps.Equal(d.Roles, tc.roles) {
				t.Errorf("roles %v, want %v", d.Roles, tc.roles)
			}
			if got := roleHistory(d); !slices.Equal(got, tc.history) {
				t.Errorf("history:\n got %q\nwant %q", got, tc.history)
			}
			if got := roleEvents(d); !slices.Equal(got, tc.events) {
				t.Errorf("events:\n got %q\nwant %q", got, tc.events)
			}
			var intents []string
			for _, in := range m.s.DueIntents(t0.Add(24*time.Hour), 1000) {
				if in.Kind == IntentRole {
					intents = append(intents, in.ID)
				}
			}
			if !slices.Equal(intents, tc.intents) {
				t.Errorf("role intents:\n got %q\nwant %q", intents, tc.intents)
			}
			assertRestoresEqual(t, m)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// assertRestoresEqual checks that a restored copy snapshots the same bytes
// and goes on the same way: the reminder timers come back with it.
func assertRestoresEqual(t *testing.T, m *machine) {
	t.Helper()
	rec := restoredCopy(t, m)
	copyM := &machine{t: t, s: rec, d: NewDriver(rec)}
	later := m.d.Now().Add(2 * time.Hour)
	m.tick(later)
	copyM.tick(later)
	live, _ := m.s.Snapshot()()
	got, _ := rec.Snapshot()()
	if !bytes.Equal(live, got) {
		t.Error("the restored copy went on differently from the live state")
	}
}

func TestRoleNotificationCarriesInstructions(t *testing.T) {
	m := rolesMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	var got *Intent
	for _, in := range m.s.DueIntents(t0, 1000) {
		if in.ID == "INC-1/role/incident_manager/bob/1" {
			got = &in
		}
	}
	if got == nil {
		t.Fatal("no role intent for bob")
	}
	if got.Receiver != "person/bob/push" || got.Message.Labels["instructions"] != "Hold command." || got.Message.Labels["role_name"] != "Incident manager" {
		t.Errorf("intent %+v", got)
	}
	// Its delivery settles it without touching the escalation.
	before := *m.s.incidents["INC-1"].Escalation
	m.apply(t0, &Entry{Delivery: &Delivery{Intent: got.ID, Attempt: 1, OK: true}})
	if after := *m.s.incidents["INC-1"].Escalation; after != before || !m.s.incidents["INC-1"].FirstPaged.IsZero() {
		t.Errorf("a role notification moved the escalation: %+v -> %+v", before, after)
	}
}

func TestRoleActionErrors(t *testing.T) {
	m := rolesMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	tests := []struct {
		act  Action
		want error
	}{
		{Action{Kind: ActionAssignRole, Incident: "INC-1", By: "c", Role: "chef", Person: "ada"}, ErrInvalid},
		{Action{Kind: ActionAssignRole, Incident: "INC-1", By: "c", Role: "scribe", Person: "zed"}, ErrInvalid},
		{Action{Kind: ActionUnassignRole, Incident: "INC-1", By: "c", Role: "scribe"}, ErrConflict},
		{Action{Kind: ActionAssignRole, Incident: "INC-9", By: "c", Role: "scribe", Person: "ada"}, ErrNotFound},
	}
	for _, tc := range tests {
		if err := m.act(t0.Add(time.Minute), tc.act); !errors.Is(err, tc.want) {
			t.Errorf("%+v: error %v, want %v", tc.act, err, tc.want)
		}
	}
}
