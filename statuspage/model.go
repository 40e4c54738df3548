// Package statuspage renders Klaxon's external (public) status page: its
// HTML, its JSON in the shape of Statuspage's public API, and its Atom and
// RSS feeds, from a model that holds nothing but public fields.
//
// The leak-proof boundary is Mapper (public.go): it is the only code that
// reads triage's incidents, and it copies out only component and public
// service names, states, times and texts rendered from templates whose
// only inputs are Inputs. Everything after it sees the public model alone.
package statuspage

import "time"

// ComponentStatus is a component's state, as Statuspage names it.
type ComponentStatus string

// The component states.
const (
	Operational         ComponentStatus = "operational"
	UnderMaintenance    ComponentStatus = "under_maintenance"
	DegradedPerformance ComponentStatus = "degraded_performance"
	PartialOutage       ComponentStatus = "partial_outage"
	MajorOutage         ComponentStatus = "major_outage"
)

// rank orders component states from best to worst.
func (c ComponentStatus) rank() int {
	switch c {
	case UnderMaintenance:
		return 1
	case DegradedPerformance:
		return 2
	case PartialOutage:
		return 3
	case MajorOutage:
		return 4
	}
	return 0
}

// worse returns the worse of c and d.
func (c ComponentStatus) worse(d ComponentStatus) ComponentStatus {
	if d.rank() > c.rank() {
		return d
	}
	return c
}

// impact is the incident impact Statuspage reports for a component state.
func (c ComponentStatus) impact() string {
	switch c {
	case MajorOutage:
		return "critical"
	case PartialOutage:
		return "major"
	case DegradedPerformance:
		return "minor"
	case UnderMaintenance:
		return "maintenance"
	}
	return "none"
}

// downtime is how much of its time in state c counts against uptime:
// a major outage fully, a partial one at 30%, as Statuspage counts.
func (c ComponentStatus) downtime() float64 {
	switch c {
	case MajorOutage:
		return 1
	case PartialOutage:
		return 0.3
	}
	return 0
}

// IncidentStatus is an incident's state, as Statuspage names it.
type IncidentStatus string

// The incident states.
const (
	Investigating IncidentStatus = "investigating"
	Identified    IncidentStatus = "identified"
	Monitoring    IncidentStatus = "monitoring"
	Resolved      IncidentStatus = "resolved"
)

// incidentStates lists the incident states in lifecycle order.
var incidentStates = []IncidentStatus{Investigating, Identified, Monitoring, Resolved}

// Component is one status-page component and its history.
type Component struct {
	ID        string
	Name      string
	Position  int
	Status    ComponentStatus
	UpdatedAt time.Time
	Days      []Day   // oldest first, one per day of the history
	Uptime    float64 // percent over the history
}

// Disrupted are the days of c's history not all operational.
func (c *Component) Disrupted() []Day {
	var out []Day
	for _, d := range c.Days {
		if d.Status != Operational {
			out = append(out, d)
		}
	}
	return out
}

// Day is one day of a component's history: the worst state it was in.
type Day struct {
	Date   time.Time // midnight in the page's time zone
	Status ComponentStatus
}

// Update is one published update of an incident.
type Update struct {
	ID         string
	Status     IncidentStatus
	Title      string
	Body       string
	At         time.Time
	Components []string // names of the components affected
}

// Incident is one incident as the public sees it.
type Incident struct {
	ID           string
	Name         string
	PublicName   string
	Status       IncidentStatus
	Impact       ComponentStatus // the state it puts its components in while open
	Components   []string
	StartedAt    time.Time
	UpdatedAt    time.Time
	MonitoringAt time.Time // zero unless it was monitored
	ResolvedAt   time.Time // zero while open
	Updates      []Update  // newest first
}

// Page is everything the external page shows.
type Page struct {
	Name       string
	URL        string
	Language   string
	TimeZone   *time.Location
	UpdatedAt  time.Time
	Components []Component
	Active     []Incident // open incidents, newest first
	Past       []Incident // resolved within the history, newest first
	// Maintenances are the windows ending within the history: upcoming
	// and under way first, by start, then completed ones, newest first.
	Maintenances []Maintenance
}

// Status is the page's overall state: the worst component state.
func (p *Page) Status() ComponentStatus {
	s := Operational
	for _, c := range p.Components {
		s = s.worse(c.Status)
	}
	return s
}
