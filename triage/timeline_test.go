package triage

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// timelineMachine has INC-1 opened at t0 by an alert that started at t0.
func timelineMachine(t *testing.T) *machine {
	t.Helper()
	m := newMachine(t, nil)
	m.signals(t0, firing("alertname", "Down", "service", "api"))
	return m
}

func TestHumanEntries(t *testing.T) {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	post := func(kind EntryKind, text string, when time.Time) Action {
		return Action{Kind: ActionTimelinePost, Incident: "INC-1", By: "ada", EntryKind: kind, Note: text, At: when}
	}
	for _, tc := range []struct {
		name    string
		act     Action
		wantErr error
		want    string // the entry as kind@at:text, when accepted
	}{
		{"observation now", post(EntryObservation, "500s on /pay", time.Time{}), nil, "observation@10m0s:500s on /pay"},
		{"kind in any case", post("Theory", "bad deploy", time.Time{}), nil, "theory@10m0s:bad deploy"},
		{"earlier time", post(EntryAction, "rolled back", at(3*time.Minute)), nil, "action@3m0s:rolled back"},
		{"at its own posting", post(EntryNote, "n", at(10*time.Minute)), nil, "note@10m0s:n"},
		{"a day before it began", post(EntryNote, "first complaint", at(-EntryLead)), nil, "note@-24h0m0s:first complaint"},
		{"later than posted", post(EntryNote, "n", at(10*time.Minute+time.Second)), ErrInvalid, ""},
		{"absurdly early", post(EntryNote, "n", at(-EntryLead-time.Second)), ErrInvalid, ""},
		{"unknown kind", post("guess", "n", time.Time{}), ErrInvalid, ""},
		{"no kind", post("", "n", time.Time{}), ErrInvalid, ""},
		{"blank text", post(EntryNote, " \n", time.Time{}), ErrInvalid, ""},
		{"text too long", post(EntryNote, strings.Repeat("x", MaxEntryText+1), time.Time{}), ErrInvalid, ""},
		{"text not UTF-8", post(EntryNote, "\xff", time.Time{}), ErrInvalid, ""},
		{"unknown incident", Action{Kind: ActionTimelinePost, Incident: "INC-9", By: "ada", EntryKind: EntryNote, Note: "n"}, ErrNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := timelineMachine(t)
			err := m.act(at(10*time.Minute), tc.act)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			d, _ := m.s.Get("INC-1", 0, 0)
			if tc.wantErr != nil {
				if len(d.HumanEntries) != 0 {
					t.Fatalf("a refused entry was recorded: %+v", d.HumanEntries)
				}
				return
			}
			if len(d.HumanEntries) != 1 {
				t.Fatalf("entries = %+v", d.HumanEntries)
			}
			e := d.HumanEntries[0]
			if got := fmt.Sprintf("%s@%s:%s", e.Kind, e.At.Sub(t0), e.Text); got != tc.want || e.By != "ada" || e.ID != 1 || !e.Posted.Equal(at(10*time.Minute)) {
				t.Errorf("entry = %s (%+v), want %s", got, e, tc.want)
			}
		})
	}
}

func TestCorrectAndStrike(t *testing.T) {
	m := timelineMachine(t)
	act := func(d time.Duration, a Action) error {
		a.Incident = "INC-1"
		return m.act(t0.Add(d), a)
	}
	if err := act(5*time.Minute, Action{Kind: ActionTimelinePost, By: "ada", EntryKind: EntryObservation, Note: "latncy up"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		act     Action
		wantErr error
	}{
		{"fix the typo", Action{Kind: ActionTimelineCorrect, By: "ada", Entry: 1, Note: "latency up"}, nil},
		{"it was a theory, earlier", Action{Kind: ActionTimelineCorrect, By: "ben", Entry: 1, EntryKind: EntryTheory, At: t0.Add(2 * time.Minute)}, nil},
		{"nothing changes", Action{Kind: ActionTimelineCorrect, By: "ben", Entry: 1, Note: "latency up"}, ErrInvalid},
		{"after its posting", Action{Kind: ActionTimelineCorrect, By: "ben", Entry: 1, At: t0.Add(6 * time.Minute)}, ErrInvalid},
		{"unknown kind", Action{Kind: ActionTimelineCorrect, By: "ben", Entry: 1, EntryKind: "hunch"}, ErrInvalid},
		{"no such entry", Action{Kind: ActionTimelineCorrect, By: "ben", Entry: 2, Note: "x"}, ErrNotFound},
		{"strike", Action{Kind: ActionTimelineStrike, By: "ada", Entry: 1, Note: "wrong incident"}, nil},
		{"strike twice", Action{Kind: ActionTimelineStrike, By: "ada", Entry: 1}, ErrConflict},
		{"correct when struck", Action{Kind: ActionTimelineCorrect, By: "ada", Entry: 1, Note: "x"}, ErrConflict},
	} {
		if err := act(7*time.Minute, tc.act); !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	d, _ := m.s.Get("INC-1", 0, 0)
	e := d.HumanEntries[0]
	var history []string
	for _, r := range e.Revisions {
		history = append(history, fmt.Sprintf("%s@%s:%s by %s", r.Kind, r.At.Sub(t0), r.Text, r.ReplacedBy))
	}
	want := []string{"observation@5m0s:latncy up by ada", "observation@5m0s:latency up by ben"}
	if fmt.Sprint(history) != fmt.Sprint(want) || e.Kind != EntryTheory || e.Text != "latency up" || !e.At.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("entry = %+v, history %q", e, history)
	}
	if e.Struck == nil || e.Struck.By != "ada" || e.Struck.Reason != "wrong incident" {
		t.Errorf("strike = %+v", e.Struck)
	}
}

// TestMergedTimeline: human entries sit among the automatic events by the
// time they tell, automatic status updates are on it, and a resolved
// incident still takes entries.
func TestMergedTimeline(t *testing.T) {
	m := timelineMachine(t)
	post := func(d time.Duration, kind EntryKind, text string, when time.Time) {
		t.Helper()
		if err := m.act(t0.Add(d), Action{Kind: ActionTimelinePost, Incident: "INC-1", By: "ada", EntryKind: kind, Note: text, At: when}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.act(t0.Add(2*time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "ada"}); err != nil {
		t.Fatal(err)
	}
	post(3*time.Minute, EntryObservation, "errors began before the alert", t0.Add(-5*time.Minute))
	post(4*time.Minute, EntryExperiment, "restarted api-1", time.Time{})
	if err := m.act(t0.Add(5*time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}); err != nil {
		t.Fatal(err)
	}
	post(6*time.Minute, EntryNote, "customers confirm recovery", time.Time{})
	tl, ok := m.s.IncidentTimeline("INC-1")
	if !ok {
		t.Fatal("no timeline")
	}
	var got []string
	for _, it := range tl.Items {
		got = append(got, fmt.Sprintf("%s %s %s", it.At.Sub(t0), it.Source, it.Kind))
	}
	want := []string{
		"-5m0s human observation",
		"0s automatic opened",
		"0s automatic alert_firing",
		"0s automatic severity",
		"0s automatic update", // internal
		"0s automatic update", // external
		"2m0s automatic acknowledged",
		"2m0s automatic update",
		"2m0s automatic update",
		"4m0s human experiment",
		"5m0s automatic resolved",
		"5m0s automatic update",
		"5m0s automatic update",
		"6m0s human note",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHumanEntriesSurviveSnapshotAndArchive: entries are in the snapshot
// and in the archived incident, and a capture does not change when an
// entry is corrected after it was taken.
func TestHumanEntriesSurviveSnapshotAndArchive(t *testing.T) {
	m := timelineMachine(t)
	if err := m.act(t0.Add(time.Minute), Action{Kind: ActionTimelinePost, Incident: "INC-1", By: "ada", EntryKind: EntryNote, Note: "one"}); err != nil {
		t.Fatal(err)
	}
	want, _ := m.s.Snapshot()()
	serialise := m.s.Snapshot()
	if err := m.act(t0.Add(2*time.Minute), Action{Kind: ActionTimelineCorrect, Incident: "INC-1", By: "ada", Entry: 1, Note: "two"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := serialise(); !bytes.Equal(got, want) {
		t.Fatal("a correction changed a capture taken before it")
	}
	restored := New(nil)
	if err := restored.Restore(want); err != nil {
		t.Fatal(err)
	}
	if d, _ := restored.Get("INC-1", 0, 0); len(d.HumanEntries) != 1 || d.HumanEntries[0].Text != "one" {
		t.Fatalf("restored entries = %+v", d.HumanEntries)
	}
	if err := m.act(t0.Add(3*time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}); err != nil {
		t.Fatal(err)
	}
	m.tick(t0.Add(3*time.Minute + Retention))
	items := m.s.TakeArchive()
	if len(items) != 1 {
		t.Fatalf("archive = %d items", len(items))
	}
	d, err := DecodeArchived(items[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	tl := MergeTimeline(&d)
	if e := d.HumanEntries; len(e) != 1 || e[0].Text != "two" || len(e[0].Revisions) != 1 || !tl.Archived {
		t.Fatalf("archived entries = %+v", e)
	}
}

// TestRoleChangesLeaveACaptureAlone: a snapshot is encoded after its
// capture, off the lock; assigning a role then (which ends the previous
// term in place and writes the roles map) must not change it.
func TestRoleChangesLeaveACaptureAlone(t *testing.T) {
	m := rolesMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	if err := m.act(t0.Add(time.Minute), Action{Kind: ActionAssignRole, Incident: "INC-1", By: "al", Role: "scribe", Person: "ada"}); err != nil {
		t.Fatal(err)
	}
	want, _ := m.s.Snapshot()()
	serialise := m.s.Snapshot()
	if err := m.act(t0.Add(2*time.Minute), Action{Kind: ActionAssignRole, Incident: "INC-1", By: "al", Role: "scribe", Person: "bob"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := serialise(); !bytes.Equal(got, want) {
		t.Fatal("a role change altered a capture taken before it")
	}
}
