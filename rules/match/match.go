// Package match is the label matching of rule files: matcher strings in
// Alertmanager's syntax, compiled once, and an index that narrows which of
// many matcher strings are worth trying on a signal.
package match

import (
	"errors"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxonhq/klaxon/signal"
)

// ErrEmpty is returned for a matcher string with no matchers ("{}"), which
// would match every signal.
var ErrEmpty = errors.New("empty matcher")

// Set is one matcher string, such as {service=~"api.*",env="prod"}: all of
// its matchers must hold. The zero Set matches everything.
type Set struct {
	text string // canonical form, e.g. {alertname="X",env="prod"}
	ms   []*labels.Matcher
}

// Parse compiles a matcher string; equal strings in any order or spacing
// give the same canonical form (String).
func Parse(text string) (Set, error) {
	trimmed := strings.TrimSpace(text)
	if strings.HasPrefix(trimmed, "{") != strings.HasSuffix(trimmed, "}") {
		return Set{}, errors.New("unbalanced braces")
	}
	ms, err := labels.ParseMatchers(trimmed)
	if err != nil {
		return Set{}, err
	}
	if len(ms) == 0 {
		return Set{}, ErrEmpty
	}
	sorted := slices.Clone(ms)
	slices.SortStableFunc(sorted, func(a, b *labels.Matcher) int {
		return strings.Compare(a.String(), b.String())
	})
	sorted = slices.CompactFunc(sorted, func(a, b *labels.Matcher) bool { return a.String() == b.String() })
	return Set{text: labels.Matchers(sorted).String(), ms: sorted}, nil
}

// String returns the canonical form of the matcher string.
func (m *Set) String() string { return m.text }

// Matches reports whether every matcher holds for lbls (a missing label is
// the empty string, as in Alertmanager).
func (m *Set) Matches(lbls signal.Strings) bool {
	for _, x := range m.ms {
		if !x.Matches(lbls.Get(x.Name)) {
			return false
		}
	}
	return true
}

// Index narrows the matcher strings worth trying on a signal: a matcher
// string with an equality matcher to a non-empty value is filed under that
// label and value, the others are always tried.
type Index struct {
	sets    []Set
	byLabel map[string]map[string][]int
	always  []int
}

// NewIndex files each of sets under its first equality matcher to a
// non-empty value.
func NewIndex(sets []Set) Index {
	ix := Index{sets: sets, byLabel: make(map[string]map[string][]int)}
	for i := range sets {
		j := slices.IndexFunc(sets[i].ms, func(m *labels.Matcher) bool { return m.Type == labels.MatchEqual && m.Value != "" })
		if j < 0 {
			ix.always = append(ix.always, i)
			continue
		}
		m := sets[i].ms[j]
		if ix.byLabel[m.Name] == nil {
			ix.byLabel[m.Name] = make(map[string][]int)
		}
		ix.byLabel[m.Name][m.Value] = append(ix.byLabel[m.Name][m.Value], i)
	}
	return ix
}

// Match returns the indexes of the matcher strings lbls satisfies, in
// increasing order.
func (ix *Index) Match(lbls signal.Strings) []int {
	var out []int
	for _, i := range ix.always {
		if ix.sets[i].Matches(lbls) {
			out = append(out, i)
		}
	}
	for name, value := range lbls.All() {
		for _, i := range ix.byLabel[name][value] {
			if ix.sets[i].Matches(lbls) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return out
}
