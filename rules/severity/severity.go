// Package severity parses, analyses and evaluates the conditions of severity
// rules: which level an incident deserves, and why.
package severity

import (
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/rules/internal/yamlx"
)

// Level is a severity level: 1 is the most severe (SEV1). 0 means none.
type Level int

// String gives the level's name, "SEV1" for 1.
func (l Level) String() string {
	if l <= 0 {
		return "none"
	}
	return "SEV" + strconv.Itoa(int(l))
}

// Counter names an event counter triage keeps per incident in time buckets.
type Counter string

// The counters available to windowed conditions.
const (
	CounterAlerts   Counter = "alerts"   // alert signals received
	CounterTickets  Counter = "tickets"  // ticket signals received
	CounterMentions Counter = "mentions" // mention signals received
	CounterReach    Counter = "reach"    // summed reach of mentions
)

// Facts is the incremental summary of one incident that severity rules read.
type Facts struct {
	Now          time.Time
	Started      time.Time
	Services     []string // catalogue services in the incident
	MatcherHits  []int    // per matcher index (see MatchSignal): firing signals that match
	FiringAlerts int
	Instances    int // distinct instance label values among firing alerts
	Customers    int // distinct customers seen
	// Count returns the sum of counter c over the window (Now-d, Now].
	Count func(c Counter, d time.Duration) int64
}

// Verdict is the severity the rules assign to an incident, and why.
type Verdict struct {
	Level       Level
	Rule        string // "" when no rule matched and the default applied
	Explanation string
	// Recheck is the earliest later time at which the verdict could change
	// with no new signal (a duration condition or a window); zero if never.
	Recheck time.Time
}

// Catalogue gives conditions what the rest of the rule set defines: the
// table of matcher strings and the flags.
type Catalogue interface {
	// Matcher returns the index and canonical text of a matcher string,
	// adding it to the table; it reports a bad one through s.
	Matcher(s yamlx.Scope, text string, line int) (int, string, bool)
	// Flag returns the matcher indexes that raise the named flag.
	Flag(name string) ([]int, bool)
	// FlagNames lists the defined flags, for hints.
	FlagNames() []string
}

// Service is what service conditions read of a catalogue entry.
type Service struct {
	Name           string
	CustomerFacing bool
	Tier           int
}

// Rule is a compiled severity rule.
type Rule struct {
	Name        string
	Description string
	Level       Level
	When        *Cond // nil: always holds
	File        string
	Line        int
	timeLeaves  []*Cond // duration and windowed count leaves, for Recheck
}

// Condition is the canonical text of the rule's condition, "" for a
// catch-all.
func (r *Rule) Condition() string {
	if r.When == nil {
		return ""
	}
	return r.When.text
}

// slotKey identifies a windowed count.
type slotKey struct {
	m      measure
	window time.Duration
}

// Table is the ordered severity rules of a rule set, with the catalogue
// facts that evaluating them needs. Once built it is immutable and safe for
// concurrent use.
type Table struct {
	services       []Service
	index          map[string]int // service name to catalogue position
	customersTotal int64
	defaultLevel   Level
	// defaultExplanation is the verdict's explanation when no rule matches,
	// built once rather than at every evaluation.
	defaultExplanation string
	rules              []*Rule
	slots              map[slotKey]int // cache slots of windowed counts
	maxWindow          time.Duration
}

// NewTable starts an empty table for a catalogue (in file order), the
// configured number of customers (0 if unset) and the default level.
func NewTable(services []Service, customersTotal int64, defaultLevel Level) *Table {
	t := &Table{services: services, index: make(map[string]int, len(services)),
		customersTotal: customersTotal, defaultLevel: defaultLevel, slots: make(map[slotKey]int),
		defaultExplanation: defaultLevel.String() + " by default: no severity rule matched"}
	for i, sv := range services {
		t.index[sv.Name] = i
	}
	return t
}

// Parse compiles the condition n of a rule; nil means it had errors, already
// reported through s.
func (t *Table) Parse(s yamlx.Scope, cat Catalogue, n *yaml.Node) *Cond {
	return condParser{Scope: s, cat: cat, t: t}.parse(n, 1)
}

// Add appends a rule whose condition parsed cleanly, reporting conditions
// that never or always hold and rules that an earlier rule pre-empts.
func (t *Table) Add(s yamlx.Scope, r *Rule) {
	if r.When != nil {
		analyze(s, r.When)
		r.When.walk(func(x *Cond) {
			if x.kind != kCompare {
				return
			}
			if x.m.windowed() {
				k := slotKey{x.m, x.window}
				slot, ok := t.slots[k]
				if !ok {
					slot = len(t.slots)
					t.slots[k] = slot
				}
				x.slot = slot
				t.maxWindow = max(t.maxWindow, x.window)
			}
			if x.m.windowed() || x.m == mDuration {
				r.timeLeaves = append(r.timeLeaves, x)
			}
		})
	}
	t.checkShadowed(s, r)
	t.rules = append(t.rules, r)
}

// Rules returns the rules in evaluation order. Callers must not modify them.
func (t *Table) Rules() []*Rule { return t.rules }

// MaxWindow is the longest window any condition counts over.
func (t *Table) MaxWindow() time.Duration { return t.maxWindow }
