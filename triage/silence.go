package triage

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxonhq/klaxon/signal"
)

// SilenceRetention is how long an expired silence stays readable before it
// leaves the state, as Alertmanager keeps them (its --data.retention
// default): silences in memory follow those of the last five days, not all
// that ever were.
const SilenceRetention = 120 * time.Hour

// timerSilence comes due when a silence starts, ends, or leaves the state
// after its retention. It lives here, apart from the other kinds, so that
// kinds added there do not move it.
const timerSilence timerKind = 200

// The timeline events a silence leaves on the incidents whose firing alerts
// it matches.
const (
	EventSilenced   EventKind = "silenced"
	EventUnsilenced EventKind = "unsilenced"
)

// ErrNoSilence is the error of a change to a silence that does not exist;
// the API answers 404.
var ErrNoSilence = errors.New("silence not found")

// SilenceChange creates or updates a silence, Alertmanager's way of muting
// the alerts its matchers match for a while, or expires one (Expire and ID).
// An update that would rewrite history (other matchers, a moved start of an
// active silence) expires the old silence and creates one with a new ID, as
// Alertmanager does.
type SilenceChange struct {
	ID          string            `json:"id,omitempty"`     // the silence to update or expire; "" creates one
	Expire      bool              `json:"expire,omitempty"` // expire ID now
	Matchers    []string          `json:"matchers,omitempty"`
	StartsAt    time.Time         `json:"startsAt,omitzero"` // zero: now
	EndsAt      time.Time         `json:"endsAt,omitzero"`
	CreatedBy   string            `json:"createdBy,omitempty"`
	Comment     string            `json:"comment,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	By          string            `json:"by,omitempty"` // the authenticated caller who made the change

	// The matchers parsed, once, outside the state's lock: by
	// NewSilenceChange for a live change, by Apply on recovery.
	ms  []*labels.Matcher
	err error
}

// NewSilenceChange checks a change and parses its matchers (each one in
// Alertmanager's syntax, such as alertname="X" or env=~"prod|staging"), or
// says what is wrong with it, wrapping ErrInvalid; nothing is journaled then.
// Whether a silence ends in the future is decided when it is applied.
func NewSilenceChange(sc SilenceChange) (*SilenceChange, error) {
	sc.parse()
	if sc.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, sc.err)
	}
	return &sc, nil
}

// parse checks the change and parses its matchers unless that was done.
func (sc *SilenceChange) parse() {
	if sc.ms != nil || sc.err != nil {
		return
	}
	if sc.Expire {
		if sc.ID == "" || len(sc.Matchers) > 0 || !sc.StartsAt.IsZero() || !sc.EndsAt.IsZero() {
			sc.err = errors.New("an expiry names a silence by id and nothing else")
		}
		return
	}
	sc.ms, sc.err = parseSilenceMatchers(sc.Matchers)
	switch {
	case sc.err != nil:
	case sc.EndsAt.IsZero():
		sc.err = errors.New("endsAt: required")
	case !sc.StartsAt.IsZero() && !sc.StartsAt.Before(sc.EndsAt):
		sc.err = errors.New("start time must be before end time")
	}
}

// parseSilenceMatchers parses matchers under Alertmanager's rules for
// silences: at least one, valid names and values, and not all of them
// matching the empty string (which would silence everything).
func parseSilenceMatchers(texts []string) ([]*labels.Matcher, error) {
	if len(texts) == 0 {
		return nil, errors.New("matchers: at least one is required")
	}
	ms := make([]*labels.Matcher, len(texts))
	allMatchEmpty := true
	for i, text := range texts {
		m, err := labels.ParseMatcher(text)
		if err != nil {
			return nil, fmt.Errorf("matcher %d (%s): %w", i, text, err)
		}
		if !utf8.ValidString(m.Value) {
			return nil, fmt.Errorf("matcher %d (%s): invalid label value", i, text)
		}
		ms[i] = m
		allMatchEmpty = allMatchEmpty && m.Matches("")
	}
	if allMatchEmpty {
		return nil, errors.New("matchers: at least one must not match the empty string")
	}
	return ms, nil
}

// Silence mutes, from StartsAt until EndsAt, the alerts all of its matchers
// match. A muted alert is still recorded, counted and shown on its incident;
// an incident whose firing alerts are all muted is silenced, and the
// escalation does not page for it.
type Silence struct {
	ID          string            `json:"id"`
	Matchers    []string          `json:"matchers"` // in Alertmanager's syntax, canonical
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
	CreatedBy   string            `json:"createdBy"`
	Comment     string            `json:"comment"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Next        time.Time         `json:"next,omitzero"` // when its timer is due: start, end, or leaving

	ms []*labels.Matcher // parsed Matchers
}

// SilenceState is where a silence is at a given time, as Alertmanager names it.
type SilenceState string

// The states of a silence: the start is inclusive, the end exclusive.
const (
	SilencePending SilenceState = "pending"
	SilenceActive  SilenceState = "active"
	SilenceExpired SilenceState = "expired"
)

func (sil *Silence) stateAt(at time.Time) SilenceState {
	switch {
	case at.Before(sil.StartsAt):
		return SilencePending
	case at.Before(sil.EndsAt):
		return SilenceActive
	}
	return SilenceExpired
}

func (sil *Silence) activeAt(at time.Time) bool { return sil.stateAt(at) == SilenceActive }

// matches reports whether every matcher holds for lbls (a missing label is
// the empty string, as in Alertmanager).
func (sil *Silence) matches(lbls signal.Strings) bool {
	for _, m := range sil.ms {
		if !m.Matches(lbls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// silenceID derives a silence's ID from the sequence of the entry that
// created it, formatted as a UUID (version 8, "custom") as Alertmanager's
// IDs are UUIDs: the same on every replica and every replay.
func silenceID(seq uint64) string {
	return fmt.Sprintf("%08x-%04x-8000-8000-%012x", seq>>48, (seq>>32)&0xffff, seq&0xffffffffffff)
}

// applySilence creates, updates or expires a silence, or says why not.
func (s *State) applySilence(c *change, sc *SilenceChange) error {
	sc.parse() // done already, outside the lock, unless the entry was read from the store
	if sc.err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, sc.err)
	}
	var prev *Silence
	if sc.ID != "" {
		if prev = s.silences.byID[sc.ID]; prev == nil {
			return fmt.Errorf("%w: %q", ErrNoSilence, sc.ID)
		}
	}
	if sc.Expire {
		s.expireSilence(c, prev, sc.By, "expired by "+sc.By)
		return nil
	}
	now := s.now
	if !sc.EndsAt.After(now) {
		return fmt.Errorf("%w: end time must be in the future", ErrInvalid)
	}
	next := &Silence{
		Matchers: make([]string, len(sc.ms)), StartsAt: sc.StartsAt, EndsAt: sc.EndsAt, UpdatedAt: now,
		CreatedBy: sc.CreatedBy, Comment: sc.Comment, Annotations: sc.Annotations, ms: sc.ms,
	}
	for i, m := range sc.ms {
		next.Matchers[i] = m.String()
	}
	if next.StartsAt.IsZero() {
		next.StartsAt = now
	}
	if prev != nil && canUpdate(prev, next, now) {
		was := prev.activeAt(now)
		next.ID = prev.ID
		*prev = *next
		s.scheduleSilence(prev, now)
		s.silenceMoved(c, prev, was, now, sc.By)
		c.res.Created = prev.ID
		return nil
	}
	if next.StartsAt.Before(now) {
		next.StartsAt = now
	}
	next.ID = silenceID(c.seq)
	if prev != nil {
		s.expireSilence(c, prev, sc.By, fmt.Sprintf("replaced by %s by %s", next.ID, sc.By))
	}
	s.silences.put(next)
	s.scheduleSilence(next, now)
	s.silenceMoved(c, next, false, now, sc.By)
	c.res.Created = next.ID
	return nil
}

// canUpdate reports whether prev can become next in place without
// rewriting what it already did, by Alertmanager's rules: the same
// matchers; an active silence keeps its start and does not end in the past;
// a pending one does not start in the past; an expired one stays as it was.
func canUpdate(prev, next *Silence, now time.Time) bool {
	if !slices.Equal(prev.Matchers, next.Matchers) {
		return false
	}
	switch prev.stateAt(now) {
	case SilenceActive:
		return prev.StartsAt.Unix() == next.StartsAt.Unix() && !next.EndsAt.Before(now)
	case SilencePending:
		return !next.StartsAt.Before(now)
	}
	return false
}

// expireSilence ends a silence now; one already expired stays as it is.
func (s *State) expireSilence(c *change, sil *Silence, by, why string) {
	now := s.now
	was := sil.activeAt(now)
	switch sil.stateAt(now) {
	case SilenceExpired:
		return
	case SilencePending:
		sil.StartsAt = now
	}
	sil.EndsAt, sil.UpdatedAt = now, now
	s.scheduleSilence(sil, now)
	s.silenceEvents(c, sil, was, false, now, by, why)
}

// scheduleSilence sets the silence's timer to its next change after now:
// its start, its end, or its leaving after the retention.
func (s *State) scheduleSilence(sil *Silence, now time.Time) {
	sil.Next = time.Time{}
	for _, t := range []time.Time{sil.StartsAt, sil.EndsAt, sil.EndsAt.Add(SilenceRetention)} {
		if t.After(now) {
			sil.Next = t
			break
		}
	}
	s.timers.set(timerSilence, sil.ID, sil.Next)
}

// silenceDue acts on a silence's timer: it started, it ended, or its
// retention is over and it leaves the state.
func (s *State) silenceDue(c *change, id string, at time.Time) {
	sil := s.silences.byID[id]
	if sil == nil {
		return
	}
	if !at.Before(sil.EndsAt.Add(SilenceRetention)) {
		s.silences.drop(id)
		return
	}
	s.silenceMoved(c, sil, sil.activeAt(at.Add(-time.Nanosecond)), at, "")
	s.scheduleSilence(sil, at)
}

// silenceMoved records a silence's start or end on the incidents it
// concerns, when its being active at `at` differs from was.
func (s *State) silenceMoved(c *change, sil *Silence, was bool, at time.Time, by string) {
	is := sil.activeAt(at)
	why := "ended"
	if is {
		why = "started"
	}
	s.silenceEvents(c, sil, was, is, at, by, why)
}

// silenceEvents touches every open incident with a firing alert that sil
// matches, so that its escalation checks again whether it is silenced, and
// adds the change to its timeline; nothing happens when was equals is.
func (s *State) silenceEvents(c *change, sil *Silence, was, is bool, at time.Time, by, why string) {
	if was == is {
		return
	}
	kind, msg := EventUnsilenced, fmt.Sprintf("silence %s %s", sil.ID, why)
	if is {
		kind = EventSilenced
		msg += fmt.Sprintf(": {%s} until %s", strings.Join(sil.Matchers, ","), sil.EndsAt.UTC().Format(time.RFC3339))
		if sil.CreatedBy != "" {
			msg += ", created by " + sil.CreatedBy
		}
		if sil.Comment != "" {
			msg += ": " + truncate(sil.Comment, 200)
		}
	}
	for _, inc := range s.order {
		if !inc.open() || !s.anyFiringMatch(inc, sil) {
			continue
		}
		c.event(inc, Event{At: at, Seq: c.seq, Kind: kind, By: by, Message: msg})
		c.touch(inc)
	}
}

// anyFiringMatch reports whether sil matches one of inc's firing alerts.
func (s *State) anyFiringMatch(inc *Incident, sil *Silence) bool {
	for _, id := range inc.Alerts {
		if a := s.alerts[id]; a != nil && a.Incident == inc.Key && a.Firing && sil.matches(a.Signal.Labels) {
			return true
		}
	}
	return false
}

// silenced reports whether inc is silenced at `at`: it has firing alerts,
// and an active silence matches every one of them. The escalation does not
// page for a silenced incident.
func (s *State) silenced(inc *Incident, at time.Time) bool {
	if len(s.silences.byID) == 0 {
		return false
	}
	firing := 0
	for _, id := range inc.Alerts {
		a := s.alerts[id]
		if a == nil || a.Incident != inc.Key || !a.Firing {
			continue
		}
		if !s.muted(&a.Signal, at) {
			return false
		}
		firing++
	}
	return firing > 0
}

// muted reports whether an active silence matches sig at `at`.
func (s *State) muted(sig *signal.Signal, at time.Time) bool {
	found := false
	s.silences.candidates(sig.Labels, func(sil *Silence) bool {
		found = sil.activeAt(at) && sil.matches(sig.Labels)
		return !found
	})
	return found
}

// silencedBy lists, in ID order, the silences active at `at` that match sig.
func (s *State) silencedBy(sig *signal.Signal, at time.Time) []string {
	var ids []string
	s.silences.candidates(sig.Labels, func(sil *Silence) bool {
		if sil.activeAt(at) && sil.matches(sig.Labels) {
			ids = append(ids, sil.ID)
		}
		return true
	})
	slices.Sort(ids)
	return ids
}

// silenceSet holds the silences by ID, and an index that narrows which of
// them can match a label set: each silence with an equality matcher is
// filed under its first one's label and value, the others are always
// tried. The index is rebuilt whenever a silence comes or goes, under
// Apply's lock, never by the readers (in-place updates keep the matchers).
type silenceSet struct {
	byID  map[string]*Silence
	index *silenceIndex
}

type silenceIndex struct {
	byLabel map[string]map[string][]*Silence
	names   []string // keys of byLabel
	always  []*Silence
}

func (ss *silenceSet) put(sil *Silence) {
	if ss.byID == nil {
		ss.byID = make(map[string]*Silence)
	}
	ss.byID[sil.ID] = sil
	ss.reindex()
}

func (ss *silenceSet) drop(id string) {
	delete(ss.byID, id)
	ss.reindex()
}

// candidates calls fn with each silence that may match lbls, until fn
// returns false.
func (ss *silenceSet) candidates(lbls signal.Strings, fn func(*Silence) bool) {
	ix := ss.index
	if ix == nil {
		return
	}
	for _, sil := range ix.always {
		if !fn(sil) {
			return
		}
	}
	for _, name := range ix.names {
		v, ok := lbls.Lookup(name)
		if !ok {
			continue
		}
		for _, sil := range ix.byLabel[name][v] {
			if !fn(sil) {
				return
			}
		}
	}
}

func (ss *silenceSet) reindex() {
	ix := &silenceIndex{byLabel: make(map[string]map[string][]*Silence)}
	for _, sil := range ss.byID {
		i := slices.IndexFunc(sil.ms, func(m *labels.Matcher) bool { return m.Type == labels.MatchEqual && m.Value != "" })
		if i < 0 {
			ix.always = append(ix.always, sil)
			continue
		}
		m := sil.ms[i]
		if ix.byLabel[m.Name] == nil {
			ix.byLabel[m.Name] = make(map[string][]*Silence)
			ix.names = append(ix.names, m.Name)
		}
		ix.byLabel[m.Name][m.Value] = append(ix.byLabel[m.Name][m.Value], sil)
	}
	ss.index = ix
}

// SilenceView is a copy of a silence for the API, with its state at the
// time asked about.
type SilenceView struct {
	Silence
	State SilenceState `json:"state"`
}

func (sil *Silence) view(at time.Time) SilenceView {
	return SilenceView{Silence: *sil, State: sil.stateAt(at)}
}

// Silences lists the silences whose matchers include every one of filter
// (same name, operator and value, as Alertmanager's filter parameter and
// amtool's silence query select them), in their states at `at`, ordered as
// Alertmanager orders them: active ones ending first, pending ones starting
// first, then expired ones, the latest to end first.
func (s *State) Silences(at time.Time, filter []*labels.Matcher) []SilenceView {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []SilenceView{}
	for _, sil := range s.silences.byID {
		if hasMatchers(sil, filter) {
			out = append(out, sil.view(at))
		}
	}
	order := map[SilenceState]int{SilenceActive: 0, SilencePending: 1, SilenceExpired: 2}
	slices.SortFunc(out, func(a, b SilenceView) int {
		if a.State != b.State {
			return cmp.Compare(order[a.State], order[b.State])
		}
		var by int
		switch a.State {
		case SilenceActive:
			by = a.EndsAt.Compare(b.EndsAt)
		case SilencePending:
			by = a.StartsAt.Compare(b.StartsAt)
		default:
			by = b.EndsAt.Compare(a.EndsAt)
		}
		return cmp.Or(by, cmp.Compare(a.ID, b.ID))
	})
	return out
}

// hasMatchers reports whether sil has every matcher of filter.
func hasMatchers(sil *Silence, filter []*labels.Matcher) bool {
	for _, f := range filter {
		if !slices.ContainsFunc(sil.ms, func(m *labels.Matcher) bool {
			return m.Name == f.Name && m.Type == f.Type && m.Value == f.Value
		}) {
			return false
		}
	}
	return true
}

// SilenceByID returns one silence in its state at `at`.
func (s *State) SilenceByID(id string, at time.Time) (SilenceView, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sil := s.silences.byID[id]
	if sil == nil {
		return SilenceView{}, false
	}
	return sil.view(at), true
}

// captureSilences copies the silences for a snapshot, in ID order. A
// silence's slices and maps are replaced, never changed in place, so a
// shallow copy holds.
func (s *State) captureSilences() []*Silence {
	out := make([]*Silence, 0, len(s.silences.byID))
	for _, id := range slices.Sorted(maps.Keys(s.silences.byID)) {
		cp := *s.silences.byID[id]
		out = append(out, &cp)
	}
	return out
}

// restoreSilences installs a snapshot's silences, parsing their matchers
// again; rebuild schedules their timers.
func (s *State) restoreSilences(list []*Silence) error {
	s.silences = silenceSet{byID: make(map[string]*Silence, len(list))}
	for _, sil := range list {
		ms, err := parseSilenceMatchers(sil.Matchers)
		if err != nil {
			return fmt.Errorf("silence %s: %w", sil.ID, err)
		}
		sil.ms = ms
		s.silences.byID[sil.ID] = sil
	}
	s.silences.reindex()
	return nil
}

// scheduleSilences sets every silence's timer again after the timers were
// cleared (rebuild).
func (s *State) scheduleSilences() {
	for id, sil := range s.silences.byID {
		s.timers.set(timerSilence, id, sil.Next)
	}
}
