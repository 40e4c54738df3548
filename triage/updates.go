package triage

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/rules"
)

// Audience says who an incident update is written for.
type Audience string

// The audiences.
const (
	AudienceInternal Audience = "internal" // responders and the company
	AudienceExternal Audience = "external" // the public status page
)

// UpdateState is an incident's state as an update tells it, as Statuspage
// names them.
type UpdateState string

// The update states, in lifecycle order.
const (
	StateInvestigating UpdateState = "investigating"
	StateIdentified    UpdateState = "identified"
	StateMonitoring    UpdateState = "monitoring"
	StateResolved      UpdateState = "resolved"
)

// Publication says whether an update is out.
type Publication string

// The publication states.
const (
	UpdatePublished Publication = "published" // shown to its audience
	UpdateHeld      Publication = "held"      // waits for a communications manager's approval
	UpdateScheduled Publication = "scheduled" // published at PublishAt unless withdrawn
	UpdateWithdrawn Publication = "withdrawn" // never to be shown
)

// EventUpdate is the timeline event of a human decision about an update,
// or of a scheduled one going out.
const EventUpdate EventKind = "update"

// timerUpdate comes due when an incident's scheduled external update is to
// be published.
const timerUpdate timerKind = 201

// AutoAuthor is the author of the updates Klaxon posts by itself.
const AutoAuthor = "klaxon"

// MaxUpdateText is the longest text a human update may carry, in bytes.
const MaxUpdateText = 4096

// Update is one incident update for one audience: a journaled decision.
// Automatic updates carry no text: the page renders them from its
// templates, whose inputs are fixed; human ones carry the text written.
type Update struct {
	ID       int         `json:"id"` // 1, 2, … within its incident
	Audience Audience    `json:"audience"`
	State    UpdateState `json:"state"`
	At       time.Time   `json:"at"`
	By       string      `json:"by"`
	Text     string      `json:"text,omitempty"`
	Status   Publication `json:"status"`
	// Severity is the incident's severity when an internal update was
	// posted; external updates never carry it.
	Severity string `json:"severity,omitempty"`
	// PublishAt is when a scheduled update goes out; PublishedAt when it
	// (or a held one) did.
	PublishAt   time.Time `json:"publishAt,omitzero"`
	PublishedAt time.Time `json:"publishedAt,omitzero"`
	EditedAt    time.Time `json:"editedAt,omitzero"`
	EditedBy    string    `json:"editedBy,omitempty"`
	DecidedBy   string    `json:"decidedBy,omitempty"` // who approved or withdrew it
}

// Public reports whether the update may appear on the public page: an
// external update that is published.
func (u *Update) Public() bool { return u.Audience == AudienceExternal && u.Status == UpdatePublished }

// UpdateOp names a human decision about an incident's updates.
type UpdateOp string

// The update operations.
const (
	UpdatePost     UpdateOp = "post"     // post a new update with a text
	UpdateEdit     UpdateOp = "edit"     // replace an update's text
	UpdateApprove  UpdateOp = "approve"  // publish a held external update
	UpdateWithdraw UpdateOp = "withdraw" // withdraw a held or scheduled update
)

// UpdateChange is a human decision about an incident's updates, made
// through the API or the console.
type UpdateChange struct {
	Op       UpdateOp    `json:"op"`
	Incident string      `json:"incident"`
	Update   int         `json:"update,omitempty"` // the update's ID, for edit, approve, withdraw
	Audience Audience    `json:"audience,omitempty"`
	State    UpdateState `json:"state,omitempty"`
	Text     string      `json:"text,omitempty"`
	By       string      `json:"by"`
}

// Check says what is wrong with the change on its own, before it is
// journaled; Apply checks it against the incident.
func (uc *UpdateChange) Check() error {
	if uc.Incident == "" || uc.By == "" {
		return fmt.Errorf("%w: an update change needs an incident and who makes it", ErrInvalid)
	}
	switch uc.Op {
	case UpdatePost:
		if uc.Audience != AudienceInternal && uc.Audience != AudienceExternal {
			return fmt.Errorf("%w: audience must be internal or external, not %q", ErrInvalid, uc.Audience)
		}
		if !validUpdateState(uc.State) {
			return fmt.Errorf("%w: state must be investigating, identified, monitoring or resolved, not %q", ErrInvalid, uc.State)
		}
		return checkText(uc.Text)
	case UpdateEdit:
		if err := checkText(uc.Text); err != nil {
			return err
		}
	case UpdateApprove, UpdateWithdraw:
	default:
		return fmt.Errorf("%w: unknown update operation %q", ErrInvalid, uc.Op)
	}
	if uc.Update < 1 {
		return fmt.Errorf("%w: %s needs the update's id", ErrInvalid, uc.Op)
	}
	return nil
}

func checkText(text string) error {
	switch {
	case text == "":
		return fmt.Errorf("%w: an update needs a text", ErrInvalid)
	case len(text) > MaxUpdateText:
		return fmt.Errorf("%w: an update's text is %d bytes, more than %d", ErrInvalid, len(text), MaxUpdateText)
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: an update's text must be UTF-8", ErrInvalid)
	}
	return nil
}

func validUpdateState(st UpdateState) bool {
	switch st {
	case StateInvestigating, StateIdentified, StateMonitoring, StateResolved:
		return true
	}
	return false
}

// applyUpdate carries out a human decision about an incident's updates.
func (s *State) applyUpdate(c *change, uc *UpdateChange) error {
	if err := uc.Check(); err != nil {
		return err
	}
	inc := s.incidents[uc.Incident]
	if inc == nil {
		return fmt.Errorf("%w: %q", ErrNotFound, uc.Incident)
	}
	now := s.now
	if uc.Op == UpdatePost {
		u := inc.addUpdate(Update{Audience: uc.Audience, State: uc.State, At: now, By: uc.By, Text: uc.Text,
			Status: UpdatePublished, PublishedAt: now})
		c.event(inc, Event{At: now, Seq: c.seq, Kind: EventUpdate, By: uc.By,
			Message: fmt.Sprintf("%s update %d (%s) posted by %s", u.Audience, u.ID, u.State, uc.By)})
		return nil
	}
	if uc.Update > len(inc.Updates) {
		return fmt.Errorf("%w: %s has no update %d", ErrNotFound, inc.Key, uc.Update)
	}
	u := &inc.Updates[uc.Update-1]
	switch {
	case u.Status == UpdateWithdrawn:
		return fmt.Errorf("%w: update %d of %s was withdrawn", ErrConflict, u.ID, inc.Key)
	case uc.Op == UpdateEdit:
		u.Text, u.EditedAt, u.EditedBy = uc.Text, now, uc.By
	case u.Status != UpdateHeld && (uc.Op == UpdateApprove || u.Status != UpdateScheduled):
		return fmt.Errorf("%w: update %d of %s is %s, so it cannot be %s", ErrConflict, u.ID, inc.Key, u.Status, pastTense(uc.Op))
	case uc.Op == UpdateApprove:
		u.Status, u.PublishedAt, u.DecidedBy = UpdatePublished, now, uc.By
	default:
		u.Status, u.DecidedBy = UpdateWithdrawn, uc.By
		s.armUpdates(inc)
	}
	c.event(inc, Event{At: now, Seq: c.seq, Kind: EventUpdate, By: uc.By,
		Message: fmt.Sprintf("%s update %d %s by %s", u.Audience, u.ID, pastTense(uc.Op), uc.By)})
	return nil
}

func pastTense(op UpdateOp) string {
	switch op {
	case UpdateEdit:
		return "edited"
	case UpdateApprove:
		return "approved"
	}
	return "withdrawn"
}

// addUpdate appends u with the next ID and returns it.
func (inc *Incident) addUpdate(u Update) Update {
	u.ID = len(inc.Updates) + 1
	inc.Updates = append(inc.Updates, u)
	return u
}

// updateState is the incident's state as updates tell it: resolved;
// monitoring while no alert fires and it waits to resolve; identified once
// acknowledged; else investigating.
func (inc *Incident) updateState() UpdateState {
	switch {
	case !inc.open():
		return StateResolved
	case inc.firing == 0 && !inc.QuietSince.IsZero():
		return StateMonitoring
	case inc.Status == StatusAcknowledged:
		return StateIdentified
	}
	return StateInvestigating
}

// lastAuto is the incident's latest automatic internal update, or nil.
func (inc *Incident) lastAuto() *Update {
	for i := len(inc.Updates) - 1; i >= 0; i-- {
		if u := &inc.Updates[i]; u.By == AutoAuthor && u.Audience == AudienceInternal {
			return u
		}
	}
	return nil
}

// eventUpdates posts automatic updates after a timeline event of a kind
// that may change the incident's state or severity.
func (s *State) eventUpdates(c *change, inc *Incident, e Event) {
	switch e.Kind {
	case EventSeverity, EventOverride, EventAcknowledged, EventQuiet, EventResolved, EventReopened:
		s.autoUpdates(c, inc, e.At)
	}
}

// autoUpdates posts Klaxon's automatic updates at time at when the
// incident's state or severity changed since its last ones: an internal
// update always, an external one as the severity's policy says. Apply
// calls it after the events that change them, and once an entry settled
// an incident it touched (an alert firing again ends monitoring without
// an event of its own).
func (s *State) autoUpdates(c *change, inc *Incident, at time.Time) {
	if inc.Severity == 0 {
		return // not yet classified: the first severity posts the first updates
	}
	st, sev := inc.updateState(), inc.Severity.String()
	if last := inc.lastAuto(); last != nil && last.State == st && last.Severity == sev {
		return
	}
	inc.addUpdate(Update{Audience: AudienceInternal, State: st, At: at, By: AutoAuthor, Status: UpdatePublished, PublishedAt: at, Severity: sev})
	ext := Update{Audience: AudienceExternal, State: st, At: at, By: AutoAuthor}
	switch p := s.rules.Policy(inc.Severity); {
	case p.StatusPage == rules.StatusPageOff:
		return
	case p.StatusPage == rules.StatusPageApproval:
		ext.Status = UpdateHeld
	case p.StatusPageDelay > 0:
		ext.Status, ext.PublishAt = UpdateScheduled, at.Add(p.StatusPageDelay)
	default:
		ext.Status, ext.PublishedAt = UpdatePublished, at
	}
	inc.addUpdate(ext)
	s.armUpdates(inc)
}

// armUpdates sets the incident's publication timer to its earliest
// scheduled update, or clears it.
func (s *State) armUpdates(inc *Incident) {
	var next time.Time
	for i := range inc.Updates {
		if u := &inc.Updates[i]; u.Status == UpdateScheduled && (next.IsZero() || u.PublishAt.Before(next)) {
			next = u.PublishAt
		}
	}
	s.timers.set(timerUpdate, inc.Key, next)
}

// publishDue publishes the incident's scheduled updates due at or before at.
func (s *State) publishDue(c *change, key string, at time.Time) {
	inc := s.incidents[key]
	if inc == nil {
		return
	}
	for i := range inc.Updates {
		if u := &inc.Updates[i]; u.Status == UpdateScheduled && !u.PublishAt.After(at) {
			u.Status, u.PublishedAt = UpdatePublished, u.PublishAt
			c.event(inc, Event{At: at, Seq: c.seq, Kind: EventUpdate,
				Message: fmt.Sprintf("external update %d published after its delay", u.ID)})
		}
	}
	s.armUpdates(inc)
}

// Updates returns the updates of a live incident, oldest first.
func (s *State) Updates(key string) ([]Update, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	inc := s.incidents[key]
	if inc == nil {
		return nil, false
	}
	return append([]Update(nil), inc.Updates...), true
}
