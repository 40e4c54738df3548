package triage

import (
	"cmp"
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/klaxonhq/klaxon/rules"
)

// Incident is a group of correlated signals that needs people's attention.
type Incident struct {
	Key       string   `json:"key"`
	Number    uint64   `json:"number"`
	Title     string   `json:"title"`
	Service   string   `json:"service"`         // the service it was opened for ("" if none)
	Services  []string `json:"services"`        // every catalogue service it absorbed
	GroupKeys []string `json:"groupKeys"`       // every grouping key it absorbed, first one first
	Cause     string   `json:"cause,omitempty"` // upstream service blamed by dependency correlation

	Correlation rules.Correlation `json:"correlation"` // the settings it was opened under

	Status   Status      `json:"status"`
	Severity rules.Level `json:"severity"`
	Rule     string      `json:"rule"`
	Why      string      `json:"explanation"`
	Override *Override   `json:"override,omitempty"`
	// Escalation is where its paging stands; nil until it pages.
	Escalation *Escalation `json:"escalation,omitempty"`
	// FirstPaged is when its first page was delivered, and PagesSent how
	// many were (format 7; incidents of earlier formats count from then).
	FirstPaged time.Time `json:"firstPaged,omitzero"`
	PagesSent  int       `json:"pagesSent,omitempty"`

	OpenedAt       time.Time `json:"openedAt"`
	StartedAt      time.Time `json:"startedAt"` // earliest signal start, not first received
	AcknowledgedAt time.Time `json:"acknowledgedAt,omitzero"`
	AcknowledgedBy string    `json:"acknowledgedBy,omitempty"`
	ResolvedAt     time.Time `json:"resolvedAt,omitzero"`
	ResolvedBy     string    `json:"resolvedBy,omitempty"`
	LastSignalAt   time.Time `json:"lastSignalAt"`
	QuietSince     time.Time `json:"quietSince,omitzero"` // when its last alert resolved
	Recheck        time.Time `json:"recheck,omitzero"`    // when rules want another look

	Alerts   []string    `json:"alerts"` // signal IDs, in order of joining
	Timeline []heldEvent `json:"timeline"`
	// AlertEvents counts per-alert timeline events; past maxAlertEvents a
	// storm's alerts are counted here instead of listed one by one.
	AlertEvents int `json:"alertEvents"`
	tally
	// Settled lists the IDs of its intents that were delivered, given up or
	// cancelled: the notification log, which keeps a decision from being
	// carried out twice.
	Settled []string `json:"settled,omitempty"`
	// Updates are its updates for each audience, oldest first (updates.go).
	Updates []Update `json:"updates,omitempty"`
	// Responders are the people paged for it, first paged first; Chat is
	// its chat room, if it has one (chat.go).
	Responders []string  `json:"responders,omitempty"`
	Chat       *ChatRoom `json:"chat,omitempty"`
	// Roles maps each held role to its holder; RoleHistory lists every
	// term, and RoleReminders when each unheld required role is next
	// reminded about (roles.go).
	Roles         map[string]string    `json:"roles,omitempty"`
	RoleHistory   []RoleTerm           `json:"roleHistory,omitempty"`
	RoleReminders map[string]time.Time `json:"roleReminders,omitempty"`
	// HumanEntries are what people wrote on its timeline, in the order
	// posted (timeline.go).
	HumanEntries []HumanEntry `json:"humanEntries,omitempty"`

	// Derived from alerts and rules; rebuilt on restore and rule changes.
	firing      int
	instances   map[uint64]int32 // firing alerts per instance label value, by its hash (instanceKey)
	matcherHits []int
}

// Override is a human's severity decision, which rules do not overrule.
type Override struct {
	Level  rules.Level `json:"level"`
	By     string      `json:"by"`
	Reason string      `json:"reason"`
	At     time.Time   `json:"at"`
}

// EventKind classifies timeline events.
type EventKind string

// The timeline's event kinds.
const (
	EventOpened        EventKind = "opened"
	EventCorrelated    EventKind = "correlated"
	EventAlertFiring   EventKind = "alert_firing"
	EventAlertResolved EventKind = "alert_resolved"
	EventSeverity      EventKind = "severity"
	EventAcknowledged  EventKind = "acknowledged"
	EventQuiet         EventKind = "quiet"
	EventResolved      EventKind = "resolved"
	EventOverride      EventKind = "severity_override"
	EventPaged         EventKind = "paged"
	EventPageFailed    EventKind = "page_failed"
	EventEscalation    EventKind = "escalation"
	EventFollowedUp    EventKind = "followed_up" // one of its alerts fired again after it was resolved
	EventReopened      EventKind = "reopened"
	EventReport        EventKind = "report" // a ticket or mention joined
)

// Event is one timeline entry: what changed, when, why, and which journal
// entry caused it.
type Event struct {
	At      time.Time `json:"at"`
	Seq     uint64    `json:"seq"`
	Kind    EventKind `json:"kind"`
	Message string    `json:"message"`
	By      string    `json:"by,omitempty"`
}

// heldEvent is an Event as an incident holds it: in 64 bytes rather than
// 80, with the same JSON.
type heldEvent struct {
	At      stamp     `json:"at"`
	Seq     uint64    `json:"seq"`
	Kind    EventKind `json:"kind"`
	Message string    `json:"message"`
	By      string    `json:"by,omitempty"`
}

// event is e as an Event.
func (e *heldEvent) event() Event {
	return Event{At: e.At.Time(), Seq: e.Seq, Kind: e.Kind, Message: e.Message, By: e.By}
}

// bucket counts events of one second.
type bucket struct {
	Unix int64    `json:"t"`
	N    [4]int64 `json:"n"`
}

var counterIndex = map[rules.Counter]int{
	rules.CounterAlerts:   0,
	rules.CounterTickets:  1,
	rules.CounterMentions: 2,
	rules.CounterReach:    3,
}

func (inc *Incident) open() bool { return inc.Status != StatusResolved }

// Retention is how long a resolved incident stays in the live state, with
// the records of its alerts (for its detail page and to recognise late
// deliveries). Then it moves to the archive on disk, where the API still
// reads it, so memory and snapshots follow what is active, not all that
// ever was.
const Retention = 7 * 24 * time.Hour

func (inc *Incident) addEvent(e Event) {
	inc.Timeline = appendHeld(inc.Timeline, heldEvent{At: stampOf(e.At), Seq: e.Seq, Kind: e.Kind, Message: e.Message, By: e.By})
}

// appendHeld appends e to s, which lives as long as its incident: a full s
// grows by a quarter rather than doubling, since its spare room is held
// as long as it is, not briefly.
func appendHeld[T any](s []T, e T) []T {
	if len(s) == cap(s) {
		s = append(slices.Grow([]T(nil), len(s)+len(s)/4+1), s...)
	}
	return append(s, e)
}

// maxAlertEvents bounds how many per-alert events (firing, resolved) one
// incident's timeline lists: a storm of 5,000 alerts is summarised, not
// listed, so that memory and snapshots stay proportional to what people read.
const maxAlertEvents = 50

// addAlertEvent records a per-alert event, or only counts it past the
// bound; the message is only built when it is recorded.
func (inc *Incident) addAlertEvent(e Event, message func() string) {
	inc.AlertEvents++
	if inc.AlertEvents <= maxAlertEvents {
		e.Message = message()
		inc.addEvent(e)
	}
}

// tally counts events (alerts, tickets, mentions, reach) in per-second
// buckets kept for the longest window the rules count over, and in all.
type tally struct {
	Counts []bucket `json:"counts"` // per-second event counters, oldest first
	Totals [4]int64 `json:"totals,omitzero"`
	// Customers are the distinct customers its signals named.
	Customers map[string]struct{} `json:"customers,omitempty"`
}

// count adds n (negative to take back) to counter c at time at, in the
// bucket of that second (counts usually arrive in time order; a moved
// signal's may not), dropping buckets older than keep.
func (t *tally) count(c rules.Counter, n int64, at time.Time, keep time.Duration) {
	sec := at.Unix()
	i, found := slices.BinarySearchFunc(t.Counts, sec, func(b bucket, sec int64) int { return cmp.Compare(b.Unix, sec) })
	if !found {
		t.Counts = slices.Insert(t.Counts, i, bucket{Unix: sec})
	}
	t.Counts[i].N[counterIndex[c]] += n
	t.Totals[counterIndex[c]] += n
	horizon := at.Add(-keep).Unix()
	if last := t.Counts[len(t.Counts)-1].Unix; last > sec {
		horizon = last - int64(keep/time.Second)
	}
	drop := 0
	for drop < len(t.Counts)-1 && t.Counts[drop].Unix <= horizon {
		drop++
	}
	if drop > 0 {
		t.Counts = append(t.Counts[:0], t.Counts[drop:]...)
	}
}

// sum is counter c over (now-d, now].
func (t *tally) sum(c rules.Counter, now time.Time, d time.Duration) int64 {
	from := now.Add(-d).Unix()
	var total int64
	for i := len(t.Counts) - 1; i >= 0 && t.Counts[i].Unix > from; i-- {
		total += t.Counts[i].N[counterIndex[c]]
	}
	return total
}

// customer notes a customer a signal named.
func (t *tally) customer(name string) {
	if name == "" {
		return
	}
	if t.Customers == nil {
		t.Customers = make(map[string]struct{})
	}
	t.Customers[name] = struct{}{}
}

func (inc *Incident) hasService(name string) bool {
	for _, s := range inc.Services {
		if s == name {
			return true
		}
	}
	return false
}

// derive resets the statistics kept for the rules; alerts are re-added.
// An open incident's instances map is made the size of the alerts that
// joined, which it holds at most: restoring a million alerts of distinct
// instances spent 0.4 s growing it table by table. A resolved incident's
// stays empty.
func (inc *Incident) derive(rs *rules.Set) {
	inc.firing = 0
	size := 0
	if inc.open() {
		size = len(inc.Alerts)
	}
	inc.instances = make(map[uint64]int32, size)
	inc.matcherHits = make([]int, rs.NumMatchers())
}

// addAlert adds (d=1) or removes (d=-1) a firing alert from the statistics.
func (inc *Incident) addAlert(a *Alert, d int) {
	inc.firing += d
	for _, i := range a.matcherHits() {
		inc.matcherHits[i] += d
	}
	if in := a.Signal.Labels.Get("instance"); in != "" {
		k := instanceKey(in)
		if d > 0 {
			inc.instances[k]++ // one lookup, not two
		} else if n := inc.instances[k] + int32(d); n > 0 {
			inc.instances[k] = n
		} else {
			delete(inc.instances, k)
		}
	}
}

// instanceKey is the key an instance label value is counted under: its
// 64-bit xxhash, as Alertmanager tells alerts apart by a 64-bit hash of
// their labels. Fixed keys keep the count the same on every host, and
// unlike strings they hold no pointer for the collector to follow: a
// million alerts' instances cost half the memory and no marking. xxhash is
// not made to resist crafted collisions: whoever may send alerts could make
// two instances count as one, as they could leave one out.
func instanceKey(value string) uint64 { return xxhash.Sum64String(value) }

// facts summarises the incident for the severity rules.
func (inc *Incident) facts(now time.Time) rules.Facts {
	return rules.Facts{
		Now:          now,
		Started:      inc.StartedAt,
		Services:     inc.Services,
		MatcherHits:  inc.matcherHits,
		FiringAlerts: inc.firing,
		Instances:    len(inc.instances),
		Customers:    len(inc.Customers),
		Count:        func(c rules.Counter, d time.Duration) int64 { return inc.sum(c, now, d) },
	}
}
