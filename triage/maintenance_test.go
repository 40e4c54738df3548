package triage

import (
	"errors"
	"testing"
	"time"
)

func (m *machine) maintenance(at time.Time, mc MaintenanceChange) *Result {
	m.t.Helper()
	return m.apply(at, &Entry{Maintenance: &mc})
}

// maintenanceState is window id's state, or "gone".
func (m *machine) maintenanceState(id string) MaintenanceState {
	for _, w := range m.s.Maintenances() {
		if w.ID == id {
			return w.State
		}
	}
	return "gone"
}

func TestMaintenanceTimers(t *testing.T) {
	window := MaintenanceChange{Title: "Database upgrade", Components: []string{"Checkout API"},
		Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour), By: "ada"}
	tests := []struct {
		at   time.Duration // after t0
		want MaintenanceState
	}{
		{0, MaintenanceScheduled},
		{59 * time.Minute, MaintenanceScheduled},
		{time.Hour, MaintenanceInProgress},
		{3*time.Hour - time.Second, MaintenanceInProgress},
		{3 * time.Hour, MaintenanceCompleted},
		{3*time.Hour + MaintenanceRetention - time.Second, MaintenanceCompleted},
		{3*time.Hour + MaintenanceRetention, "gone"},
	}
	m := newMachine(t, nil)
	res := m.maintenance(t0, window)
	if res.Err != nil || res.Created == "" {
		t.Fatalf("schedule: %v %q", res.Err, res.Created)
	}
	for _, tt := range tests {
		m.tick(t0.Add(tt.at))
		if got := m.maintenanceState(res.Created); got != tt.want {
			t.Errorf("at +%s: %s, want %s", tt.at, got, tt.want)
		}
	}
}

func TestMaintenanceChanges(t *testing.T) {
	good := MaintenanceChange{Title: "Upgrade", Components: []string{"Checkout API"}, Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), By: "ada"}
	bad := func(f func(*MaintenanceChange)) MaintenanceChange { mc := good; f(&mc); return mc }
	tests := []struct {
		name    string
		change  MaintenanceChange
		wantErr error
	}{
		{"good", good, nil},
		{"already under way", bad(func(mc *MaintenanceChange) { mc.Start = t0.Add(-time.Hour) }), nil},
		{"no title", bad(func(mc *MaintenanceChange) { mc.Title = "" }), ErrInvalid},
		{"no components", bad(func(mc *MaintenanceChange) { mc.Components = nil }), ErrInvalid},
		{"end before start", bad(func(mc *MaintenanceChange) { mc.End = mc.Start }), ErrInvalid},
		{"over already", bad(func(mc *MaintenanceChange) { mc.Start, mc.End = t0.Add(-2*time.Hour), t0.Add(-time.Hour) }), ErrInvalid},
		{"no author", bad(func(mc *MaintenanceChange) { mc.By = "" }), ErrInvalid},
		{"cancel unknown", MaintenanceChange{Cancel: "MNT-99", By: "ada"}, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine(t, nil)
			res := m.maintenance(t0, tt.change)
			if !errors.Is(res.Err, tt.wantErr) {
				t.Fatalf("err %v, want %v", res.Err, tt.wantErr)
			}
			if n := len(m.s.Maintenances()); (n == 1) != (tt.wantErr == nil) {
				t.Errorf("%d windows after the change", n)
			}
		})
	}
}

func TestCancelledMaintenanceEndsAndCannotBeCancelledTwice(t *testing.T) {
	m := newMachine(t, nil)
	id := m.maintenance(t0, MaintenanceChange{Title: "Upgrade", Components: []string{"Checkout API"},
		Start: t0, End: t0.Add(2 * time.Hour), By: "ada"}).Created
	if got := m.maintenanceState(id); got != MaintenanceInProgress {
		t.Fatalf("started at once: %s", got)
	}
	if res := m.maintenance(t0.Add(time.Hour), MaintenanceChange{Cancel: id, By: "ada"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	w := m.s.Maintenances()[0]
	if w.State != MaintenanceCancelled || !w.End.Equal(t0.Add(time.Hour)) {
		t.Errorf("cancelled: %s ending %s", w.State, w.End)
	}
	if res := m.maintenance(t0.Add(time.Hour), MaintenanceChange{Cancel: id, By: "ada"}); !errors.Is(res.Err, ErrConflict) {
		t.Errorf("second cancel: %v", res.Err)
	}
}

// TestMaintenanceSurvivesRestore: a window restored from a snapshot is
// equal and still moves on with its timers.
func TestMaintenanceSurvivesRestore(t *testing.T) {
	m := newMachine(t, nil)
	id := m.maintenance(t0, MaintenanceChange{Title: "Upgrade", Components: []string{"Checkout API"},
		Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), By: "ada"}).Created
	r := restoredMachine(t, m)
	r.tick(t0.Add(time.Hour))
	if got := r.maintenanceState(id); got != MaintenanceInProgress {
		t.Errorf("after restore, at the start: %s", got)
	}
}
