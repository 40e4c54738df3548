package rules

import (
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxonhq/klaxon/signal"
)

// classify finds the first catalogue service matching sig and its key.
func (s *Set) classify(sig *signal.Signal) Class {
	var lbls map[string]string
	if sig != nil {
		lbls = sig.Labels
	}
	for _, e := range s.svcs {
		if !e.matches(lbls) {
			continue
		}
		var b strings.Builder
		b.WriteString("service:")
		b.WriteString(e.svc.Name)
		for _, l := range e.groupBy {
			b.WriteByte('/')
			writePair(&b, l, lbls[l])
		}
		return Class{Service: e.svc, Key: b.String(), Correlation: e.corr}
	}
	key := labelKey(lbls, s.groupBy)
	if key == "" {
		key = labelKey(lbls, s.fallbackGroupBy)
	}
	if key == "" {
		key = "ungrouped"
	}
	return Class{Key: key, Correlation: s.corr}
}

// matches reports whether any of the service's matcher strings matches.
func (e *svcEntry) matches(lbls map[string]string) bool {
	for i := range e.sets {
		if e.sets[i].matches(lbls) {
			return true
		}
	}
	return false
}

// labelKey writes label=value pairs for the names present, "" if none is.
func labelKey(lbls map[string]string, names []string) string {
	var b strings.Builder
	for _, l := range names {
		v := lbls[l]
		if v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		writePair(&b, l, v)
	}
	return b.String()
}

// writePair writes label=value, quoting a value that could make keys
// ambiguous.
func writePair(b *strings.Builder, l, v string) {
	b.WriteString(l)
	b.WriteByte('=')
	if strings.ContainsAny(v, ",=/\"\\") || !strconv.CanBackquote(v) {
		b.WriteString(strconv.Quote(v))
		return
	}
	b.WriteString(v)
}

// matchIndex narrows the condition matchers worth trying on a signal: a
// matcher string with an equality matcher is filed under that label and
// value, the others are always tried.
type matchIndex struct {
	byLabel map[string]map[string][]int
	always  []int
}

// newMatchIndex files each matcher string under its first equality matcher.
func newMatchIndex(sets []matcherSet) matchIndex {
	mi := matchIndex{byLabel: make(map[string]map[string][]int)}
	for i := range sets {
		j := slices.IndexFunc(sets[i].ms, func(m *labels.Matcher) bool { return m.Type == labels.MatchEqual })
		if j < 0 {
			mi.always = append(mi.always, i)
			continue
		}
		m := sets[i].ms[j]
		if mi.byLabel[m.Name] == nil {
			mi.byLabel[m.Name] = make(map[string][]int)
		}
		mi.byLabel[m.Name][m.Value] = append(mi.byLabel[m.Name][m.Value], i)
	}
	return mi
}

// matchSignal returns the indexes of the condition matchers sig matches, in
// increasing order.
func (s *Set) matchSignal(sig *signal.Signal) []int {
	if sig == nil {
		return nil
	}
	var out []int
	for _, i := range s.index.always {
		if s.matchers[i].matches(sig.Labels) {
			out = append(out, i)
		}
	}
	for name, byValue := range s.index.byLabel {
		for _, i := range byValue[sig.Labels[name]] {
			if s.matchers[i].matches(sig.Labels) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return out
}
