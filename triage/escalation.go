package triage

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/oncall"
)

// Escalation is where an incident's paging stands: which policy, which
// step comes next and when. Apply moves it on; pages leave as intents.
type Escalation struct {
	Policy  string    `json:"policy"`
	Started time.Time `json:"started,omitzero"` // when the first step ran; zero while waiting for business hours
	Round   int       `json:"round"`            // the round of the next step
	Step    int       `json:"step"`             // the next step
	Next    time.Time `json:"next,omitzero"`    // when the next step is due
	// Current is the step whose pages are out (round, step), -1 before any.
	CurRound int  `json:"curRound"`
	CurStep  int  `json:"curStep"`
	Reached  bool `json:"reached,omitempty"` // a page of the current step was delivered
	Stopped  bool `json:"stopped,omitempty"` // acknowledged or resolved: nothing more is sent
	// Cycle counts restarts after an ack timed out; page IDs carry it, so
	// the pages of a new cycle are new decisions.
	Cycle    int  `json:"cycle,omitempty"`
	Fallback bool `json:"fallback,omitempty"` // the fallback receiver was paged: the policy is spent
	// Held is set while every firing alert of the incident is silenced: its
	// unsent pages were cancelled, and the next step runs when that ends.
	Held bool `json:"held,omitempty"`
}

// defaultPolicy is the escalation policy for incidents whose service names
// none: an on-call file may define it, so that nothing goes unpaged.
const defaultPolicy = "default"

// escalate starts or holds the paging of an open incident that an entry
// touched, once its severity is known: at once, or when the severity
// policy's business hours open. It runs after evaluate.
func (s *State) escalate(c *change, inc *Incident, now time.Time) {
	s.autoRoles(c, inc, now)
	if s.oncall == nil || inc.Severity == 0 || inc.Status != StatusTriggered {
		return
	}
	e := inc.Escalation
	if s.silenced(inc, now) {
		if e != nil && !e.Started.IsZero() && !e.Stopped && !e.Fallback {
			s.holdEscalation(c, inc, now)
		}
		return
	}
	if e != nil && e.Held && !e.Stopped {
		e.Held = false
		c.event(inc, Event{At: now, Seq: c.seq, Kind: EventEscalation, Message: "not every firing alert is silenced any more: the escalation goes on"})
		s.runStep(c, inc, now)
		return
	}
	if e != nil && (!e.Started.IsZero() || e.Stopped) {
		return // under way, or over
	}
	at := s.rules.Policy(inc.Severity).PageAt(now)
	if e == nil {
		name := s.policyFor(inc)
		if _, ok := s.oncall.Policies[name]; !ok {
			inc.Escalation = &Escalation{Policy: name, Stopped: true, CurStep: -1}
			c.event(inc, Event{At: now, Seq: c.seq, Kind: EventEscalation,
				Message: fmt.Sprintf("nobody paged: escalation policy %q is not defined in the on-call files", name)})
			return
		}
		e = &Escalation{Policy: name, CurStep: -1}
		inc.Escalation = e
	}
	if at.After(now) {
		if !e.Next.Equal(at) {
			e.Next = at
			s.timers.set(timerEscalate, inc.Key, at)
			c.event(inc, Event{At: now, Seq: c.seq, Kind: EventEscalation,
				Message: fmt.Sprintf("%s pages in business hours: escalation %q starts at %s", inc.Severity, e.Policy, at.UTC().Format(time.RFC3339))})
		}
		return
	}
	e.Started = now
	s.runStep(c, inc, now)
}

// policyFor names the escalation policy of an incident's service.
func (s *State) policyFor(inc *Incident) string {
	if svc := s.rules.Service(inc.Service); svc != nil && svc.EscalationPolicy != "" {
		return svc.EscalationPolicy
	}
	return defaultPolicy
}

// runStep sends the next step's pages at at, moving on at once past steps
// that find nobody, and schedules the step after it; after the last round
// it pages the fallback receiver.
func (s *State) runStep(c *change, inc *Incident, at time.Time) {
	e := inc.Escalation
	pol := s.oncall.Policies[e.Policy]
	if pol == nil {
		return // the on-call files changed under it; escalationConfigChanged stopped it
	}
	if s.silenced(inc, at) {
		s.holdEscalation(c, inc, at)
		return
	}
	for {
		if e.Round > pol.Repeat {
			s.pageFallback(c, inc, pol, at)
			return
		}
		round, step := e.Round, e.Step
		if e.Step++; e.Step == len(pol.Steps) {
			e.Round, e.Step = e.Round+1, 0
		}
		pages, wait := s.oncall.StepPages(pol, round, step, at, s.overrides)
		e.CurRound, e.CurStep, e.Reached = round, step, false
		if pages[0].Nobody {
			c.event(inc, Event{At: at, Seq: c.seq, Kind: EventEscalation,
				Message: fmt.Sprintf("round %d step %d: nobody on call; moving on", round+1, step+1)})
			continue
		}
		s.page(c, inc, pages)
		e.Next = at.Add(wait)
		s.timers.set(timerEscalate, inc.Key, e.Next)
		return
	}
}

// page turns a step's notifications into intents, one per contact method.
func (s *State) page(c *change, inc *Incident, pages []oncall.Notification) {
	var who []string
	for _, n := range pages {
		for _, m := range n.Methods {
			s.addIntent(c, Intent{
				ID:   s.pageID(inc, n.ID()+"/"+m),
				Kind: IntentPage, Incident: inc.Key, Person: n.Person,
				Receiver: oncall.MethodKey(n.Person, m), Step: n.Step, Round: n.Round, Due: n.Due,
				Message: s.message(inc),
			})
		}
		inc.notePaged(n.Person)
		if name := n.Person + " (" + n.Via + ")"; !slices.Contains(who, name) {
			who = append(who, name)
		}
	}
	c.event(inc, Event{At: pages[0].Due, Seq: c.seq, Kind: EventEscalation,
		Message: fmt.Sprintf("round %d step %d: paging %s", pages[0].Round+1, pages[0].Step+1, strings.Join(who, ", "))})
}

// pageFallback pages the policy's fallback receiver: the escalation is spent.
func (s *State) pageFallback(c *change, inc *Incident, pol *oncall.Policy, at time.Time) {
	e := inc.Escalation
	n := s.oncall.FallbackPage(pol, at)
	s.addIntent(c, Intent{
		ID: s.pageID(inc, n.ID()), Kind: IntentPage, Incident: inc.Key,
		Receiver: oncall.FallbackKey(pol.ID), Step: -1, Round: e.Round, Due: at, Message: s.message(inc),
	})
	e.Fallback, e.Next = true, time.Time{}
	s.timers.set(timerEscalate, inc.Key, time.Time{})
	c.res.Fallbacks++
	c.event(inc, Event{At: at, Seq: c.seq, Kind: EventEscalation,
		Message: fmt.Sprintf("escalation %q spent without an acknowledgement: paging the fallback receiver %s", pol.ID, pol.Fallback.Name)})
}

// pageID names a page of inc: the incident, the escalation's cycle (after
// an ack timed out) and the notification, so that the same decision always
// gets the same ID and a new one a new ID.
func (s *State) pageID(inc *Incident, notification string) string {
	if c := inc.Escalation.Cycle; c > 0 {
		return fmt.Sprintf("%s/page/c%d/%s", inc.Key, c, notification)
	}
	return inc.Key + "/page/" + notification
}

// message is what a page says about inc now.
func (s *State) message(inc *Incident) Message {
	m := Message{Key: inc.Key, Title: inc.Title, Severity: inc.Severity.String(), Status: inc.Status,
		Service: inc.Service, Explanation: inc.Why, OpenedAt: inc.OpenedAt,
		Labels: map[string]string{"policy": inc.Escalation.Policy}}
	if svc := s.rules.Service(inc.Service); svc != nil && svc.Team != "" {
		m.Labels["team"] = svc.Team
	}
	return m
}

// escalationDue runs an incident's next step when its timer fires: the
// step after the delay, or the first one when business hours open.
func (s *State) escalationDue(c *change, inc *Incident, at time.Time) {
	e := inc.Escalation
	if e != nil && e.Stopped && inc.Status == StatusAcknowledged && !e.Next.IsZero() {
		s.ackTimedOut(c, inc, at)
		return
	}
	if e == nil || e.Stopped || e.Fallback || inc.Status != StatusTriggered {
		return
	}
	if e.Started.IsZero() {
		e.Next = time.Time{}
		s.escalate(c, inc, at)
		return
	}
	s.runStep(c, inc, at)
}

// holdEscalation pauses an escalation under way while every firing alert
// of its incident is silenced: the pages not yet sent are cancelled, and
// escalate runs the next step once the silence no longer covers them all.
func (s *State) holdEscalation(c *change, inc *Incident, at time.Time) {
	e := inc.Escalation
	if e.Held {
		return
	}
	e.Held, e.Next = true, time.Time{}
	s.timers.set(timerEscalate, inc.Key, time.Time{})
	s.cancelIntents(inc, IntentPage)
	c.event(inc, Event{At: at, Seq: c.seq, Kind: EventEscalation,
		Message: "escalation held: every firing alert is silenced; pages not yet sent are cancelled, and the next step pages when the silence ends"})
}

// stopEscalation ends an incident's paging: acknowledged or resolved.
// Pages not yet sent are cancelled; those under way may still arrive.
func (s *State) stopEscalation(c *change, inc *Incident, why string) {
	e := inc.Escalation
	if e == nil || e.Stopped {
		return
	}
	e.Stopped, e.Held, e.Next = true, false, time.Time{}
	s.timers.set(timerEscalate, inc.Key, time.Time{})
	s.cancelIntents(inc, IntentPage)
	if !e.Started.IsZero() && !e.Fallback {
		c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventEscalation, Message: "escalation stopped: " + why})
	}
	if pol := s.policy(e); pol != nil && pol.AckTimeout > 0 && inc.Status == StatusAcknowledged {
		e.Next = s.now.Add(pol.AckTimeout)
		s.timers.set(timerEscalate, inc.Key, e.Next)
		c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventEscalation,
			Message: fmt.Sprintf("pages again from the first step at %s unless resolved (ack_timeout %s)", e.Next.UTC().Format(time.RFC3339), pol.AckTimeout)})
	}
}

// policy is an escalation's policy in the on-call files in force, or nil.
func (s *State) policy(e *Escalation) *oncall.Policy {
	if s.oncall == nil {
		return nil
	}
	return s.oncall.Policies[e.Policy]
}

// ackTimedOut pages an acknowledged incident again from the first step:
// its policy's ack_timeout passed without a resolve.
func (s *State) ackTimedOut(c *change, inc *Incident, at time.Time) {
	e := inc.Escalation
	pol := s.policy(e)
	if pol == nil {
		return
	}
	inc.Status = StatusTriggered
	c.event(inc, Event{At: at, Seq: c.seq, Kind: EventEscalation,
		Message: fmt.Sprintf("acknowledged %s ago and not resolved (ack_timeout): paging again from the first step", pol.AckTimeout)})
	e.Stopped, e.Fallback, e.Round, e.Step, e.Started = false, false, 0, 0, at
	e.Cycle++
	s.runStep(c, inc, at)
}

// escalateAfterDelivery moves an escalation on at once when the current
// step reached nobody: every page of it failed for good and none is left.
func (s *State) escalateAfterDelivery(c *change, inc *Incident, in *Intent, ok bool) {
	e := inc.Escalation
	if e == nil || in.Kind != IntentPage || e.Stopped || e.Fallback || in.Round != e.CurRound || in.Step != e.CurStep {
		return
	}
	if ok {
		e.Reached = true
		return
	}
	if e.Reached || s.pendingStep(inc.Key, in.Round, in.Step) {
		return
	}
	c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventEscalation,
		Message: fmt.Sprintf("round %d step %d reached nobody: every page failed; moving on", in.Round+1, in.Step+1)})
	s.runStep(c, inc, s.now)
}

// pendingStep reports whether a page of the given step is still pending.
func (s *State) pendingStep(key string, round, step int) bool {
	for _, in := range s.intents {
		if in.Incident == key && in.Kind == IntentPage && in.Round == round && in.Step == step {
			return true
		}
	}
	return false
}

// escalateNow runs the next step at once: a human's manual escalation.
// It restarts an acknowledged incident's paging too.
func (s *State) escalateNow(c *change, inc *Incident, by string) error {
	if s.oncall == nil {
		return fmt.Errorf("%w: no on-call files are configured", ErrConflict)
	}
	e := inc.Escalation
	if e == nil {
		inc.Escalation = &Escalation{Policy: s.policyFor(inc), CurStep: -1}
		e = inc.Escalation
	}
	if _, ok := s.oncall.Policies[e.Policy]; !ok {
		return fmt.Errorf("%w: escalation policy %q is not defined", ErrConflict, e.Policy)
	}
	if e.Fallback {
		return fmt.Errorf("%w: %s's escalation is spent: the fallback receiver was paged", ErrConflict, inc.Key)
	}
	if e.Started.IsZero() {
		e.Started = s.now
	}
	e.Stopped = false
	c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventEscalation, By: by, Message: "escalated to the next step by " + by})
	s.runStep(c, inc, s.now)
	return nil
}

// setOnCall installs new on-call files. Escalations under way keep going
// under the new definitions; one whose policy is gone stops, and says so.
func (s *State) applyOnCall(c *change, oc *OnCallChange) error {
	oc.load()
	if oc.err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, oc.err)
	}
	s.oncallFiles, s.oncall = oc.Files, oc.cfg
	for _, inc := range s.order {
		if e := inc.Escalation; e != nil && !e.Stopped && inc.open() && s.oncall.Policies[e.Policy] == nil {
			s.stopEscalation(c, inc, fmt.Sprintf("escalation policy %q is no longer defined", e.Policy))
		}
		if inc.open() {
			c.touch(inc) // an incident that waited for on-call files starts paging
		}
	}
	return nil
}

// OnCallChange installs new on-call files (people, schedules, policies),
// carried in full so that recovery and replay page as live did.
type OnCallChange struct {
	Files []oncall.File `json:"files"`

	cfg *oncall.Config // loaded once, outside the state's lock
	err error
}

// NewOnCallChange loads files into a change, or says why they do not load.
func NewOnCallChange(files []oncall.File) (*OnCallChange, error) {
	oc := &OnCallChange{Files: files}
	oc.load()
	return oc, oc.err
}

func (oc *OnCallChange) load() {
	if oc.cfg == nil && oc.err == nil {
		oc.cfg, oc.err = oncall.Load(oc.Files)
	}
}

// OverrideChange puts someone on call in a schedule for a while, or
// removes such an override by its ID.
type OverrideChange struct {
	Set    *oncall.Override `json:"set,omitempty"`
	Remove string           `json:"remove,omitempty"`
}

// overrideKeep is how long an override is kept after it ended.
const overrideKeep = 30 * 24 * time.Hour

// applyOverride adds or removes a schedule override, and forgets those
// that ended long ago.
func (s *State) applyOverride(c *change, oc *OverrideChange, id string) error {
	s.overrides = slices.DeleteFunc(s.overrides, func(o oncall.Override) bool { return s.now.Sub(o.End) > overrideKeep })
	switch {
	case oc.Set != nil:
		o := *oc.Set
		o.ID = id
		if err := s.checkOverride(o); err != nil {
			return err
		}
		s.overrides = append(s.overrides, o)
	case oc.Remove != "":
		i := slices.IndexFunc(s.overrides, func(o oncall.Override) bool { return o.ID == oc.Remove })
		if i < 0 {
			return fmt.Errorf("%w: no override %q", ErrNotFound, oc.Remove)
		}
		s.overrides = slices.Delete(s.overrides, i, i+1)
	default:
		return fmt.Errorf("%w: an override change sets or removes one", ErrInvalid)
	}
	return nil
}

func (s *State) checkOverride(o oncall.Override) error {
	switch {
	case s.oncall == nil:
		return fmt.Errorf("%w: no on-call files are configured", ErrInvalid)
	case s.oncall.Schedules[o.Schedule] == nil:
		return fmt.Errorf("%w: unknown schedule %q", ErrInvalid, o.Schedule)
	case s.oncall.People[o.Person] == nil:
		return fmt.Errorf("%w: unknown person %q", ErrInvalid, o.Person)
	case o.Replaces != "" && s.oncall.People[o.Replaces] == nil:
		return fmt.Errorf("%w: unknown person %q to replace", ErrInvalid, o.Replaces)
	case !o.End.After(o.Start):
		return fmt.Errorf("%w: an override must end after it starts", ErrInvalid)
	}
	return nil
}
