// Package rules loads, validates and evaluates the SRE-written rule files:
// the service catalogue, correlation, severity rules and severity policies.
//
// The catalogue, correlation and policies live here; severity conditions are
// in package severity, calendars in calendar, matcher strings in match, and
// the YAML decoding they share in internal/yamlx.
//
// CONTRACT FILE: the exported names below are what triage and cmd use.
package rules

import (
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/rules/match"
	"github.com/klaxonhq/klaxon/rules/severity"
	"github.com/klaxonhq/klaxon/signal"
)

// Level is a severity level: 1 is the most severe (SEV1). 0 means none.
type Level = severity.Level

// File is one rule file's name (as given, for error messages) and content.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// Service is one entry of the service catalogue.
type Service struct {
	Name             string
	DisplayName      string // the only name the external status page may use
	CustomerFacing   bool
	Tier             int
	Component        string
	Team             string
	EscalationPolicy string
	DependsOn        []string
	Keywords         []string
}

// Correlation says how signals are grouped into incidents.
type Correlation struct {
	Window      time.Duration // a signal joins an incident whose last signal is at most this old
	QuietPeriod time.Duration // an incident resolves this long after its last alert resolved
	MaxServices int           // cap on services one incident absorbs through dependencies
	// ReopenWithin, if set, reopens a resolved incident when one of its
	// alerts fires again this soon after it resolved, instead of opening a
	// new one (default 0: a re-fire after resolution opens a new incident).
	ReopenWithin time.Duration
}

// Class is what the rules say about one signal: its service and grouping key.
type Class struct {
	Service     *Service // nil when no catalogue entry matches
	Key         string   // incidents are grouped by this key
	Correlation Correlation
}

// Counter names an event counter triage keeps per incident in time buckets.
type Counter = severity.Counter

// The counters available to windowed conditions.
const (
	CounterAlerts   = severity.CounterAlerts   // alert signals received
	CounterTickets  = severity.CounterTickets  // ticket signals received
	CounterMentions = severity.CounterMentions // mention signals received
	CounterReach    = severity.CounterReach    // summed reach of mentions
)

// Facts is the incremental summary of one incident that severity rules read.
type Facts = severity.Facts

// Verdict is the severity the rules assign to an incident, and why.
type Verdict = severity.Verdict

// Set is a compiled, validated rule set. It is immutable and safe for
// concurrent use.
type Set struct {
	svcs            []*svcEntry
	services        []*Service
	byName          map[string]*svcEntry
	groupBy         []string
	fallbackGroupBy []string
	corr            Correlation
	levels          []LevelDef
	defaultLevel    Level
	allowDowngrade  bool
	customersTotal  int64
	matchers        []match.Set
	index           match.Index
	keywords        keywordIndex
	flags           []flagDef
	severity        *severity.Table
	policies        []Policy
}

// Default is the rule set used when no rule files are configured.
func Default() *Set { return defaultSet() }

// Load reads the files matched by globs (relative paths are relative to dir).
// The files come sorted by name; a glob that matches nothing is not an error.
func Load(dir string, globs []string) ([]File, error) { return load(dir, globs) }

// Compile parses and validates rule files. Every error names file:line.
// The files are merged in the order given; on failure the error lists every
// problem found, as *Error values joined with errors.Join and sorted by file
// and line.
func Compile(files []File) (*Set, error) { return compile(files) }

// Classify finds the signal's service and grouping key.
func (s *Set) Classify(sig *signal.Signal) Class { return s.classify(sig) }

// Service returns the catalogue entry by name, or nil. Callers must not
// modify it.
func (s *Set) Service(name string) *Service {
	if e := s.byName[name]; e != nil {
		return e.svc
	}
	return nil
}

// Upstreams returns the services name depends on, transitively.
func (s *Set) Upstreams(name string) []string {
	if e := s.byName[name]; e != nil {
		return slices.Clone(e.upstreams)
	}
	return nil
}

// NumMatchers is the number of label-matcher conditions in the set.
func (s *Set) NumMatchers() int { return len(s.matchers) }

// MatchSignal returns the indexes of the matcher conditions sig matches.
func (s *Set) MatchSignal(sig *signal.Signal) []int { return s.matchSignal(sig) }

// MaxWindow is the longest window any condition counts over.
func (s *Set) MaxWindow() time.Duration { return s.severity.MaxWindow() }

// Evaluate assigns a severity to an incident from its facts.
func (s *Set) Evaluate(f *Facts) Verdict { return s.severity.Evaluate(f) }

// AllowDowngrade reports whether the rules may lower a severity by themselves.
func (s *Set) AllowDowngrade() bool { return s.allowDowngrade }
