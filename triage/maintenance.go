package triage

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// MaintenanceState is where a scheduled maintenance window stands, as
// Statuspage names it.
type MaintenanceState string

// The maintenance states: timers move a window from scheduled to
// in_progress at its start and to completed at its end.
const (
	MaintenanceScheduled  MaintenanceState = "scheduled"
	MaintenanceInProgress MaintenanceState = "in_progress"
	MaintenanceCompleted  MaintenanceState = "completed"
	MaintenanceCancelled  MaintenanceState = "cancelled"
)

// MaintenanceRetention is how long a finished window stays in the state
// (and on the status page's history) after its end.
const MaintenanceRetention = 90 * 24 * time.Hour

// timerMaintenance comes due at a maintenance window's start, its end, and
// the end of its retention.
const timerMaintenance timerKind = 202

// Maintenance is a scheduled maintenance window of status-page
// components. Its title is written for the public.
type Maintenance struct {
	ID         string           `json:"id"`
	Title      string           `json:"title"`
	Components []string         `json:"components"`
	Start      time.Time        `json:"start"`
	End        time.Time        `json:"end"`
	By         string           `json:"by"`
	State      MaintenanceState `json:"state"`
	CreatedAt  time.Time        `json:"createdAt"`
	UpdatedAt  time.Time        `json:"updatedAt"`
}

// MaintenanceChange schedules a maintenance window, or cancels one (Cancel
// names it).
type MaintenanceChange struct {
	Cancel     string    `json:"cancel,omitempty"`
	Title      string    `json:"title,omitempty"`
	Components []string  `json:"components,omitempty"`
	Start      time.Time `json:"start,omitzero"`
	End        time.Time `json:"end,omitzero"`
	By         string    `json:"by"`
}

// Check says what is wrong with the change on its own, before it is
// journaled.
func (mc *MaintenanceChange) Check() error {
	switch {
	case mc.By == "":
		return fmt.Errorf("%w: a maintenance change needs who makes it", ErrInvalid)
	case mc.Cancel != "":
		return nil
	case mc.Title == "" || len(mc.Title) > MaxUpdateText:
		return fmt.Errorf("%w: a maintenance needs a title of 1 to %d bytes", ErrInvalid, MaxUpdateText)
	case len(mc.Components) == 0 || slices.Contains(mc.Components, ""):
		return fmt.Errorf("%w: a maintenance needs the components it affects", ErrInvalid)
	case mc.Start.IsZero() || !mc.End.After(mc.Start):
		return fmt.Errorf("%w: a maintenance needs a start and an end after it", ErrInvalid)
	}
	return nil
}

// applyMaintenance schedules or cancels a window; a new one's ID is
// MNT-<sequence> (returned as the result's Created).
func (s *State) applyMaintenance(c *change, mc *MaintenanceChange) error {
	if err := mc.Check(); err != nil {
		return err
	}
	now := s.now
	if mc.Cancel != "" {
		m := s.maintenances[mc.Cancel]
		switch {
		case m == nil:
			return fmt.Errorf("%w: no maintenance %q", ErrNotFound, mc.Cancel)
		case m.State == MaintenanceCompleted || m.State == MaintenanceCancelled:
			return fmt.Errorf("%w: maintenance %s is %s", ErrConflict, m.ID, m.State)
		}
		m.State, m.UpdatedAt, m.End = MaintenanceCancelled, now, minTime(m.End, now)
		s.armMaintenance(m)
		return nil
	}
	if !mc.End.After(now) {
		return fmt.Errorf("%w: the maintenance would end before now", ErrInvalid)
	}
	m := &Maintenance{ID: fmt.Sprintf("MNT-%d", c.seq), Title: mc.Title, Components: slices.Clone(mc.Components),
		Start: mc.Start, End: mc.End, By: mc.By, State: MaintenanceScheduled, CreatedAt: now, UpdatedAt: now}
	if s.maintenances == nil {
		s.maintenances = map[string]*Maintenance{}
	}
	s.maintenances[m.ID] = m
	s.maintenanceDue(m.ID, now)
	c.res.Created = m.ID
	return nil
}

// maintenanceDue moves window id on to the state it is in at at, and sets
// its next timer; a window past its retention leaves the state.
func (s *State) maintenanceDue(id string, at time.Time) {
	m := s.maintenances[id]
	if m == nil {
		return
	}
	switch {
	case m.State == MaintenanceScheduled && !at.Before(m.Start) && at.Before(m.End):
		m.State, m.UpdatedAt = MaintenanceInProgress, maxTime(m.Start, m.CreatedAt)
	case (m.State == MaintenanceScheduled || m.State == MaintenanceInProgress) && !at.Before(m.End):
		m.State, m.UpdatedAt = MaintenanceCompleted, maxTime(m.End, m.CreatedAt)
	case !at.Before(m.End.Add(MaintenanceRetention)):
		delete(s.maintenances, id)
		s.timers.set(timerMaintenance, id, time.Time{})
		return
	}
	s.armMaintenance(m)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// armMaintenance sets window m's timer to its next change.
func (s *State) armMaintenance(m *Maintenance) {
	next := m.End.Add(MaintenanceRetention)
	switch m.State {
	case MaintenanceScheduled:
		next = m.Start
	case MaintenanceInProgress:
		next = m.End
	}
	s.timers.set(timerMaintenance, m.ID, next)
}

// captureMaintenances copies the windows for a snapshot, by start.
func (s *State) captureMaintenances() []*Maintenance {
	out := make([]*Maintenance, 0, len(s.maintenances))
	for _, id := range slices.Sorted(maps.Keys(s.maintenances)) {
		cp := *s.maintenances[id]
		out = append(out, &cp)
	}
	return out
}

// restoreMaintenances installs the windows of a snapshot; rebuild sets
// their timers.
func (s *State) restoreMaintenances(ms []*Maintenance) {
	s.maintenances = map[string]*Maintenance{}
	for _, m := range ms {
		s.maintenances[m.ID] = m
	}
}

// Maintenances returns the maintenance windows the state holds, by start.
func (s *State) Maintenances() []Maintenance {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Maintenance, 0, len(s.maintenances))
	for _, m := range s.maintenances {
		cp := *m
		cp.Components = slices.Clone(m.Components)
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b Maintenance) int { return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID)) })
	return out
}
