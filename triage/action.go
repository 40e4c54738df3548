package triage

import (
	"fmt"
	"time"
)

// applyAction carries out a human action, or says why it cannot.
func (s *State) applyAction(c *change, act *Action) error {
	inc := s.incidents[act.Incident]
	if inc == nil {
		return fmt.Errorf("%w: %q", ErrNotFound, act.Incident)
	}
	now, by := s.now, act.By
	switch act.Kind {
	case ActionAck:
		if !inc.open() {
			return fmt.Errorf("%w: %s is resolved and cannot be acknowledged", ErrConflict, inc.Key)
		}
		if inc.Status == StatusAcknowledged {
			return nil
		}
		inc.Status = StatusAcknowledged
		s.stopEscalation(c, inc, "acknowledged by "+by)
		c.res.Acknowledged = append(c.res.Acknowledged, now.Sub(inc.OpenedAt))
		inc.AcknowledgedAt, inc.AcknowledgedBy = now, by
		c.event(inc, Event{At: now, Seq: c.seq, Kind: EventAcknowledged, By: by, Message: "acknowledged by " + by + note(act.Note)})
	case ActionResolve:
		if !inc.open() {
			return fmt.Errorf("%w: %s is already resolved", ErrConflict, inc.Key)
		}
		s.resolve(c, inc, now, by, "resolved by "+by+note(act.Note))
		s.finalMessage(c, inc, now)
	case ActionSetSeverity:
		return s.override(c, inc, act, now)
	case ActionMerge:
		return s.merge(c, inc, act)
	case ActionMoveSignals:
		return s.moveSignals(c, inc, act)
	case ActionEscalate:
		if !inc.open() {
			return fmt.Errorf("%w: %s is resolved", ErrConflict, inc.Key)
		}
		if inc.Status == StatusAcknowledged {
			inc.Status = StatusTriggered // paging again means nobody is on it
		}
		return s.escalateNow(c, inc, by)
	case ActionClearSeverity:
		if !inc.open() {
			return fmt.Errorf("%w: %s is resolved", ErrConflict, inc.Key)
		}
		if inc.Override == nil {
			return nil
		}
		inc.Override = nil
		inc.Severity = 0 // the rules decide afresh, downwards too
		c.event(inc, Event{At: now, Seq: c.seq, Kind: EventOverride, By: by, Message: "severity override cleared by " + by + note(act.Note) + "; rules apply again"})
		c.touch(inc)
	case ActionAssignRole:
		return s.assignRoleAction(c, inc, act)
	case ActionUnassignRole:
		return s.unassignRoleAction(c, inc, act)
	case ActionTimelinePost, ActionTimelineCorrect, ActionTimelineStrike:
		return s.applyTimeline(c, inc, act)
	default:
		return fmt.Errorf("%w: unknown action %q", ErrInvalid, act.Kind)
	}
	return nil
}

func (s *State) override(c *change, inc *Incident, act *Action, now time.Time) error {
	if !inc.open() {
		return fmt.Errorf("%w: %s is resolved", ErrConflict, inc.Key)
	}
	level, ok := s.rules.Level(act.Severity)
	if !ok {
		return fmt.Errorf("%w: unknown severity %q", ErrInvalid, act.Severity)
	}
	if act.Note == "" {
		return fmt.Errorf("%w: a severity override needs a reason", ErrInvalid)
	}
	old := inc.Severity
	inc.Override = &Override{Level: level, By: act.By, Reason: act.Note, At: now}
	inc.Severity, inc.Rule = level, ""
	inc.Why = fmt.Sprintf("%s set by %s: %s", level, act.By, act.Note)
	s.timers.set(timerRecheck, inc.Key, time.Time{})
	s.armQuiet(inc, now) // the new severity's policy says when it resolves
	s.autoRoles(c, inc, now)
	c.event(inc, Event{At: now, Seq: c.seq, Kind: EventOverride, By: act.By,
		Message: fmt.Sprintf("%s -> %s set by %s: %s; rules no longer change it", old, level, act.By, act.Note)})
	return nil
}
