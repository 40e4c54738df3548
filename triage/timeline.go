package triage

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/signal"
)

// Human timeline entries: what responders observed, suspected, tried and
// did while resolving an incident, beside the automatic events. Automatic
// events never change; a human entry may be corrected or struck, and keeps
// every earlier version visible in its history.
const (
	ActionTimelinePost    ActionKind = "timeline_post"    // add a human entry (EntryKind, Note, At)
	ActionTimelineCorrect ActionKind = "timeline_correct" // replace entry Entry's kind, text or time
	ActionTimelineStrike  ActionKind = "timeline_strike"  // strike entry Entry out, with Note as the reason
)

// EntryKind classifies a human timeline entry: the observe, theorize,
// experiment, repeat loop of resolving an incident.
type EntryKind string

// The human entry kinds.
const (
	EntryObservation EntryKind = "observation"
	EntryTheory      EntryKind = "theory"
	EntryExperiment  EntryKind = "experiment"
	EntryAction      EntryKind = "action"
	EntryNote        EntryKind = "note"
)

// EntryKinds lists the human entry kinds, in the order help texts name them.
var EntryKinds = []EntryKind{EntryObservation, EntryTheory, EntryExperiment, EntryAction, EntryNote}

// Limits of human timeline entries, so that an incident's memory and
// snapshot stay bounded whatever is posted.
const (
	// MaxEntryText is the longest text of a human entry, in bytes (as an update's).
	MaxEntryText = MaxUpdateText
	// MaxEntries is how many human entries one incident holds.
	MaxEntries = 1000
	// MaxRevisions is how often one entry may be corrected.
	MaxRevisions = 50
	// EntryLead is how long before the incident opened (or its earliest
	// signal started, if earlier) a human entry may say it happened: the
	// first symptoms often precede the first alert, but not by days.
	EntryLead = 24 * time.Hour
)

// HumanEntry is one entry a person wrote on an incident's timeline.
type HumanEntry struct {
	ID     int       `json:"id"` // 1, 2, … within its incident
	Kind   EntryKind `json:"kind"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`     // when it happened, as its author says
	Posted time.Time `json:"posted"` // when it was journaled
	Seq    uint64    `json:"seq"`    // the journal entry that posted it
	By     string    `json:"by"`
	// Revisions are its earlier versions, oldest first, each with who
	// replaced it and when.
	Revisions []Revision `json:"revisions,omitempty"`
	// Struck says who struck it out, when and why; nil while it stands.
	Struck *Strike `json:"struck,omitempty"`
}

// Revision is an earlier version of a corrected human entry.
type Revision struct {
	Kind       EntryKind `json:"kind"`
	Text       string    `json:"text"`
	At         time.Time `json:"at"`
	ReplacedAt time.Time `json:"replacedAt"`
	ReplacedBy string    `json:"replacedBy"`
	Seq        uint64    `json:"seq"` // the journal entry that replaced it
}

// Strike records that a human entry was struck out.
type Strike struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
	Seq    uint64    `json:"seq"`
}

// ParseEntryKind returns the entry kind named, in any case.
func ParseEntryKind(name string) (EntryKind, bool) {
	for _, k := range EntryKinds {
		if strings.EqualFold(name, string(k)) {
			return k, true
		}
	}
	return "", false
}

// CheckEntryText says what is wrong with a human entry's text, if anything.
func CheckEntryText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("%w: a timeline entry needs a text", ErrInvalid)
	case len(text) > MaxEntryText:
		return fmt.Errorf("%w: a timeline entry's text is %d bytes, more than %d", ErrInvalid, len(text), MaxEntryText)
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: a timeline entry's text must be UTF-8", ErrInvalid)
	}
	return nil
}

// applyTimeline carries out a human timeline action. Entries may be
// written on resolved incidents too, until they are archived: the
// post-mortem is written after the resolution.
func (s *State) applyTimeline(c *change, inc *Incident, act *Action) error {
	switch act.Kind {
	case ActionTimelinePost:
		return s.postEntry(c, inc, act)
	case ActionTimelineCorrect:
		return s.correctEntry(c, inc, act)
	default:
		return s.strikeEntry(c, inc, act)
	}
}

func (s *State) postEntry(c *change, inc *Incident, act *Action) error {
	kind, ok := ParseEntryKind(string(act.EntryKind))
	if !ok {
		return fmt.Errorf("%w: a timeline entry's kind is one of %s, not %q", ErrInvalid, entryKindList(), act.EntryKind)
	}
	if err := CheckEntryText(act.Note); err != nil {
		return err
	}
	if len(inc.HumanEntries) >= MaxEntries {
		return fmt.Errorf("%w: %s already holds %d timeline entries", ErrConflict, inc.Key, MaxEntries)
	}
	at, err := s.entryTime(inc, act.At, s.now)
	if err != nil {
		return err
	}
	inc.HumanEntries = append(inc.HumanEntries, HumanEntry{ID: len(inc.HumanEntries) + 1, Kind: kind, Text: act.Note,
		At: at, Posted: s.now, Seq: c.seq, By: act.By})
	return nil
}

// correctEntry replaces an entry's kind, text or time (those the action
// gives), keeping the version it replaces in the entry's revisions.
func (s *State) correctEntry(c *change, inc *Incident, act *Action) error {
	e, err := standingEntry(inc, act.Entry)
	if err != nil {
		return err
	}
	next := Revision{Kind: e.Kind, Text: e.Text, At: e.At}
	if act.EntryKind != "" {
		if next.Kind, _ = ParseEntryKind(string(act.EntryKind)); next.Kind == "" {
			return fmt.Errorf("%w: a timeline entry's kind is one of %s, not %q", ErrInvalid, entryKindList(), act.EntryKind)
		}
	}
	if act.Note != "" {
		if err := CheckEntryText(act.Note); err != nil {
			return err
		}
		next.Text = act.Note
	}
	if !act.At.IsZero() {
		if next.At, err = s.entryTime(inc, act.At, e.Posted); err != nil {
			return err
		}
	}
	switch {
	case next.Kind == e.Kind && next.Text == e.Text && next.At.Equal(e.At):
		return fmt.Errorf("%w: the correction changes nothing in entry %d", ErrInvalid, e.ID)
	case len(e.Revisions) >= MaxRevisions:
		return fmt.Errorf("%w: entry %d of %s was corrected %d times already; strike it and post a new one", ErrConflict, e.ID, inc.Key, MaxRevisions)
	}
	e.Revisions = append(e.Revisions, Revision{Kind: e.Kind, Text: e.Text, At: e.At, ReplacedAt: s.now, ReplacedBy: act.By, Seq: c.seq})
	e.Kind, e.Text, e.At = next.Kind, next.Text, next.At
	return nil
}

// strikeEntry strikes an entry out; it stays on the timeline, marked.
func (s *State) strikeEntry(c *change, inc *Incident, act *Action) error {
	e, err := standingEntry(inc, act.Entry)
	if err != nil {
		return err
	}
	if len(act.Note) > MaxEntryText || !utf8.ValidString(act.Note) {
		return fmt.Errorf("%w: a strike's reason must be UTF-8 of at most %d bytes", ErrInvalid, MaxEntryText)
	}
	e.Struck = &Strike{At: s.now, By: act.By, Reason: act.Note, Seq: c.seq}
	return nil
}

// standingEntry is entry id of inc, unless it does not exist or was struck.
func standingEntry(inc *Incident, id int) (*HumanEntry, error) {
	if id < 1 || id > len(inc.HumanEntries) {
		return nil, fmt.Errorf("%w: %s has no timeline entry %d", ErrNotFound, inc.Key, id)
	}
	e := &inc.HumanEntries[id-1]
	if e.Struck != nil {
		return nil, fmt.Errorf("%w: timeline entry %d of %s was struck out", ErrConflict, id, inc.Key)
	}
	return e, nil
}

// entryTime checks the time an entry says it happened: zero means latest,
// and it may be no later than latest and no earlier than EntryLead before
// the incident began.
func (s *State) entryTime(inc *Incident, at, latest time.Time) (time.Time, error) {
	if at.IsZero() {
		return latest, nil
	}
	earliest := inc.OpenedAt
	if !inc.StartedAt.IsZero() && inc.StartedAt.Before(earliest) {
		earliest = inc.StartedAt
	}
	earliest = earliest.Add(-EntryLead)
	switch {
	case at.After(latest):
		return time.Time{}, fmt.Errorf("%w: a timeline entry cannot say it happened at %s, after it was posted (%s)",
			ErrInvalid, at.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339))
	case at.Before(earliest):
		return time.Time{}, fmt.Errorf("%w: a timeline entry cannot say it happened at %s, more than %s before %s began (%s)",
			ErrInvalid, at.UTC().Format(time.RFC3339), EntryLead, inc.Key, earliest.Add(EntryLead).UTC().Format(time.RFC3339))
	}
	return at.UTC(), nil
}

func entryKindList() string {
	names := make([]string, len(EntryKinds))
	for i, k := range EntryKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// TimelineItem is one line of an incident's merged timeline: an automatic
// event, an automatic status update, or a human entry.
type TimelineItem struct {
	At      time.Time `json:"at"`
	Seq     uint64    `json:"seq"`
	Kind    string    `json:"kind"`   // the event kind, "update", or the human entry's kind
	Source  string    `json:"source"` // SourceAutomatic or SourceHuman
	Message string    `json:"message"`
	By      string    `json:"by,omitempty"`
	// Entry is the human entry in full (id, posting time, revisions,
	// strike); nil for automatic items.
	Entry *HumanEntry `json:"entry,omitempty"`
}

// The sources of timeline items.
const (
	SourceAutomatic = "automatic"
	SourceHuman     = "human"
)

// Timeline is an incident's merged timeline, as the timeline API shows it.
type Timeline struct {
	Incident string         `json:"incident"`
	Items    []TimelineItem `json:"items"`
	// AlertEventsOmitted counts per-alert events left out, past the bound
	// on how many one incident lists.
	AlertEventsOmitted int  `json:"alertEventsOmitted,omitempty"`
	Archived           bool `json:"archived,omitempty"`
}

// MergeTimeline merges an incident's automatic events, its automatic
// status updates (human ones have events of their own) and its human
// entries, ordered by when they happened, then by journal sequence;
// at equal times and sequence automatic items come first, human entries
// in the order they were posted.
func MergeTimeline(d *Detail) Timeline {
	type ranked struct {
		TimelineItem
		rank int // events, then the updates they caused, then human entries
	}
	items := make([]ranked, 0, len(d.Timeline)+len(d.Updates)+len(d.HumanEntries))
	for _, e := range d.Timeline {
		items = append(items, ranked{TimelineItem{At: e.At, Seq: e.Seq, Kind: string(e.Kind), Source: SourceAutomatic, Message: e.Message, By: e.By}, 0})
	}
	for _, u := range d.Updates {
		if u.By == AutoAuthor {
			item := TimelineItem{At: u.At, Seq: causeSeq(d.Timeline, u.At), Kind: string(EventUpdate), Source: SourceAutomatic,
				Message: autoUpdateMessage(&u), By: AutoAuthor}
			items = append(items, ranked{item, 1})
		}
	}
	for i := range d.HumanEntries {
		e := d.HumanEntries[i]
		items = append(items, ranked{TimelineItem{At: e.At, Seq: e.Seq, Kind: string(e.Kind), Source: SourceHuman, Message: e.Text, By: e.By, Entry: &e}, 2})
	}
	slices.SortStableFunc(items, func(a, b ranked) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.rank, b.rank))
	})
	out := make([]TimelineItem, len(items))
	for i := range items {
		out[i] = items[i].TimelineItem
	}
	return Timeline{Incident: d.Key, Items: out, AlertEventsOmitted: d.AlertEventsOmitted, Archived: d.Archived}
}

// causeSeq is the sequence of the journal entry that posted an automatic
// update at time at (updates carry none): that of the last event at or
// before it.
func causeSeq(events []Event, at time.Time) uint64 {
	var seq uint64
	for _, e := range events {
		if !e.At.After(at) {
			seq = max(seq, e.Seq)
		}
	}
	return seq
}

// autoUpdateMessage tells an automatic update as a timeline line.
func autoUpdateMessage(u *Update) string {
	msg := fmt.Sprintf("%s update %d posted automatically: %s", u.Audience, u.ID, u.State)
	if u.Severity != "" {
		msg += " (" + u.Severity + ")"
	}
	switch u.Status {
	case UpdateHeld:
		msg += "; held for a communications manager's approval"
	case UpdateScheduled:
		msg += "; to be published at " + u.PublishAt.UTC().Format(time.RFC3339)
	case UpdateWithdrawn:
		msg += "; withdrawn"
	}
	return msg
}

// IncidentTimeline returns the merged timeline of a live incident.
func (s *State) IncidentTimeline(key string) (Timeline, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	inc := s.incidents[key]
	if inc == nil {
		return Timeline{}, false
	}
	d := s.detail(inc, 0, 0)
	return MergeTimeline(&d), true
}

// cloneEntries copies entries so that later corrections and strikes,
// which change them in place, leave the copy as it was.
func cloneEntries(entries []HumanEntry) []HumanEntry {
	out := slices.Clone(entries)
	for i := range out {
		out[i].Revisions = slices.Clip(out[i].Revisions)
	}
	return out
}

// Describe names a signal briefly, as the timeline does: alertname{other labels}.
func Describe(sig *signal.Signal) string { return describe(sig) }
