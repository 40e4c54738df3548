// Package triage is Klaxon's deterministic state machine: it turns journaled
// entries (signals, human actions, timers, rule changes) into incidents.
//
// State changes only through Apply, which reads the time from the entry and
// performs no I/O, so the same entries in the same order always give the
// same incidents: recovery, replay and replication depend on that.
package triage

import (
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

// Entry is the payload of one journal record. Exactly one field is set.
type Entry struct {
	Signals  []signal.Signal `json:"signals,omitempty"`
	Action   *Action         `json:"action,omitempty"`
	Tick     *Tick           `json:"tick,omitempty"`
	Rules    *RulesChange    `json:"rules,omitempty"`
	Delivery *Delivery       `json:"delivery,omitempty"`
	OnCall   *OnCallChange   `json:"oncall,omitempty"`
	Override *OverrideChange `json:"override,omitempty"`
	Silence  *SilenceChange  `json:"silence,omitempty"`
	Update   *UpdateChange   `json:"update,omitempty"`
	// Maintenance schedules or cancels a maintenance window (maintenance.go).
	Maintenance *MaintenanceChange `json:"maintenance,omitempty"`
	// Chat installs the chat-room settings (chat.go).
	Chat *ChatChange `json:"chat,omitempty"`
}

// ActionKind names a human action on an incident.
type ActionKind string

// The human actions triage knows.
const (
	ActionAck           ActionKind = "ack"
	ActionResolve       ActionKind = "resolve"
	ActionSetSeverity   ActionKind = "set_severity"
	ActionClearSeverity ActionKind = "clear_severity"
	ActionEscalate      ActionKind = "escalate"     // page the next escalation step now
	ActionMerge         ActionKind = "merge"        // merge incident From into Incident
	ActionMoveSignals   ActionKind = "move_signals" // move Signals from Incident to To
)

// Action is a human decision about one incident, made through the API.
type Action struct {
	Kind     ActionKind `json:"kind"`
	Incident string     `json:"incident"`
	By       string     `json:"by"`
	Note     string     `json:"note,omitempty"`
	Severity string     `json:"severity,omitempty"` // level name, for set_severity
	From     string     `json:"from,omitempty"`     // the incident merged in, for merge
	Signals  []string   `json:"signals,omitempty"`  // signal IDs to move, for move_signals
	To       string     `json:"to,omitempty"`       // the incident they move to, for move_signals
	Role     string     `json:"role,omitempty"`     // the role, for assign_role and unassign_role (roles.go)
	Person   string     `json:"person,omitempty"`   // who is given the role, for assign_role
	// EntryKind, Entry and At are for the human timeline actions
	// (timeline.go): the entry's kind, which entry a correction or strike
	// is about, and when what it tells happened (zero: when posted).
	EntryKind EntryKind `json:"entryKind,omitempty"`
	Entry     int       `json:"entry,omitempty"`
	At        time.Time `json:"at,omitzero"`
}

// Tick records that a scheduled time came due; Apply acts on every timer
// due at or before the entry's time.
type Tick struct {
	Due time.Time `json:"due"`
}

// RulesChange installs a new rule set, carried in full so that replay uses
// the rules that were in force at the time.
type RulesChange struct {
	Files []rules.File `json:"files"`

	// The files compiled, once, outside the state's lock: by NewRulesChange
	// for a live change, by Decode on recovery.
	set *rules.Set
	err error
}

// NewRulesChange compiles files into a rule change, or says why they do not
// compile; nothing is journaled then.
func NewRulesChange(files []rules.File) (*RulesChange, error) {
	rc := &RulesChange{Files: files}
	rc.compile()
	return rc, rc.err
}

// compile compiles the files unless that was done already. A change that was
// journaled and does not compile (under a stricter binary) is refused by
// Apply, not by decoding: the rules in force stay.
func (rc *RulesChange) compile() {
	if rc.set == nil && rc.err == nil {
		rc.set, rc.err = rules.Compile(rc.Files)
	}
}

// Encode serialises an entry for the journal, in the current format.
func Encode(e *Entry) ([]byte, error) { return AppendEncoded(nil, e) }

// AppendEncoded appends e's encoding (Encode) to dst: a journal.Framer's
// header room, say, so that the journal stores it without a copy.
func AppendEncoded(dst []byte, e *Entry) ([]byte, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	dst = append(dst, FormatVersion)
	if len(e.Signals) > 0 {
		if data, ok := encodeSignalsFast(dst, e.Signals); ok {
			return data, nil
		}
	}
	return appendJSON(dst, e)
}

// Decode parses a journaled entry of any format this binary reads. An entry
// of a newer format, or with a kind or field this binary does not know, is a
// *FormatError: skipping it would make this binary's state differ from the
// writer's.
func Decode(data []byte) (*Entry, error) { return decodeInto(data, nil) }

// decodeInto is Decode that decodes a signal entry's signals into room, an
// all-zero slice, when they fit in its capacity.
func decodeInto(data []byte, room []signal.Signal) (*Entry, error) {
	// Every version decodes its JSON alike (decodeFormat), so the fast path
	// takes signal entries of each: a journal an older Klaxon wrote
	// replays as fast as one of the current format.
	if _, body, err := formatBody("entry", data); err == nil {
		if sigs, ok := decodeSignalsFast(room, body); ok {
			e := Entry{Signals: sigs}
			if e.validate() == nil {
				return &e, nil
			}
		}
	}
	var e Entry
	if err := decodeFormat("entry", data, &e); err != nil {
		return nil, fmt.Errorf("decode entry: %w", err)
	}
	if err := e.validate(); err != nil {
		return nil, fmt.Errorf("decode entry: %w", err)
	}
	if e.Rules != nil {
		e.Rules.compile()
	}
	if e.OnCall != nil {
		e.OnCall.load()
	}
	return &e, nil
}

func (e *Entry) validate() error {
	n := 0
	if len(e.Signals) > 0 {
		n++
	}
	for _, set := range []bool{e.Action != nil, e.Tick != nil, e.Rules != nil, e.Delivery != nil, e.OnCall != nil, e.Override != nil, e.Silence != nil, e.Update != nil, e.Maintenance != nil, e.Chat != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("entry must carry exactly one of signals, action, tick, rules, delivery, oncall, override, silence, update, maintenance, chat")
	}
	return nil
}
