package statuspage

import (
	"slices"
	"time"
)

// MaintenanceStatus is a maintenance window's state, as Statuspage names it.
type MaintenanceStatus string

// The maintenance states the page shows.
const (
	MaintenanceScheduled  MaintenanceStatus = "scheduled"
	MaintenanceInProgress MaintenanceStatus = "in_progress"
	MaintenanceCompleted  MaintenanceStatus = "completed"
)

// Maintenance is one scheduled maintenance window as the public sees it.
type Maintenance struct {
	ID             string
	Name           string
	Status         MaintenanceStatus
	Components     []string
	ScheduledFor   time.Time
	ScheduledUntil time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Open reports whether the window is still to come or under way.
func (m Maintenance) Open() bool { return m.Status != MaintenanceCompleted }

// addMaintenances puts the windows on the page: those under way put their
// components under maintenance (an outage stays worse), and every window
// ending within the history is listed, upcoming and current first.
func addMaintenances(p *Page, ms []Maintenance, since time.Time) {
	for _, m := range ms {
		if m.ScheduledUntil.Before(since) {
			continue
		}
		p.Maintenances = append(p.Maintenances, m)
		if m.UpdatedAt.After(p.UpdatedAt) {
			p.UpdatedAt = m.UpdatedAt
		}
		if m.Status != MaintenanceInProgress {
			continue
		}
		for i := range p.Components {
			if slices.Contains(m.Components, p.Components[i].Name) {
				p.Components[i].Status = p.Components[i].Status.worse(UnderMaintenance)
			}
		}
	}
	slices.SortStableFunc(p.Maintenances, func(a, b Maintenance) int {
		if a.Open() != b.Open() {
			if a.Open() {
				return -1
			}
			return 1
		}
		if a.Open() {
			return a.ScheduledFor.Compare(b.ScheduledFor)
		}
		return b.ScheduledFor.Compare(a.ScheduledFor)
	})
}

// OpenMaintenances are the page's windows to come or under way.
func (p *Page) OpenMaintenances() []Maintenance {
	var out []Maintenance
	for _, m := range p.Maintenances {
		if m.Open() {
			out = append(out, m)
		}
	}
	return out
}
