package triage

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/oncall"
)

// Incident roles: people hold them while they work an incident (incident
// manager, technical lead, ...), as the on-call files define them.
const (
	ActionAssignRole   ActionKind = "assign_role"   // give Role to Person
	ActionUnassignRole ActionKind = "unassign_role" // take Role from whoever holds it

	EventRole  EventKind  = "role" // a role was assigned, unassigned, or reminded about
	IntentRole IntentKind = "role" // tell a newly assigned person their role's instructions

	timerRole timerKind = 203 // a required role's unassigned reminder is due
)

// RoleTerm is one stretch of time during which a person held a role of an
// incident: the role history.
type RoleTerm struct {
	Role   string    `json:"role"`
	Person string    `json:"person"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to,omitzero"`  // zero while held
	By     string    `json:"by,omitempty"` // "" when assigned automatically
}

// assignRoleAction gives a role to an on-call person by a human's decision.
func (s *State) assignRoleAction(c *change, inc *Incident, act *Action) error {
	r, err := s.roleOf(inc, act.Role)
	if err != nil {
		return err
	}
	if s.oncall.People[act.Person] == nil {
		return fmt.Errorf("%w: %q is not a person in the on-call files", ErrInvalid, act.Person)
	}
	s.assignRole(c, inc, r, act.Person, act.By, "assigned by "+act.By)
	return nil
}

// unassignRoleAction takes a role from whoever holds it.
func (s *State) unassignRoleAction(c *change, inc *Incident, act *Action) error {
	r, err := s.roleOf(inc, act.Role)
	if err != nil {
		return err
	}
	holder := inc.Roles[r.ID]
	if holder == "" {
		return fmt.Errorf("%w: nobody holds %s of %s", ErrConflict, r.ID, inc.Key)
	}
	s.endTerm(inc, r.ID)
	delete(inc.Roles, r.ID)
	if len(inc.Roles) == 0 {
		inc.Roles = nil
	}
	c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventRole, By: act.By,
		Message: fmt.Sprintf("%s: %s unassigned by %s", r.Name, holder, act.By)})
	if s.roleRequired(inc, r) {
		s.armRoleReminder(inc, r, s.now)
	}
	c.touch(inc)
	return nil
}

// roleOf checks that an open incident may have role id assigned.
func (s *State) roleOf(inc *Incident, id string) (*oncall.Role, error) {
	if !inc.open() {
		return nil, fmt.Errorf("%w: %s is resolved", ErrConflict, inc.Key)
	}
	if s.oncall == nil {
		return nil, fmt.Errorf("%w: roles need on-call files", ErrInvalid)
	}
	r := s.oncall.Roles[id]
	if r == nil {
		return nil, fmt.Errorf("%w: unknown role %q (defined: %s)", ErrInvalid, id,
			strings.Join(slices.Sorted(maps.Keys(s.oncall.Roles)), ", "))
	}
	return r, nil
}

// assignRole makes person the holder of r, ends the previous holder's
// term, and tells the person through their first contact method.
func (s *State) assignRole(c *change, inc *Incident, r *oncall.Role, person, by, why string) {
	if inc.Roles[r.ID] == person {
		return
	}
	s.endTerm(inc, r.ID)
	if inc.Roles == nil {
		inc.Roles = map[string]string{}
	}
	inc.Roles[r.ID] = person
	inc.RoleHistory = append(inc.RoleHistory, RoleTerm{Role: r.ID, Person: person, From: s.now, By: by})
	s.disarmRoleReminder(inc, r.ID)
	c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventRole, By: by,
		Message: fmt.Sprintf("%s: %s %s", r.Name, person, why)})
	s.notifyRole(c, inc, r, person)
	c.touch(inc)
}

// endTerm closes the open term of role id, if any.
func (s *State) endTerm(inc *Incident, id string) {
	for i := len(inc.RoleHistory) - 1; i >= 0; i-- {
		if t := &inc.RoleHistory[i]; t.Role == id && t.To.IsZero() {
			t.To = s.now
			return
		}
	}
}

// notifyRole decides the intent that sends a newly assigned person the
// role's instructions.
func (s *State) notifyRole(c *change, inc *Incident, r *oncall.Role, person string) {
	p := s.oncall.People[person]
	if p == nil || len(p.Methods) == 0 {
		return
	}
	msg := Message{Key: inc.Key, Title: inc.Title, Severity: inc.Severity.String(), Status: inc.Status,
		Service: inc.Service, Explanation: inc.Why, OpenedAt: inc.OpenedAt,
		Labels: map[string]string{"role": r.ID, "role_name": r.Name, "instructions": r.Instructions}}
	s.addIntent(c, Intent{
		ID:   fmt.Sprintf("%s/role/%s/%s/%d", inc.Key, r.ID, person, len(inc.RoleHistory)),
		Kind: IntentRole, Incident: inc.Key, Person: person,
		Receiver: oncall.MethodKey(person, p.Methods[0].Name), Step: -1, Round: -1, Due: s.now, Message: msg,
	})
}

// roleRequired reports whether inc's severity is at or above the level
// from which r is assigned automatically and required.
func (s *State) roleRequired(inc *Incident, r *oncall.Role) bool {
	if r.FromSeverity == "" || inc.Severity == 0 || !inc.open() {
		return false
	}
	level, ok := s.rules.Level(r.FromSeverity)
	return ok && inc.Severity <= level
}

// autoRoles assigns the roles inc's severity now requires and nobody ever
// held, from their schedules, and arms reminders for those still unheld.
// It runs whenever the severity may have changed.
func (s *State) autoRoles(c *change, inc *Incident, now time.Time) {
	if s.oncall == nil || !s.rolesWanted(inc) {
		return
	}
	for _, id := range slices.Sorted(maps.Keys(s.oncall.Roles)) {
		r := s.oncall.Roles[id]
		if !s.roleRequired(inc, r) || inc.Roles[id] != "" {
			continue
		}
		if !slices.ContainsFunc(inc.RoleHistory, func(t RoleTerm) bool { return t.Role == id }) {
			if person, why := s.autoHolder(inc, r, now); person != "" {
				s.assignRole(c, inc, r, person, "", "assigned automatically: "+why)
				continue
			}
		}
		if _, armed := inc.RoleReminders[id]; !armed {
			s.armRoleReminder(inc, r, now)
		}
	}
}

// rolesWanted reports, without allocating (it runs for every incident an
// entry touches), whether a role inc requires is unheld.
func (s *State) rolesWanted(inc *Incident) bool {
	for id, r := range s.oncall.Roles {
		if inc.Roles[id] == "" && s.roleRequired(inc, r) {
			return true
		}
	}
	return false
}

// autoHolder is who takes r automatically at now, and why: the on-call of
// its schedule, or for the technical lead without one, whom the first step
// of the incident's escalation policy pages.
func (s *State) autoHolder(inc *Incident, r *oncall.Role, now time.Time) (string, string) {
	if sch := s.oncall.Schedules[r.Schedule]; sch != nil {
		if shifts := sch.OnCallAt(now, s.overrides); len(shifts) > 0 {
			return shifts[0].Person, fmt.Sprintf("on call in schedule %q (%s)", r.Schedule, shifts[0].Reason())
		}
		return "", ""
	}
	if r.ID != "technical_lead" || r.Schedule != "" {
		return "", ""
	}
	name := s.policyFor(inc)
	pol := s.oncall.Policies[name]
	if pol == nil || len(pol.Steps) == 0 {
		return "", ""
	}
	pages, _ := s.oncall.StepPages(pol, 0, 0, now, s.overrides)
	for _, n := range pages {
		if !n.Nobody && n.Person != "" {
			return n.Person, fmt.Sprintf("first paged by escalation policy %q (%s)", name, n.Via)
		}
	}
	return "", ""
}

// armRoleReminder schedules a reminder that r is unassigned, if r has one.
func (s *State) armRoleReminder(inc *Incident, r *oncall.Role, from time.Time) {
	if r.RemindAfter <= 0 {
		return
	}
	if inc.RoleReminders == nil {
		inc.RoleReminders = map[string]time.Time{}
	}
	at := from.Add(r.RemindAfter)
	inc.RoleReminders[r.ID] = at
	s.timers.set(timerRole, inc.Key+"/"+r.ID, at)
}

// disarmRoleReminder cancels the reminder about role id.
func (s *State) disarmRoleReminder(inc *Incident, id string) {
	if _, ok := inc.RoleReminders[id]; !ok {
		return
	}
	delete(inc.RoleReminders, id)
	if len(inc.RoleReminders) == 0 {
		inc.RoleReminders = nil
	}
	s.timers.set(timerRole, inc.Key+"/"+id, time.Time{})
}

// armRoleTimers re-arms inc's reminders after a restore.
func (s *State) armRoleTimers(inc *Incident) {
	for id, at := range inc.RoleReminders {
		s.timers.set(timerRole, inc.Key+"/"+id, at)
	}
}

// roleReminderDue adds a timeline event when a required role is still
// unassigned, and reminds again after the same delay.
func (s *State) roleReminderDue(c *change, timerID string, at time.Time) {
	key, id, _ := strings.Cut(timerID, "/")
	inc := s.incidents[key]
	if inc == nil {
		return
	}
	s.disarmRoleReminder(inc, id)
	if s.oncall == nil || inc.Roles[id] != "" {
		return
	}
	r := s.oncall.Roles[id]
	if r == nil || !s.roleRequired(inc, r) {
		return
	}
	c.event(inc, Event{At: at, Seq: c.seq, Kind: EventRole,
		Message: fmt.Sprintf("reminder: %s is unassigned; %s incidents need one", r.Name, r.FromSeverity)})
	s.armRoleReminder(inc, r, at)
	c.touch(inc)
}
