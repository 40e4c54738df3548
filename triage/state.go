package triage

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

// Status is where an incident is in its lifecycle.
type Status string

// The incident lifecycle: triggered → acknowledged → resolved.
const (
	StatusTriggered    Status = "triggered"
	StatusAcknowledged Status = "acknowledged"
	StatusResolved     Status = "resolved"
)

// Errors an action's result carries; the API maps them to 404, 409 and 400.
var (
	ErrNotFound = errors.New("no such incident")
	ErrConflict = errors.New("conflicts with the incident's state")
	ErrInvalid  = errors.New("invalid action")
)

// Result is what applying one entry did, handed back to whoever appended it.
type Result struct {
	Accepted   int   // signals that changed state
	Duplicates int   // signals identical to what was already known
	Err        error // why an action or rule change was refused
	// Lifecycle changes the entry caused, for metrics.
	Opened       int
	Acknowledged []time.Duration // time from opening to acknowledgement
	Resolved     []time.Duration // time from opening to resolution
	// Effects: intents decided, and intents a delivery settled.
	Intents   int
	Delivered []DeliveryOutcome
	FirstPage []time.Duration // time from opening to an incident's first delivered page
	Fallbacks int             // escalations spent, that paged their fallback receiver
	Created   string          // the ID an entry gave what it created (a schedule override, a silence)
	// Events are what the entry changed in incidents' lives (not per-alert
	// events), for logs; in timeline order.
	Events []IncidentEvent
}

// IncidentEvent is a timeline event with the incident it happened to.
type IncidentEvent struct {
	Incident string
	Severity string // the incident's severity after the event
	Event
}

// Alert is the latest known state of one signal identity. Every held alert
// has one, so it is kept small: times as stamps, matcher hits shared, and
// a report's pool beside it in State.poolKeys.
type Alert struct {
	Signal    signal.Signal `json:"signal"`
	Hash      uint64        `json:"hash"`     // content hash, for duplicate detection
	Incident  string        `json:"incident"` // key of the incident it belongs to, "" if none
	Firing    bool          `json:"firing"`   // effective status: firing and not past endsAt
	expiryPos int32         // 1 + its index in State.expiries, 0 when not there (beside Firing: no padding)
	FirstSeen stamp         `json:"firstSeen"`
	LastSeen  stamp         `json:"lastSeen"`
	Joined    stamp         `json:"joined,omitzero"` // when this occurrence joined Incident
	hits      *[]int        // matcher indexes it matches, shared (hitSets); nil for none (derived from rules)
}

// State is the triage state machine. Apply mutates it; the query methods
// read it concurrently.
type State struct {
	mu sync.RWMutex

	rules     *rules.Set
	ruleFiles []rules.File
	// decoding is rules for the decoders that run ahead of Apply, which
	// must not read the field Apply writes.
	decoding   atomic.Pointer[rules.Set]
	dependents map[string][]string // service -> services that depend on it

	seq       uint64
	now       time.Time
	nextInc   uint64
	openCount int // incidents not resolved

	alerts     map[string]*Alert
	incidents  map[string]*Incident
	order      []*Incident          // by number, oldest first
	openByKey  map[string]*Incident // grouping key -> open incident
	openBySvc  map[string]*Incident // catalogue service -> newest open incident holding it
	timers     timerHeap
	expiries   expiryHeap // firing alerts with an endsAt, in expiry order
	shared     sharedSets // annotation sets alerts share
	sharedHits hitSets    // matcher index lists alerts share
	links      sharedText // links alerts share
	// touchedList and touchedBy hold the incidents the entry being
	// applied touched, kept empty for the next entry (change.touch).
	touchedList []*Incident
	touchedBy   map[*Incident]bool
	poolKeys    map[*Alert]string     // the pool each pooled report waits in (derived from pools)
	pools       map[string]*pool      // reports no open incident took, by grouping key
	heartbeats  map[string]*heartbeat // dead man's switches, by fingerprint
	intents     map[string]*Intent    // pending effects, by ID
	dueIntents  intentHeap            // the same, in due order
	settled     map[string]bool       // IDs of intents settled or cancelled (derived from incidents' Settled)
	dueChat     intentHeap            // the chat intents whose room exists, in due order (chat.go)

	chat         *ChatSettings     // chat-room settings; nil when chat rooms are off (chat.go)
	chatChannels map[string]string // chat channel ID -> incident key (derived from incidents' Chat)
	held         held              // alerts held, counted for admission control (admission.go)

	oncallFiles []oncall.File     // the on-call files in force (people, schedules, policies)
	oncall      *oncall.Config    // compiled from them; nil when none are configured
	overrides   []oncall.Override // schedule overrides made through the API

	silences silenceSet // by ID, until their retention ends (silence.go)

	maintenances map[string]*Maintenance // by ID, until their retention ends (maintenance.go)

	// archived holds what evictions moved out since the journal last took
	// it (TakeArchive). It is not part of the snapshot: the journal stores
	// it before it snapshots, and replay archives it again after a crash.
	archived []journal.ArchiveItem
}

// New returns an empty state using rs (rules.Default() when nil).
func New(rs *rules.Set) *State {
	if rs == nil {
		rs = rules.Default()
	}
	s := &State{
		alerts:       make(map[string]*Alert),
		incidents:    make(map[string]*Incident),
		openByKey:    make(map[string]*Incident),
		openBySvc:    make(map[string]*Incident),
		intents:      make(map[string]*Intent),
		pools:        make(map[string]*pool),
		poolKeys:     make(map[*Alert]string),
		heartbeats:   make(map[string]*heartbeat),
		dueIntents:   intentHeap{pos: make(map[string]int)},
		dueChat:      intentHeap{pos: make(map[string]int)},
		chatChannels: make(map[string]string),
		settled:      make(map[string]bool),
		nextInc:      1,
	}
	s.timers.init()
	s.setRules(rs, nil)
	return s
}

var _ journal.Sizer = (*State)(nil)

// Size is the number of alerts held (journal.Sizer). Called on the
// goroutine that applies.
func (s *State) Size() int {
	return len(s.alerts)
}

// Reserve makes room for n alerts in all (journal.Sizer), so that recovery
// fills the alerts map instead of growing it, which for a million alerts
// costs a second and as much garbage again. A map already about that large
// is kept.
func (s *State) Reserve(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= len(s.alerts)+len(s.alerts)/8 {
		return
	}
	m := make(map[string]*Alert, n)
	maps.Copy(m, s.alerts)
	s.alerts = m
}

// LastSeq is the sequence number of the last applied entry.
func (s *State) LastSeq() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seq
}

// Rules returns the rule set in force.
func (s *State) Rules() *rules.Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rules
}

// RuleFiles returns the rule files in force (nil for the defaults).
func (s *State) RuleFiles() []rules.File {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ruleFiles
}

// OnCallFiles returns the on-call files in force (nil if none).
func (s *State) OnCallFiles() []oncall.File {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.oncallFiles
}

// OnCall returns the on-call configuration in force and the schedule
// overrides, for lookups (nil if none is configured). Callers must not
// modify them.
func (s *State) OnCall() (*oncall.Config, []oncall.Override) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.oncall, slices.Clone(s.overrides)
}

// NextDue is the earliest time at which a timer is due, if any: the owner
// appends a Tick entry then.
func (s *State) NextDue() (time.Time, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	at, ok := s.timers.peek()
	if exp, due := s.expiries.peek(); due && (!ok || exp.Before(at)) {
		return exp, true
	}
	return at, ok
}

// matcherHits is the indexes of the matchers a matches.
func (a *Alert) matcherHits() []int {
	if a.hits == nil {
		return nil
	}
	return *a.hits
}

// matchHits is what an alert of sig holds as its hits.
func (s *State) matchHits(sig *signal.Signal) *[]int {
	return s.sharedHits.share(s.rules.MatchSignal(sig))
}

func (s *State) setRules(rs *rules.Set, files []rules.File) {
	s.rules = rs
	s.ruleFiles = files
	s.decoding.Store(rs)
	s.dependents = make(map[string][]string)
	for _, svc := range rs.Services() {
		for _, up := range rs.Upstreams(svc.Name) {
			s.dependents[up] = append(s.dependents[up], svc.Name)
		}
	}
}
