package severity

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Evaluate runs the rules in order; the first that holds gives the verdict.
func (t *Table) Evaluate(f *Facts) Verdict {
	if f == nil {
		f = &Facts{}
	}
	var buf [32]cacheEntry
	var sbuf [8]int32
	e := evaluator{t: t, f: f, cache: buf[:0], svcIdx: sbuf[:0]}
	if len(t.slots) <= len(buf) {
		e.cache = buf[:len(t.slots)]
	} else {
		e.cache = make([]cacheEntry, len(t.slots))
	}
	if len(f.Services) > len(sbuf) {
		e.svcIdx = make([]int32, 0, len(f.Services))
	}
	for _, name := range f.Services {
		x := int32(-1)
		if i, ok := t.index[name]; ok {
			x = int32(i)
		}
		e.svcIdx = append(e.svcIdx, x)
	}
	win := -1
	for i, r := range t.rules {
		if r.When == nil || e.eval(r.When) {
			win = i
			break
		}
	}
	var v Verdict
	relevant := t.rules
	if win < 0 {
		v.Level = t.defaultLevel
		v.Explanation = t.defaultExplanation
	} else {
		r := t.rules[win]
		relevant = t.rules[:win+1]
		v.Level, v.Rule = r.Level, r.Name
		var b strings.Builder
		b.WriteString(r.Level.String())
		b.WriteString(" by rule ")
		b.WriteString(r.Name)
		if r.When == nil {
			b.WriteString(": it always applies")
		} else {
			b.WriteString(": ")
			e.explain(&b, r.When)
		}
		v.Explanation = b.String()
	}
	v.Recheck = e.recheck(relevant)
	return v
}

// recheck finds the earliest later instant at which a condition of rules
// could change value with no new signal: a duration threshold being reached,
// or counted events leaving a window.
func (e *evaluator) recheck(rules []*Rule) time.Time {
	var best time.Time
	now := e.f.Now
	consider := func(t time.Time) {
		if t.After(now) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	for _, r := range rules {
		for _, c := range r.timeLeaves {
			if c.m == mDuration {
				if e.f.Started.IsZero() {
					continue
				}
				at := e.f.Started.Add(time.Duration(c.num))
				if c.op == opGT || c.op == opLE {
					at = at.Add(1)
				}
				consider(at)
				continue
			}
			if t, ok := e.countFlip(c, best); ok {
				consider(t)
			}
		}
	}
	return best
}

// countFlip finds when the windowed count c compares differently as events
// age out of its window, to the second, if before limit (zero: no limit).
// Counts only fall with time, so the search is a bisection on the first
// moment the count drops to a bound.
func (e *evaluator) countFlip(c *Cond, limit time.Time) (time.Time, bool) {
	v := int64(e.value(c))
	n := int64(c.num)
	var bound int64
	switch holds := c.op.holds(float64(v), c.num); {
	case v == 0:
		return time.Time{}, false
	case holds && c.op != opLE && c.op != opLT:
		bound = n - 1 // >=, > and == stop holding once the count falls below
		if c.op == opGT {
			bound = n
		}
	case !holds && (c.op == opLE || c.op == opEQ) && v > n:
		bound = n // starts holding once the count falls to n
	case !holds && c.op == opLT:
		bound = n - 1
	default:
		return time.Time{}, false
	}
	if bound < 0 {
		return time.Time{}, false
	}
	now := e.f.Now
	hi := int64(math.Ceil(c.window.Seconds()))
	if !limit.IsZero() {
		hi = min(hi, int64(math.Ceil(Span(now, limit).Seconds())))
	}
	at := func(x int64) int64 { return e.count(c.m, c.window-time.Duration(x)*time.Second) }
	if hi <= 0 || at(hi) > bound {
		return time.Time{}, false
	}
	lo := int64(0) // at(lo) > bound
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if at(mid) > bound {
			lo = mid
		} else {
			hi = mid
		}
	}
	if c.op == opEQ && !c.op.holds(float64(v), c.num) && at(hi) != n {
		return time.Time{}, false
	}
	return now.Add(time.Duration(hi) * time.Second), true
}

// cacheEntry holds one windowed count during an Evaluate call.
type cacheEntry struct {
	ok bool
	v  int64
}

// evaluator evaluates conditions against one incident's facts.
type evaluator struct {
	t      *Table
	f      *Facts
	cache  []cacheEntry
	svcIdx []int32 // catalogue index of each of f.Services, -1 if unknown
}

// value measures what a compare condition reads.
func (e *evaluator) value(c *Cond) float64 {
	f := e.f
	switch c.m {
	case mFiring:
		return float64(f.FiringAlerts)
	case mInstances:
		return float64(f.Instances)
	case mCustomers:
		return float64(f.Customers)
	case mShare:
		if e.t.customersTotal <= 0 {
			return 0
		}
		return float64(f.Customers) * 100 / float64(e.t.customersTotal)
	case mDuration:
		if f.Started.IsZero() {
			return 0
		}
		return float64(Span(f.Started, f.Now))
	}
	ce := &e.cache[c.slot]
	if !ce.ok {
		ce.ok, ce.v = true, e.count(c.m, c.window)
	}
	return float64(ce.v)
}

// count reads a windowed counter, 0 when the facts have no counters.
func (e *evaluator) count(m measure, d time.Duration) int64 {
	if e.f.Count == nil {
		return 0
	}
	return e.f.Count(measureCounter[m], max(d, 0))
}

// hits counts firing signals matching any of idx (the largest count).
func (e *evaluator) hits(idx []int) int {
	best := 0
	for _, i := range idx {
		if i < len(e.f.MatcherHits) {
			best = max(best, e.f.MatcherHits[i])
		}
	}
	return best
}

// eval reports whether c holds.
func (e *evaluator) eval(c *Cond) bool {
	switch c.kind {
	case kAll:
		for _, k := range c.kids {
			if !e.eval(k) {
				return false
			}
		}
		return true
	case kAny:
		for _, k := range c.kids {
			if e.eval(k) {
				return true
			}
		}
		return false
	case kNot:
		return !e.eval(c.kids[0])
	case kMatch, kFlag:
		return e.hits(c.idx) > 0
	case kService:
		return e.service(c) != ""
	}
	return c.op.holds(e.value(c), c.num)
}

// service returns the first incident service satisfying c, "" if none.
func (e *evaluator) service(c *Cond) string {
	for i, x := range e.svcIdx {
		if x >= 0 && c.svcs.has(int(x)) {
			return e.f.Services[i]
		}
	}
	return ""
}

// explain writes why c, which holds, holds.
func (e *evaluator) explain(b *strings.Builder, c *Cond) {
	switch c.kind {
	case kAll:
		for i, k := range c.kids {
			if i > 0 {
				b.WriteString("; ")
			}
			e.explain(b, k)
		}
	case kAny:
		for _, k := range c.kids {
			if e.eval(k) {
				e.explain(b, k)
				return
			}
		}
	case kNot:
		b.WriteString("not (")
		if k := c.kids[0]; k.kind == kCompare {
			b.WriteString(k.describe(true, e.value(k)))
		} else {
			b.WriteString(k.text)
		}
		b.WriteByte(')')
	case kMatch:
		n := e.hits(c.idx)
		fmt.Fprintf(b, "%d %s %s", n, plural(n == 1, "firing signal matches", "firing signals match"), c.name)
	case kFlag:
		fmt.Fprintf(b, "flag %s is raised", c.name)
	case kService:
		name := e.service(c)
		b.WriteString(name)
		b.WriteString(" is ")
		var parts []string
		switch {
		case c.cf != nil && *c.cf:
			parts = append(parts, "customer facing")
		case c.cf != nil:
			parts = append(parts, "not customer facing")
		}
		if c.tier != 0 {
			parts = append(parts, "tier "+strconv.Itoa(c.tier))
		}
		if len(parts) == 0 {
			parts = append(parts, "affected")
		}
		b.WriteString(strings.Join(parts, " and "))
	case kCompare:
		b.WriteString(c.describe(true, e.value(c)))
	}
}
