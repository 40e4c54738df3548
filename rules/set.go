package rules

import (
	"slices"
	"strings"

	"github.com/klaxonhq/klaxon/rules/match"
)

// pos locates a definition in the rule files.
type pos struct {
	file string
	line int
}

// svcEntry is a catalogue service with its compiled matchers and settings.
type svcEntry struct {
	svc       *Service
	idx       int // position in the catalogue
	pos       pos
	sets      []match.Set
	groupBy   []string
	corr      Correlation
	upstreams []string
}

// flagDef is a named set of matcher indexes.
type flagDef struct {
	name string
	pos  pos
	idx  []int
}

// LevelDef is a defined severity level with its written definition.
type LevelDef struct {
	Level       Level
	Name        string
	Description string
}

// RuleInfo describes one compiled severity rule, for listings and checks.
type RuleInfo struct {
	Name        string
	Level       Level
	Description string
	Condition   string // canonical text of the condition, "" for a catch-all
	File        string
	Line        int
}

// FlagInfo describes one flag: its name and the matchers that raise it.
type FlagInfo struct {
	Name     string
	Matchers []string
}

// Services returns the catalogue in file order.
func (s *Set) Services() []*Service { return slices.Clone(s.services) }

// Levels returns the defined severity levels, most severe first.
func (s *Set) Levels() []LevelDef { return slices.Clone(s.levels) }

// DefaultLevel is the level given when no severity rule matches.
func (s *Set) DefaultLevel() Level { return s.defaultLevel }

// Level turns a level name such as "SEV2" (any case) into a Level.
func (s *Set) Level(name string) (Level, bool) {
	for _, l := range s.levels {
		if strings.EqualFold(l.Name, strings.TrimSpace(name)) {
			return l.Level, true
		}
	}
	return 0, false
}

// Rules describes the severity rules in evaluation order.
func (s *Set) Rules() []RuleInfo {
	rules := s.severity.Rules()
	out := make([]RuleInfo, len(rules))
	for i, r := range rules {
		out[i] = RuleInfo{Name: r.Name, Level: r.Level, Description: r.Description,
			Condition: r.Condition(), File: r.File, Line: r.Line}
	}
	return out
}

// FlagDefs describes the defined flags in file order.
func (s *Set) FlagDefs() []FlagInfo {
	out := make([]FlagInfo, len(s.flags))
	for i, f := range s.flags {
		out[i].Name = f.name
		for _, x := range f.idx {
			out[i].Matchers = append(out[i].Matchers, s.matchers[x].String())
		}
	}
	return out
}

// Flags returns the names of the flags raised for an incident: those with a
// firing signal that matches one of the flag's matchers.
func (s *Set) Flags(f *Facts) []string {
	var out []string
	for i := range s.flags {
		if f != nil && s.flagRaised(&s.flags[i], f.MatcherHits) {
			out = append(out, s.flags[i].name)
		}
	}
	return out
}

func (s *Set) flagRaised(fl *flagDef, hits []int) bool {
	for _, x := range fl.idx {
		if x < len(hits) && hits[x] > 0 {
			return true
		}
	}
	return false
}

// Matcher returns the canonical text of matcher condition i, "" if there is
// none.
func (s *Set) Matcher(i int) string {
	if i < 0 || i >= len(s.matchers) {
		return ""
	}
	return s.matchers[i].String()
}

// CustomersTotal is the configured number of customers, 0 if unset.
func (s *Set) CustomersTotal() int64 { return s.customersTotal }
