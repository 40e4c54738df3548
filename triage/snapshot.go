package triage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/rules"
)

// snapshot is the serialised state; everything else is derived from it.
type snapshot struct {
	Seq       uint64            `json:"seq"`
	Now       time.Time         `json:"now"`
	NextInc   uint64            `json:"nextIncident"`
	RuleFiles []rules.File      `json:"ruleFiles,omitempty"`
	Alerts    map[string]*Alert `json:"alerts"`
	Incidents []*Incident       `json:"incidents"`
}

// Snapshot serialises the whole state (journal.FSM).
func (s *State) Snapshot() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return json.Marshal(snapshot{
		Seq: s.seq, Now: s.now, NextInc: s.nextInc, RuleFiles: s.ruleFiles,
		Alerts: s.alerts, Incidents: s.order,
	})
}

// Restore replaces the state with a snapshot (journal.FSM).
func (s *State) Restore(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("restore triage snapshot: %w", err)
	}
	rs := rules.Default()
	if len(snap.RuleFiles) > 0 {
		var err error
		if rs, err = rules.Compile(snap.RuleFiles); err != nil {
			return fmt.Errorf("restore triage snapshot: rules: %w", err)
		}
	}
	fresh := New(rs)
	fresh.ruleFiles = snap.RuleFiles
	fresh.seq, fresh.now, fresh.nextInc = snap.Seq, snap.Now, snap.NextInc
	if snap.Alerts != nil {
		fresh.alerts = snap.Alerts
	}
	for _, inc := range snap.Incidents {
		fresh.incidents[inc.Key] = inc
		fresh.order = append(fresh.order, inc)
	}
	fresh.rebuild()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules, s.ruleFiles, s.dependents = fresh.rules, fresh.ruleFiles, fresh.dependents
	s.seq, s.now, s.nextInc = fresh.seq, fresh.now, fresh.nextInc
	s.alerts, s.incidents, s.order = fresh.alerts, fresh.incidents, fresh.order
	s.openByKey, s.openBySvc, s.timers = fresh.openByKey, fresh.openBySvc, fresh.timers
	return nil
}

// rebuild recomputes everything derived from alerts, incidents and rules:
// indexes, per-incident statistics and timers.
func (s *State) rebuild() {
	s.openByKey = make(map[string]*Incident)
	s.openBySvc = make(map[string]*Incident)
	s.timers.init()
	for _, inc := range s.order {
		inc.derive(s.rules)
		if !inc.open() {
			continue
		}
		for _, k := range inc.GroupKeys {
			s.openByKey[k] = inc
		}
		for _, name := range inc.Services {
			s.openBySvc[name] = inc
		}
		if !inc.QuietSince.IsZero() {
			s.timers.set(timerQuietEnd, inc.Key, inc.QuietSince.Add(inc.Correlation.QuietPeriod))
		}
		if inc.Override == nil {
			s.timers.set(timerRecheck, inc.Key, inc.Recheck)
		}
	}
	for id, a := range s.alerts {
		a.hits = s.rules.MatchSignal(&a.Signal)
		if !a.Firing {
			continue
		}
		if !a.Signal.EndsAt.IsZero() {
			s.timers.set(timerAlertExpiry, id, a.Signal.EndsAt)
		}
		if inc := s.incidents[a.Incident]; inc != nil && inc.open() {
			inc.addAlert(a, 1)
		}
	}
}

// applyRules installs a new rule set and re-evaluates every open incident.
func (s *State) applyRules(c *change, rc *RulesChange) error {
	rs, err := rules.Compile(rc.Files)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s.setRules(rs, rc.Files)
	s.rebuild()
	for _, inc := range s.order {
		if inc.open() {
			c.touch(inc)
		}
	}
	return nil
}
