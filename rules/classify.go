package rules

import (
	"strconv"
	"strings"

	"github.com/klaxonhq/klaxon/signal"
)

// classify finds the first catalogue service matching sig and its key.
func (s *Set) classify(sig *signal.Signal) Class {
	var lbls signal.Strings
	if sig != nil {
		lbls = sig.Labels
	}
	if sig != nil && IsReport(sig) {
		if e := s.reportService(sig); e != nil {
			return e.class(lbls)
		}
	}
	for _, e := range s.svcs {
		if e.matches(lbls) {
			return e.class(lbls)
		}
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

// class is the class of a signal of catalogue service e: its key is the
// service and the values of its grouping labels.
func (e *svcEntry) class(lbls signal.Strings) Class {
	var b strings.Builder
	b.WriteString("service:")
	b.WriteString(e.svc.Name)
	for _, l := range e.groupBy {
		b.WriteByte('/')
		writePair(&b, l, lbls.Get(l))
	}
	return Class{Service: e.svc, Key: b.String(), Correlation: e.corr}
}

// matches reports whether any of the service's matcher strings matches.
func (e *svcEntry) matches(lbls signal.Strings) bool {
	for i := range e.sets {
		if e.sets[i].Matches(lbls) {
			return true
		}
	}
	return false
}

// labelKey writes label=value pairs for the names present, "" if none is.
func labelKey(lbls signal.Strings, names []string) string {
	n := 0
	for _, l := range names {
		if v := lbls.Get(l); v != "" {
			n += len(l) + len(v) + 2
		}
	}
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(n) // once, unless a value needs quoting
	for _, l := range names {
		v := lbls.Get(l)
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

// matchSignal returns the indexes of the condition matchers sig matches, in
// increasing order.
func (s *Set) matchSignal(sig *signal.Signal) []int {
	if sig == nil {
		return nil
	}
	return s.index.Match(sig.Labels)
}
