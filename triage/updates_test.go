package triage

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/rules"
)

// updateRules: Down is SEV1, Slow SEV2, anything else SEV3; the policy of
// each level's external updates comes from the test.
const updateRules = `
severity:
  rules:
    - {name: down, level: SEV1, when: {match: '{alertname="Down"}'}}
    - {name: slow, level: SEV2, when: {match: '{alertname="Slow"}'}}
policies:
  SEV1: {page: immediately, %s}
  SEV2: {page: immediately, status_page: off}
  SEV3: {page: immediately, status_page: off}
`

// updateMachine is a machine whose SEV1 policy has the given status-page
// settings (such as "status_page: auto").
func updateMachine(t *testing.T, sev1 string) *machine {
	t.Helper()
	m := newMachine(t, nil)
	rc, err := NewRulesChange([]rules.File{{Name: "r.yml", Data: fmt.Appendf(nil, updateRules, sev1)}})
	if err != nil {
		t.Fatal(err)
	}
	m.apply(t0, &Entry{Rules: rc})
	return m
}

// updates lists an incident's updates as "audience/state/status" strings.
func (m *machine) updates(key string) []string {
	m.t.Helper()
	us, ok := m.s.Updates(key)
	if !ok {
		m.t.Fatalf("no incident %s", key)
	}
	var out []string
	for _, u := range us {
		out = append(out, fmt.Sprintf("%s/%s/%s", u.Audience, u.State, u.Status))
	}
	return out
}

func (m *machine) update(at time.Time, uc UpdateChange) error {
	return m.apply(at, &Entry{Update: &uc}).Err
}

func TestAutomaticUpdatesFollowTheSeverityPolicy(t *testing.T) {
	life := func(m *machine) {
		down := firing("alertname", "Down", "service", "api")
		m.signals(t0, down)
		if err := m.act(t0.Add(time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "ada"}); err != nil {
			t.Fatal(err)
		}
		m.signals(t0.Add(2*time.Minute), resolved(down, t0.Add(2*time.Minute)))
		m.tick(t0.Add(time.Hour)) // the quiet period ends: resolved
	}
	tests := []struct {
		policy string
		want   string
	}{
		{"status_page: auto", "internal/investigating/published external/investigating/published " +
			"internal/identified/published external/identified/published internal/monitoring/published external/monitoring/published " +
			"internal/resolved/published external/resolved/published"},
		{"status_page: approval", "internal/investigating/published external/investigating/held " +
			"internal/identified/published external/identified/held internal/monitoring/published external/monitoring/held " +
			"internal/resolved/published external/resolved/held"},
		{"status_page: off", "internal/investigating/published internal/identified/published " +
			"internal/monitoring/published internal/resolved/published"},
		{"status_page: auto, status_page_delay: 10m", "internal/investigating/published external/investigating/published " +
			"internal/identified/published external/identified/published internal/monitoring/published external/monitoring/published " +
			"internal/resolved/published external/resolved/published"},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			m := updateMachine(t, tt.policy)
			life(m)
			if got := strings.Join(m.updates("INC-1"), " "); got != tt.want {
				t.Errorf("updates:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestAlertFiringAgainEndsMonitoring(t *testing.T) {
	m := updateMachine(t, "status_page: auto")
	down := firing("alertname", "Down", "service", "api")
	m.signals(t0, down)
	m.signals(t0.Add(time.Minute), resolved(down, t0.Add(time.Minute)))
	again := down
	again.StartsAt = t0.Add(2 * time.Minute)
	m.signals(t0.Add(2*time.Minute), again)
	want := "internal/investigating/published external/investigating/published internal/monitoring/published " +
		"external/monitoring/published internal/investigating/published external/investigating/published"
	if got := strings.Join(m.updates("INC-1"), " "); got != want {
		t.Errorf("updates:\n got %s\nwant %s", got, want)
	}
}

func TestSeverityChangePostsAnUpdateInTheSameState(t *testing.T) {
	m := updateMachine(t, "status_page: auto")
	m.signals(t0, firing("alertname", "Slow", "service", "api"))
	m.signals(t0.Add(time.Minute), firing("alertname", "Down", "service", "api"))
	want := "internal/investigating/published internal/investigating/published external/investigating/published"
	if got := strings.Join(m.updates("INC-1"), " "); got != want {
		t.Errorf("SEV2 (off) then SEV1 (auto):\n got %s\nwant %s", got, want)
	}
	us, _ := m.s.Updates("INC-1")
	if us[0].Severity != "SEV2" || us[1].Severity != "SEV1" || us[2].Severity != "" {
		t.Errorf("severities %q %q %q: internal updates carry theirs, external none", us[0].Severity, us[1].Severity, us[2].Severity)
	}
}

func TestDelayedUpdatePublishesUnlessWithdrawn(t *testing.T) {
	m := updateMachine(t, "status_page: auto, status_page_delay: 10m")
	m.signals(t0, firing("alertname", "Down", "service", "api"))
	if got := m.updates("INC-1")[1]; got != "external/investigating/scheduled" {
		t.Fatalf("at once: %s", got)
	}
	m.tick(t0.Add(9 * time.Minute))
	if got := m.updates("INC-1")[1]; got != "external/investigating/scheduled" {
		t.Fatalf("after 9m: %s", got)
	}
	m.tick(t0.Add(10 * time.Minute))
	us, _ := m.s.Updates("INC-1")
	if us[1].Status != UpdatePublished || !us[1].PublishedAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("after 10m: %s at %s", us[1].Status, us[1].PublishedAt)
	}

	if err := m.act(t0.Add(11*time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "ada"}); err != nil {
		t.Fatal(err)
	}
	if err := m.update(t0.Add(12*time.Minute), UpdateChange{Op: UpdateWithdraw, Incident: "INC-1", Update: 4, By: "comms"}); err != nil {
		t.Fatal(err)
	}
	m.tick(t0.Add(time.Hour))
	if got := m.updates("INC-1")[3]; got != "external/identified/withdrawn" {
		t.Fatalf("withdrawn before its time: %s", got)
	}
}

func TestHumanUpdateDecisions(t *testing.T) {
	long := strings.Repeat("x", MaxUpdateText+1)
	tests := []struct {
		name    string
		change  UpdateChange
		wantErr error
		want    string // the changed update as audience/state/status, or "" for none
	}{
		{"post external", UpdateChange{Op: UpdatePost, Incident: "INC-1", Audience: AudienceExternal, State: StateIdentified, Text: "A disk failed.", By: "comms"}, nil, "external/identified/published"},
		{"post internal", UpdateChange{Op: UpdatePost, Incident: "INC-1", Audience: AudienceInternal, State: StateMonitoring, Text: "Watching.", By: "ada"}, nil, "internal/monitoring/published"},
		{"post too long", UpdateChange{Op: UpdatePost, Incident: "INC-1", Audience: AudienceExternal, State: StateIdentified, Text: long, By: "comms"}, ErrInvalid, ""},
		{"post without text", UpdateChange{Op: UpdatePost, Incident: "INC-1", Audience: AudienceExternal, State: StateIdentified, By: "comms"}, ErrInvalid, ""},
		{"post bad audience", UpdateChange{Op: UpdatePost, Incident: "INC-1", Audience: "everyone", State: StateIdentified, Text: "x", By: "comms"}, ErrInvalid, ""},
		{"post bad state", UpdateChange{Op: UpdatePost, Incident: "INC-1", Audience: AudienceExternal, State: "panicking", Text: "x", By: "comms"}, ErrInvalid, ""},
		{"post to no incident", UpdateChange{Op: UpdatePost, Incident: "INC-9", Audience: AudienceExternal, State: StateIdentified, Text: "x", By: "comms"}, ErrNotFound, ""},
		{"approve held", UpdateChange{Op: UpdateApprove, Incident: "INC-1", Update: 2, By: "comms"}, nil, "external/investigating/published"},
		{"approve published", UpdateChange{Op: UpdateApprove, Incident: "INC-1", Update: 1, By: "comms"}, ErrConflict, ""},
		{"approve missing", UpdateChange{Op: UpdateApprove, Incident: "INC-1", Update: 3, By: "comms"}, ErrNotFound, ""},
		{"withdraw held", UpdateChange{Op: UpdateWithdraw, Incident: "INC-1", Update: 2, By: "comms"}, nil, "external/investigating/withdrawn"},
		{"withdraw published", UpdateChange{Op: UpdateWithdraw, Incident: "INC-1", Update: 1, By: "comms"}, ErrConflict, ""},
		{"edit", UpdateChange{Op: UpdateEdit, Incident: "INC-1", Update: 2, Text: "Checkout is slow.", By: "comms"}, nil, "external/investigating/held"},
		{"edit without id", UpdateChange{Op: UpdateEdit, Incident: "INC-1", Text: "x", By: "comms"}, ErrInvalid, ""},
		{"unknown op", UpdateChange{Op: "shred", Incident: "INC-1", Update: 1, By: "comms"}, ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := updateMachine(t, "status_page: approval")
			m.signals(t0, firing("alertname", "Down", "service", "api"))
			before := m.updates("INC-1")
			err := m.update(t0.Add(time.Minute), tt.change)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			after := m.updates("INC-1")
			if tt.wantErr != nil {
				if strings.Join(after, " ") != strings.Join(before, " ") {
					t.Errorf("a refused change changed the updates: %v", after)
				}
				return
			}
			id := tt.change.Update
			if id == 0 {
				id = len(after)
			}
			if got := after[id-1]; got != tt.want {
				t.Errorf("update %d is %s, want %s", id, got, tt.want)
			}
			us, _ := m.s.Updates("INC-1")
			u := us[id-1]
			if tt.change.Text != "" && u.Text != tt.change.Text {
				t.Errorf("text %q, want %q", u.Text, tt.change.Text)
			}
		})
	}
}

func TestWithdrawnUpdateCannotBeApprovedOrEdited(t *testing.T) {
	m := updateMachine(t, "status_page: approval")
	m.signals(t0, firing("alertname", "Down", "service", "api"))
	if err := m.update(t0, UpdateChange{Op: UpdateWithdraw, Incident: "INC-1", Update: 2, By: "comms"}); err != nil {
		t.Fatal(err)
	}
	for _, op := range []UpdateOp{UpdateApprove, UpdateEdit, UpdateWithdraw} {
		if err := m.update(t0, UpdateChange{Op: op, Incident: "INC-1", Update: 2, Text: "x", By: "comms"}); !errors.Is(err, ErrConflict) {
			t.Errorf("%s of a withdrawn update: %v, want a conflict", op, err)
		}
	}
}

// TestUpdatesSurviveRestore: a snapshot taken with a scheduled update
// pending restores to the same state, and its timer still publishes it.
func TestUpdatesSurviveRestore(t *testing.T) {
	m := updateMachine(t, "status_page: auto, status_page_delay: 10m")
	m.signals(t0, firing("alertname", "Down", "service", "api"))
	if err := m.update(t0.Add(time.Minute), UpdateChange{Op: UpdatePost, Incident: "INC-1", Audience: AudienceExternal,
		State: StateInvestigating, Text: "Checkout is down.", By: "comms"}); err != nil {
		t.Fatal(err)
	}
	r := restoredMachine(t, m)
	r.tick(t0.Add(10 * time.Minute))
	if got := r.updates("INC-1")[1]; got != "external/investigating/published" {
		t.Errorf("after restore and 10m: %s", got)
	}
}

// restoredMachine is a machine restored from a snapshot of m's state,
// which must restore to the same bytes.
func restoredMachine(t *testing.T, m *machine) *machine {
	t.Helper()
	snap, err := m.s.Snapshot()()
	if err != nil {
		t.Fatal(err)
	}
	restored := New(nil)
	if err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if again, _ := restored.Snapshot()(); !bytes.Equal(again, snap) {
		t.Fatal("the restored state differs")
	}
	r := &machine{t: t, s: restored, d: NewDriver(restored)}
	r.d.Live = true
	return r
}
