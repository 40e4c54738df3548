package triage

import (
	"maps"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// Summary is an incident as the list API shows it.
type Summary struct {
	Key            string        `json:"key"`
	Title          string        `json:"title"`
	Status         Status        `json:"status"`
	Severity       string        `json:"severity"`
	Explanation    string        `json:"explanation"`
	Rule           string        `json:"rule,omitempty"`
	Override       *OverrideView `json:"override,omitempty"`
	Service        string        `json:"service,omitempty"`
	Services       []string      `json:"services,omitempty"`
	GroupKey       string        `json:"groupKey"`
	Cause          string        `json:"cause,omitempty"`
	OpenedAt       time.Time     `json:"openedAt"`
	StartedAt      time.Time     `json:"startedAt"`
	LastSignalAt   time.Time     `json:"lastSignalAt"`
	AcknowledgedAt *time.Time    `json:"acknowledgedAt,omitempty"`
	AcknowledgedBy string        `json:"acknowledgedBy,omitempty"`
	ResolvedAt     *time.Time    `json:"resolvedAt,omitempty"`
	ResolvedBy     string        `json:"resolvedBy,omitempty"`
	Alerts         AlertCounts   `json:"alerts"`
	Customers      int           `json:"customers"`
	Escalation     *Escalation   `json:"escalation,omitempty"`
	FirstPaged     *time.Time    `json:"firstPaged,omitempty"`
	// Routing is what the catalogue and the severity policy say about the
	// incident, for whatever routes it downstream.
	Routing Routing `json:"routing"`
	// Roles maps each held role to its holder; RoleHistory is who held
	// which role from when to when (roles.go).
	Roles       map[string]string `json:"roles,omitempty"`
	RoleHistory []RoleTerm        `json:"roleHistory,omitempty"`
}

// Routing is an incident's routing context: its service's catalogue entry
// and the policy of its severity, as the rules in force say now.
type Routing struct {
	Team             string          `json:"team,omitempty"`
	DisplayName      string          `json:"displayName,omitempty"` // the public name
	Component        string          `json:"component,omitempty"`   // the status-page component
	Tier             int             `json:"tier,omitempty"`
	CustomerFacing   bool            `json:"customerFacing"`
	EscalationPolicy string          `json:"escalationPolicy,omitempty"`
	SeverityPolicy   *SeverityPolicy `json:"severityPolicy,omitempty"`
}

// SeverityPolicy is what the incident's severity level sets in motion.
type SeverityPolicy struct {
	Page       string `json:"page"`               // immediately or business_hours
	Calendar   string `json:"calendar,omitempty"` // for business_hours
	StatusPage string `json:"statusPage"`         // auto, approval or off
	ChatRoom   bool   `json:"chatRoom"`
}

// OverrideView is a human severity override as the API shows it.
type OverrideView struct {
	Severity string    `json:"severity"`
	By       string    `json:"by"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// AlertCounts counts an incident's alerts.
type AlertCounts struct {
	Firing int `json:"firing"`
	Total  int `json:"total"`
}

// Detail is one incident with its signals and timeline.
type Detail struct {
	Summary
	Signals      []SignalView `json:"signals"`
	SignalsTotal int          `json:"signalsTotal"`
	Timeline     []Event      `json:"timeline"`
	// Updates are its updates for every audience, oldest first.
	Updates []Update `json:"updates,omitempty"`
	// HumanEntries are what people wrote on its timeline, in the order
	// posted; MergeTimeline merges them with the events.
	HumanEntries []HumanEntry `json:"humanEntries,omitempty"`
	// AlertEventsOmitted counts per-alert events left out of the timeline.
	AlertEventsOmitted int `json:"alertEventsOmitted,omitempty"`
	// Impact is the incident's impact assessment, kept current.
	Impact Impact `json:"impact"`
	// Archived says the incident left the live state after its retention
	// and was read from the archive on disk.
	Archived bool `json:"archived,omitempty"`
	// Figures are its key figures (duration, time to acknowledge, pages
	// sent, tickets, mentions, …), as its final message tells them.
	Figures Figures `json:"figures"`
}

// SignalView is one signal of an incident in its latest state.
type SignalView struct {
	// ID is the signal's identity (kind/fingerprint), which moving it
	// between incidents names.
	ID string `json:"id"`
	signal.Signal
	// Status is the signal's effective status, which hides the embedded
	// status of its last delivery: firing, or resolved once the sender
	// resolved it or its endsAt passed.
	Status signal.Status `json:"status"`
	// StatusReason says why Status differs from what the last delivery
	// said: StatusExpired, or "" when they agree.
	StatusReason string `json:"statusReason,omitempty"`
	// JoinedAt is when this occurrence of the signal joined the incident;
	// zero for data written before Klaxon recorded it.
	JoinedAt time.Time `json:"joinedAt,omitzero"`
	// FirstSeen is when Klaxon first saw the signal's identity: before
	// JoinedAt, and before the incident opened, when an earlier occurrence
	// was in an earlier incident.
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	// SilencedBy lists the active silences that mute it (firing only).
	SilencedBy []string `json:"silencedBy,omitempty"`
}

// StatusExpired is the StatusReason of a signal whose last delivery said
// firing but whose endsAt passed without a refresh.
const StatusExpired = "expired"

// newSignalView is a's view; a fires or not as its effective status says.
func newSignalView(a *Alert) SignalView {
	sv := SignalView{ID: a.Signal.ID(), Signal: a.Signal, Status: signal.StatusResolved,
		JoinedAt: a.Joined.Time(), FirstSeen: a.FirstSeen.Time(), LastSeen: a.LastSeen.Time()}
	switch {
	case a.Firing:
		sv.Status = signal.StatusFiring
	case a.Signal.Status == signal.StatusFiring:
		sv.StatusReason = StatusExpired
	}
	return sv
}

// DefaultLimit is how many incidents a listing gives when it names no limit.
const DefaultLimit = 50

// Filter selects incidents for List.
type Filter struct {
	Status   string // triggered, acknowledged, resolved, or open (not resolved)
	Severity string // level name
	Service  string
	Limit    int    // default DefaultLimit, at most 1000
	Before   uint64 // only incidents numbered below this (pagination cursor); 0 for the newest
}

// List returns matching incidents newest first, and the cursor of the next
// page (0 when there is none).
func (s *State) List(f Filter) ([]Summary, uint64) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, 1000)
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Summary, 0, min(limit, len(s.order)))
	for i := len(s.order) - 1; i >= 0; i-- {
		inc := s.order[i]
		if (f.Before != 0 && inc.Number >= f.Before) || !inc.matches(f) {
			continue
		}
		if len(out) == limit {
			return out, out[len(out)-1].number()
		}
		out = append(out, s.summary(inc))
	}
	return out, 0
}

// Get returns one incident with up to limit of its signals, starting at
// offset in the order they joined it.
func (s *State) Get(key string, offset, limit int) (Detail, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	inc := s.incidents[key]
	if inc == nil {
		return Detail{}, false
	}
	return s.detail(inc, offset, limit), true
}

// events is the Events of a timeline; nil for none.
func events(timeline []heldEvent) []Event {
	if len(timeline) == 0 {
		return nil
	}
	out := make([]Event, len(timeline))
	for i := range timeline {
		out[i] = timeline[i].event()
	}
	return out
}

// detail is inc with up to limit of its signals from offset.
func (s *State) detail(inc *Incident, offset, limit int) Detail {
	d := Detail{Summary: s.summary(inc), Impact: s.impact(inc), Figures: s.figures(inc), SignalsTotal: len(inc.Alerts),
		AlertEventsOmitted: max(0, inc.AlertEvents-maxAlertEvents)}
	d.Timeline = events(inc.Timeline)
	d.Updates = append([]Update(nil), inc.Updates...)
	d.HumanEntries = cloneEntries(inc.HumanEntries)
	from := min(max(offset, 0), len(inc.Alerts))
	for _, id := range inc.Alerts[from:min(from+max(limit, 0), len(inc.Alerts))] {
		a := s.alerts[id]
		if a == nil || a.Incident != inc.Key {
			continue // its record went with an earlier incident's eviction
		}
		sv := newSignalView(a)
		if a.Firing {
			sv.SilencedBy = s.silencedBy(&a.Signal, s.now)
		}
		d.Signals = append(d.Signals, sv)
	}
	return d
}

// Exists reports whether an incident exists and whether it is open.
func (s *State) Exists(key string) (exists, open bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	inc := s.incidents[key]
	return inc != nil, inc != nil && inc.open()
}

// OpenCount is the number of open incidents.
func (s *State) OpenCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.openCount
}

func (inc *Incident) matches(f Filter) bool {
	return f.admits(inc.Status, inc.Severity.String(), inc.Service, inc.Services)
}

// Matches reports whether an incident so summarised passes f's status,
// severity and service filters.
func (s Summary) Matches(f Filter) bool {
	return f.admits(s.Status, s.Severity, s.Service, s.Services)
}

func (f Filter) admits(status Status, severity, service string, services []string) bool {
	switch f.Status {
	case "":
	case "open":
		if status == StatusResolved {
			return false
		}
	default:
		if string(status) != f.Status {
			return false
		}
	}
	if f.Severity != "" && severity != f.Severity {
		return false
	}
	return f.Service == "" || f.Service == service || slices.Contains(services, f.Service)
}

// summary is inc as the API lists it, with its routing context.
func (s *State) summary(inc *Incident) Summary {
	sum := Summary{Routing: s.routing(inc),
		Key: inc.Key, Title: inc.Title, Status: inc.Status,
		Severity: inc.Severity.String(), Explanation: inc.Why, Rule: inc.Rule,
		Service: inc.Service, Services: inc.Services, GroupKey: inc.GroupKeys[0], Cause: inc.Cause,
		OpenedAt: inc.OpenedAt, StartedAt: inc.StartedAt, LastSignalAt: inc.LastSignalAt,
		AcknowledgedBy: inc.AcknowledgedBy, ResolvedBy: inc.ResolvedBy,
		Alerts:    AlertCounts{Firing: inc.firing, Total: len(inc.Alerts)},
		Customers: len(inc.Customers),
		Roles:     maps.Clone(inc.Roles), RoleHistory: slices.Clone(inc.RoleHistory),
	}
	if o := inc.Override; o != nil {
		sum.Override = &OverrideView{Severity: o.Level.String(), By: o.By, Reason: o.Reason, At: o.At}
	}
	if !inc.AcknowledgedAt.IsZero() {
		t := inc.AcknowledgedAt
		sum.AcknowledgedAt = &t
	}
	if !inc.ResolvedAt.IsZero() {
		t := inc.ResolvedAt
		sum.ResolvedAt = &t
	}
	if e := inc.Escalation; e != nil {
		cp := *e
		sum.Escalation = &cp
	}
	if !inc.FirstPaged.IsZero() {
		t := inc.FirstPaged
		sum.FirstPaged = &t
	}
	if !inc.open() {
		sum.Alerts.Firing = 0
	}
	return sum
}

func (s Summary) number() uint64 {
	var n uint64
	for _, r := range s.Key[len("INC-"):] {
		n = n*10 + uint64(r-'0')
	}
	return n
}

// routing looks up inc's service in the catalogue and its severity's policy.
func (s *State) routing(inc *Incident) Routing {
	var r Routing
	if svc := s.rules.Service(inc.Service); svc != nil {
		r = Routing{Team: svc.Team, DisplayName: svc.DisplayName, Component: svc.Component, Tier: svc.Tier,
			CustomerFacing: svc.CustomerFacing, EscalationPolicy: svc.EscalationPolicy}
	}
	if e := inc.Escalation; e != nil {
		r.EscalationPolicy = e.Policy // the one actually paging
	}
	if inc.Severity != 0 {
		p := s.rules.Policy(inc.Severity)
		sp := &SeverityPolicy{Page: string(p.Page), StatusPage: string(p.StatusPage), ChatRoom: p.ChatRoom}
		if p.Calendar != nil {
			sp.Calendar = p.Calendar.Name
		}
		r.SeverityPolicy = sp
	}
	return r
}
