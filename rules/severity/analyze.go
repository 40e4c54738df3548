package severity

import (
	"math"

	"github.com/klaxonhq/klaxon/rules/internal/yamlx"
)

// implyBudget bounds the work of one implication check; past it the check
// answers "unknown" (false), which only loses a warning.
const implyBudget = 10000

// analyze works out which conditions under c are constant, reporting
// contradictions and tautologies that its parts do not already explain.
func analyze(s yamlx.Scope, c *Cond) konst {
	switch c.kind {
	case kNot:
		switch analyze(s, c.kids[0]) {
		case kAlways:
			c.konst = kNever
		case kNever:
			c.konst = kAlways
		}
	case kAll, kAny:
		absorbing, neutral := kNever, kAlways // all: one never makes it never
		if c.kind == kAny {
			absorbing, neutral = kAlways, kNever
		}
		allNeutral := true
		for _, k := range c.kids {
			switch analyze(s, k) {
			case absorbing:
				c.konst = absorbing
			case neutral:
			default:
				allNeutral = false
			}
		}
		if c.konst == kMaybe && allNeutral {
			c.konst = neutral
		}
		if c.konst != kMaybe {
			break
		}
		if a, b, ok := clash(c); ok {
			if c.kind == kAll {
				s.Errf(c.line, "all: %q and %q cannot both hold, so this never holds", a.text, b.text)
			} else {
				s.Errf(c.line, "any: %q or %q always holds, so this always holds", a.text, b.text)
			}
			c.konst = absorbing
		}
	}
	return c.konst
}

// clash finds two parts of an all that contradict each other, or two parts of
// an any of which one always holds when the other does not.
func clash(c *Cond) (*Cond, *Cond, bool) {
	for i, a := range c.kids {
		for _, b := range c.kids[i+1:] {
			if c.kind == kAll && (excludes(a, b) || excludes(b, a) || disjoint(a, b)) {
				return a, b, true
			}
			if c.kind == kAny && (covers(a, b) || covers(b, a)) {
				return a, b, true
			}
		}
	}
	return nil, nil, false
}

// excludes reports a and `not r` where a implies r.
func excludes(a, b *Cond) bool {
	if b.kind != kNot {
		return false
	}
	budget := implyBudget
	return implies(a, b.kids[0], &budget)
}

// covers reports `not r` or a where r implies a: one of them always holds.
func covers(a, b *Cond) bool {
	if b.kind != kNot {
		return false
	}
	budget := implyBudget
	return implies(b.kids[0], a, &budget)
}

// disjoint reports two comparisons of the same figure that no value satisfies.
func disjoint(a, b *Cond) bool {
	return a.kind == kCompare && b.kind == kCompare && a.m == b.m && a.window == b.window &&
		a.iv.intersect(b.iv).intersect(domain).empty()
}

// implies reports whether a provably implies b: whenever a holds, b holds. It
// is sound but incomplete, and gives up (false) when budget runs out.
func implies(a, b *Cond, budget *int) bool {
	if *budget <= 0 {
		return false
	}
	*budget--
	switch {
	case a.text == b.text, b.konst == kAlways, a.konst == kNever:
		return true
	}
	switch b.kind {
	case kAll:
		for _, k := range b.kids {
			if !implies(a, k, budget) {
				return false
			}
		}
		return true
	case kAny:
		for _, k := range b.kids {
			if implies(a, k, budget) {
				return true
			}
		}
	}
	switch a.kind {
	case kAll:
		for _, k := range a.kids {
			if implies(k, b, budget) {
				return true
			}
		}
		return false
	case kAny:
		for _, k := range a.kids {
			if !implies(k, b, budget) {
				return false
			}
		}
		return true
	case kNot:
		return b.kind == kNot && implies(b.kids[0], a.kids[0], budget)
	}
	return leafImplies(a, b)
}

// leafImplies compares two simple conditions.
func leafImplies(a, b *Cond) bool {
	switch {
	case (a.kind == kMatch || a.kind == kFlag) && (b.kind == kMatch || b.kind == kFlag):
		return subset(a.idx, b.idx)
	case a.kind == kService && b.kind == kService:
		return a.svcs.within(b.svcs)
	case a.kind == kCompare && b.kind == kCompare && a.m == b.m:
		switch {
		case a.window == b.window:
			return a.iv.within(b.iv)
		case a.window < b.window: // a's count is at most b's
			return interval{lo: a.iv.lo, loOpen: a.iv.loOpen, hi: math.Inf(1), hiOpen: true}.within(b.iv)
		default: // a's count is at least b's
			return interval{lo: math.Inf(-1), loOpen: true, hi: a.iv.hi, hiOpen: a.iv.hiOpen}.within(b.iv)
		}
	}
	return false
}

func subset(a, b []int) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// checkShadowed reports a rule that an earlier rule always pre-empts.
func (t *Table) checkShadowed(s yamlx.Scope, r *Rule) {
	if r.When != nil && r.When.konst == kNever {
		return // reported where it arises
	}
	for _, prev := range t.rules {
		budget := implyBudget
		switch {
		case prev.When == nil:
			s.Errf(r.Line, "never applies: rule %q (%s:%d) comes first and always matches", prev.Name, prev.File, prev.Line)
		case prev.When.konst == kAlways:
			s.Errf(r.Line, "never applies: rule %q (%s:%d) comes first and its condition always holds", prev.Name, prev.File, prev.Line)
		case r.When != nil && implies(r.When, prev.When, &budget):
			s.Errf(r.Line, "never applies: rule %q (%s:%d) comes first and matches whenever this one does", prev.Name, prev.File, prev.Line)
		default:
			continue
		}
		return
	}
}
