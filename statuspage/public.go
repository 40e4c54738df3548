package statuspage

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/triage"
)

// This file is the leak-proof boundary: the only code of the package that
// reads triage's types. It copies out component names, public service
// names, states and times, texts rendered from templates whose only
// inputs are Inputs, and the texts humans wrote for the public in
// published external updates; titles, explanations, labels, annotations,
// signal texts, internal updates, customers and people stay behind.

// Mapper turns triage's incidents into public ones.
type Mapper struct {
	Rules     *rules.Set // the catalogue: customer-facing services, public names, components
	Templates *Templates
	Language  string
	Location  *time.Location
	// States maps a severity level's name to the state its open incidents
	// put their components in; levels not named mean DefaultState.
	States       map[string]ComponentStatus
	DefaultState ComponentStatus
	// Publishable says whether an incident update may appear on the page:
	// (*triage.Update).Public (a published external update) unless the
	// caller narrows it. It only ever answers yes or no.
	Publishable func(triage.Update) bool
}

// DefaultStates is the default severity-to-component-state mapping.
var DefaultStates = map[string]ComponentStatus{"SEV1": MajorOutage, "SEV2": PartialOutage, "SEV3": DegradedPerformance}

// AutoPublishable admits incidents whose severity policy says
// status_page: auto; approval and off are never published automatically.
// It decides for incidents recorded before Klaxon kept updates (they have
// none), whose page states are derived from their timelines.
func AutoPublishable(s triage.Summary) bool {
	p := s.Routing.SeverityPolicy
	return p != nil && p.StatusPage == string(rules.StatusPageAuto)
}

// Incident maps one incident, its updates and timeline to the public
// model; ok is false when it must not appear (no customer-facing service,
// or no publishable update). Its page shows its publishable updates alone:
// their states, times and, for the texts humans wrote for the public,
// their texts. Only incidents without updates (recorded before Klaxon kept
// them) read the kind and time of timeline events instead.
func (m *Mapper) Incident(sum triage.Summary, updates []triage.Update, timeline []triage.Event) (inc Incident, ok bool, err error) {
	if !m.Wants(sum) {
		return Incident{}, false, nil
	}
	publicName, components := m.public(sum)
	inc = Incident{
		ID: opaqueID("incident", sum.Key), PublicName: publicName, Components: components,
		Impact: m.state(sum.Severity), StartedAt: sum.StartedAt.UTC(),
	}
	var steps []step
	if len(updates) == 0 {
		if !AutoPublishable(sum) {
			return Incident{}, false, nil
		}
		steps = reconcile(transitions(timeline), currentStatus(sum), sum)
	} else {
		steps = m.published(updates)
	}
	if len(steps) == 0 {
		return Incident{}, false, nil
	}
	for i, s := range steps {
		inc.Status = s.status
		if s.status == Resolved {
			inc.ResolvedAt = s.at
		}
		u, err := m.update(&inc, s, i)
		if err != nil {
			return Incident{}, false, err
		}
		if s.status == Monitoring {
			inc.MonitoringAt = s.at
		}
		inc.Updates = append(inc.Updates, u)
	}
	inc.Name = inc.Updates[0].Title
	inc.UpdatedAt = steps[len(steps)-1].at
	slices.Reverse(inc.Updates)
	return inc, true, nil
}

// published are the steps of the publishable updates, in the order they
// went out; a human's text comes along, nothing else of the update.
func (m *Mapper) published(updates []triage.Update) []step {
	var out []step
	for _, u := range updates {
		if !m.publishable(u) {
			continue
		}
		at := u.At
		if !u.PublishedAt.IsZero() {
			at = u.PublishedAt
		}
		out = append(out, step{status: IncidentStatus(u.State), at: at.UTC(), text: u.Text})
	}
	slices.SortStableFunc(out, func(a, b step) int { return a.at.Compare(b.at) })
	return out
}

// Maintenances maps maintenance windows to the public model: their titles
// (written for the public), states, times and those of their components
// that are on page; a window cancelled before it began, or with no
// component on the page, does not appear.
func (m *Mapper) Maintenances(ms []triage.Maintenance, p *Page) []Maintenance {
	var out []Maintenance
	for _, t := range ms {
		if t.State == triage.MaintenanceCancelled && !t.End.After(t.Start) {
			continue
		}
		pm := Maintenance{ID: opaqueID("maintenance", t.ID), Name: t.Title, ScheduledFor: t.Start.UTC(),
			ScheduledUntil: t.End.UTC(), CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
		switch t.State {
		case triage.MaintenanceScheduled:
			pm.Status = MaintenanceScheduled
		case triage.MaintenanceInProgress:
			pm.Status = MaintenanceInProgress
		default:
			pm.Status = MaintenanceCompleted
		}
		for _, c := range p.Components {
			if slices.Contains(t.Components, c.Name) {
				pm.Components = append(pm.Components, c.Name)
			}
		}
		if len(pm.Components) > 0 {
			out = append(out, pm)
		}
	}
	return out
}

// Wants reports whether an incident so summarised may appear on the page:
// it concerns a customer-facing service.
func (m *Mapper) Wants(sum triage.Summary) bool {
	name, _ := m.public(sum)
	return name != ""
}

func (m *Mapper) publishable(u triage.Update) bool {
	if m.Publishable != nil {
		return u.Public() && m.Publishable(u)
	}
	return u.Public()
}

// public is the incident's public service name and components: those of
// its customer-facing services, as the catalogue says now.
func (m *Mapper) public(sum triage.Summary) (string, []string) {
	var name string
	var comps []string
	for _, svcName := range append([]string{sum.Service}, sum.Services...) {
		svc := m.Rules.Service(svcName)
		if svc == nil || !svc.CustomerFacing || svc.DisplayName == "" {
			continue
		}
		if name == "" {
			name = svc.DisplayName
		}
		if c := componentName(svc); !slices.Contains(comps, c) {
			comps = append(comps, c)
		}
	}
	return name, comps
}

// componentName is a service's status-page component.
func componentName(svc *rules.Service) string {
	if svc.Component != "" {
		return svc.Component
	}
	return svc.DisplayName
}

// state is the component state a severity level means.
func (m *Mapper) state(level string) ComponentStatus {
	if s, ok := m.States[level]; ok {
		return s
	}
	if m.DefaultState != "" {
		return m.DefaultState
	}
	return DegradedPerformance
}

// step is one published state of an incident, with the text a human
// wrote for the public, if any.
type step struct {
	status IncidentStatus
	at     time.Time
	text   string
}

// currentStatus is the incident's state now: resolved; monitoring while
// no alert fires and it waits to resolve; identified once acknowledged;
// else investigating.
func currentStatus(sum triage.Summary) IncidentStatus {
	switch {
	case sum.Status == triage.StatusResolved:
		return Resolved
	case sum.Alerts.Total > 0 && sum.Alerts.Firing == 0:
		return Monitoring
	case sum.Status == triage.StatusAcknowledged:
		return Identified
	}
	return Investigating
}

// transitions reads the states an incident went through from the kinds
// and times of its timeline events; a severity change repeats the state.
func transitions(timeline []triage.Event) []step {
	var out []step
	var acked bool
	cur := IncidentStatus("")
	for _, e := range timeline {
		next := cur
		switch e.Kind {
		case triage.EventOpened, triage.EventReopened:
			next, acked = Investigating, false
		case triage.EventAcknowledged:
			next, acked = Identified, true
		case triage.EventQuiet:
			next = Monitoring
		case triage.EventAlertFiring:
			if cur == Monitoring {
				next = Investigating
				if acked {
					next = Identified
				}
			}
		case triage.EventResolved:
			next = Resolved
		case triage.EventSeverity, triage.EventOverride:
			if cur != "" && cur != Resolved && e.At.After(out[len(out)-1].at) {
				out = append(out, step{status: cur, at: e.At.UTC()})
			}
			continue
		}
		if next != cur && next != "" {
			out = append(out, step{status: next, at: e.At.UTC()})
			cur = next
		}
	}
	return out
}

// reconcile makes the steps start with the incident's start and end in its
// current state, for timelines that are short of events.
func reconcile(steps []step, now IncidentStatus, sum triage.Summary) []step {
	if len(steps) == 0 {
		steps = []step{{status: Investigating, at: sum.StartedAt.UTC()}}
	}
	last := steps[len(steps)-1]
	if last.status == now {
		return steps
	}
	at := sum.LastSignalAt
	switch {
	case now == Resolved && sum.ResolvedAt != nil:
		at = *sum.ResolvedAt
	case now == Identified && sum.AcknowledgedAt != nil:
		at = *sum.AcknowledgedAt
	}
	if at.Before(last.at) {
		at = last.at
	}
	return append(steps, step{status: now, at: at.UTC()})
}

// update renders the i-th update of inc, in state s.
func (m *Mapper) update(inc *Incident, s step, i int) (Update, error) {
	in := Inputs{PublicName: inc.PublicName, Component: strings.Join(inc.Components, ", "),
		State: words(m.Language).States[s.status], Started: m.format(inc.StartedAt)}
	if s.status == Resolved {
		in.Resolved = m.format(s.at)
	}
	title, body, err := m.Templates.Render(s.status, in)
	if err != nil {
		return Update{}, err
	}
	if s.text != "" {
		body = s.text
	}
	// Numbered in the order they went out, which only ever grows at the
	// end, so identifiers (and feed entries) stay put.
	return Update{ID: opaqueID("update", fmt.Sprintf("%s/%d", inc.ID, i)), Status: s.status,
		Title: title, Body: body, At: s.at, Components: inc.Components}, nil
}

// format formats t for template inputs, in the page's time zone.
func (m *Mapper) format(t time.Time) string {
	return t.In(m.Location).Format(words(m.Language).TimeFormat)
}

// opaqueID is a stable Statuspage-style identifier for name: it says
// nothing of how Klaxon names the thing.
func opaqueID(kind, name string) string {
	sum := sha256.Sum256([]byte("klaxon-statuspage\x00" + kind + "\x00" + name))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:])[:12])
}
