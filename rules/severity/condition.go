package severity

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/rules/internal/yamlx"
)

// maxDepth bounds how deeply conditions may nest.
const maxDepth = 32

type condKind uint8

const (
	kAll condKind = iota
	kAny
	kNot
	kMatch   // some firing signal matches one of idx
	kFlag    // like kMatch, through a named flag
	kService // some incident service is in svcs
	kCompare // a measured figure compared with a threshold
)

// measure is what a compare condition reads.
type measure uint8

const (
	mAlerts measure = iota // windowed counters first, in Counter order
	mTickets
	mMentions
	mReach
	mFiring
	mInstances
	mCustomers
	mShare
	mDuration
)

// measureList names the measures, in measure order, as rule files do.
var measureList = [...]string{"alerts", "tickets", "mentions", "reach", "firing_alerts",
	"instances", "customers", "customer_share", "duration"}

// measureNames maps the names used in `count: {of: ...}` to measures.
var measureNames = func() map[string]measure {
	m := make(map[string]measure)
	for i, name := range measureList[:mDuration] {
		m[name] = measure(i)
	}
	return m
}()

var measureCounter = [...]Counter{CounterAlerts, CounterTickets, CounterMentions, CounterReach}

// windowed reports a counter summed over a time window.
func (m measure) windowed() bool { return m <= mReach }

// integral reports a measure whose values are whole numbers.
func (m measure) integral() bool { return m != mShare && m != mDuration }

func (m measure) name() string { return measureList[m] }

// noun names n of the measure for explanations: "34 tickets".
func (m measure) noun(n float64) string {
	one := n == 1
	switch m {
	case mAlerts:
		return plural(one, "alert", "alerts")
	case mTickets:
		return plural(one, "ticket", "tickets")
	case mMentions:
		return plural(one, "mention", "mentions")
	case mReach:
		return "reach"
	case mFiring:
		return plural(one, "firing alert", "firing alerts")
	case mInstances:
		return plural(one, "instance", "instances")
	case mCustomers:
		return plural(one, "customer", "customers")
	}
	return ""
}

func plural(one bool, s, p string) string {
	if one {
		return s
	}
	return p
}

type op uint8

const (
	opGE op = iota
	opGT
	opLE
	opLT
	opEQ
)

var opNames = [...]string{">=", ">", "<=", "<", "=="}

func (o op) String() string { return opNames[o] }

func (o op) holds(v, n float64) bool {
	switch o {
	case opGE:
		return v >= n
	case opGT:
		return v > n
	case opLE:
		return v <= n
	case opLT:
		return v < n
	}
	return v == n
}

// konst is what static analysis knows of a condition's value.
type konst uint8

const (
	kMaybe konst = iota
	kAlways
	kNever
)

// Cond is a compiled condition.
type Cond struct {
	kind condKind
	line int
	text string // canonical text, used for display and identity
	kids []*Cond

	idx  []int // kMatch, kFlag: matcher indexes
	name string

	svcs bitset // kService: indexes of the services satisfying the condition
	cf   *bool
	tier int

	m      measure // kCompare
	window time.Duration
	op     op
	num    float64
	iv     interval
	slot   int // cache slot of a windowed count

	konst konst
}

// interval is the set of values satisfying a compare condition.
type interval struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

// domain holds every value a measure can take.
var domain = interval{lo: 0, hi: math.Inf(1), hiOpen: true}

func newInterval(o op, n float64, integral bool) interval {
	inf := math.Inf(1)
	iv := interval{lo: math.Inf(-1), hi: inf, loOpen: true, hiOpen: true}
	switch o {
	case opGE:
		iv.lo, iv.loOpen = n, false
	case opGT:
		iv.lo, iv.loOpen = n, true
	case opLE:
		iv.hi, iv.hiOpen = n, false
	case opLT:
		iv.hi, iv.hiOpen = n, true
	case opEQ:
		iv = interval{lo: n, hi: n}
	}
	if integral { // a whole-number measure: make bounds closed and whole
		if iv.loOpen && !math.IsInf(iv.lo, 0) {
			iv.lo, iv.loOpen = math.Floor(iv.lo)+1, false
		} else if !iv.loOpen {
			iv.lo = math.Ceil(iv.lo)
		}
		if iv.hiOpen && !math.IsInf(iv.hi, 0) {
			iv.hi, iv.hiOpen = math.Ceil(iv.hi)-1, false
		} else if !iv.hiOpen {
			iv.hi = math.Floor(iv.hi)
		}
	}
	return iv
}

func (a interval) empty() bool {
	return a.lo > a.hi || (a.lo == a.hi && (a.loOpen || a.hiOpen))
}

func (a interval) intersect(b interval) interval {
	r := a
	if b.lo > r.lo || (b.lo == r.lo && b.loOpen) {
		r.lo, r.loOpen = b.lo, b.loOpen
	}
	if b.hi < r.hi || (b.hi == r.hi && b.hiOpen) {
		r.hi, r.hiOpen = b.hi, b.hiOpen
	}
	return r
}

// within reports whether every value of a (inside the domain) is in b.
func (a interval) within(b interval) bool {
	a = a.intersect(domain)
	if a.empty() {
		return true
	}
	loOK := a.lo > b.lo || (a.lo == b.lo && (!b.loOpen || a.loOpen))
	hiOK := a.hi < b.hi || (a.hi == b.hi && (!b.hiOpen || a.hiOpen))
	return loOK && hiOK
}

// condParser compiles condition nodes of one rule.
type condParser struct {
	yamlx.Scope
	cat Catalogue
	t   *Table
}

var condKeys = []string{"all", "any", "not", "match", "service", "count", "flag", "duration"}

// parse compiles a condition; nil means it had errors (already reported).
func (p condParser) parse(n *yaml.Node, depth int) *Cond {
	n = p.Node(n)
	if n == nil {
		return nil
	}
	if depth > maxDepth {
		p.Errf(n.Line, "conditions nest deeper than %d levels", maxDepth)
		return nil
	}
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		if n.Kind == yaml.MappingNode && len(n.Content) > 2 {
			var keys []string
			for i := 0; i < len(n.Content); i += 2 {
				keys = append(keys, n.Content[i].Value)
			}
			p.Errf(n.Line, "a condition has exactly one key, found %s: wrap them in `all:` or `any:`", strings.Join(keys, ", "))
			return nil
		}
		p.Errf(n.Line, "a condition must be a mapping with one of: %s", strings.Join(condKeys, ", "))
		return nil
	}
	var out *Cond
	p.Mapping(n, "condition", condKeys, func(key string, k, v *yaml.Node) {
		line := k.Line
		switch key {
		case "all", "any":
			out = p.list(key, v, line, depth)
		case "not":
			if kid := p.parse(v, depth+1); kid != nil {
				out = &Cond{kind: kNot, line: line, kids: []*Cond{kid}, text: "not (" + kid.text + ")"}
			}
		case "match":
			out = p.match(v, line)
		case "flag":
			out = p.flag(v, line)
		case "service":
			out = p.service(v, line)
		case "count":
			out = p.count(v, line)
		case "duration":
			out = p.compare(v, line, "duration", mDuration, 0)
		}
	})
	return out
}

func (p condParser) list(key string, v *yaml.Node, line, depth int) *Cond {
	items, ok := p.Seq(v, key)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		p.Errf(line, "%s needs at least one condition", key)
		return nil
	}
	c := &Cond{kind: kAll, line: line}
	if key == "any" {
		c.kind = kAny
	}
	texts := make([]string, 0, len(items))
	bad := false
	for _, it := range items {
		kid := p.parse(it, depth+1)
		if kid == nil {
			bad = true
			continue
		}
		c.kids = append(c.kids, kid)
		texts = append(texts, kid.text)
	}
	if bad {
		return nil
	}
	c.text = key + "(" + strings.Join(texts, "; ") + ")"
	return c
}

func (p condParser) match(v *yaml.Node, line int) *Cond {
	s, ok := p.Str(v, "match")
	if !ok {
		return nil
	}
	i, text, ok := p.cat.Matcher(p.Scope, s, line)
	if !ok {
		return nil
	}
	return &Cond{kind: kMatch, line: line, idx: []int{i}, name: text, text: "match " + text}
}

func (p condParser) flag(v *yaml.Node, line int) *Cond {
	name, ok := p.Str(v, "flag")
	if !ok {
		return nil
	}
	if idx, ok := p.cat.Flag(name); ok {
		return &Cond{kind: kFlag, line: line, idx: idx, name: name, text: "flag " + name}
	}
	p.Errf(line, "unknown flag %q%s", name, yamlx.Known(p.cat.FlagNames()))
	return nil
}

func (p condParser) service(v *yaml.Node, line int) *Cond {
	c := &Cond{kind: kService, line: line}
	var parts []string
	bad := false
	p.Mapping(v, "service condition", []string{"name", "customer_facing", "tier"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			name, ok := p.Str(v, "service name")
			if !ok {
				bad = true
				return
			}
			if _, known := p.t.index[name]; !known {
				p.Errf(v.Line, "unknown service %q%s", name, yamlx.Known(p.t.serviceNames()))
				bad = true
				return
			}
			c.name = name
		case "customer_facing":
			b, ok := p.Boolean(v, "customer_facing")
			if !ok {
				bad = true
				return
			}
			c.cf = &b
		case "tier":
			t, ok := p.Integer(v, "tier")
			if !ok || t < 1 || t > 3 {
				if ok {
					p.Errf(v.Line, "tier must be 1, 2 or 3, not %d", t)
				}
				bad = true
				return
			}
			c.tier = int(t)
		}
	})
	if bad {
		return nil
	}
	if c.name != "" {
		parts = append(parts, c.name)
	}
	if c.cf != nil {
		parts = append(parts, "customer_facing="+strconv.FormatBool(*c.cf))
	}
	if c.tier != 0 {
		parts = append(parts, "tier="+strconv.Itoa(c.tier))
	}
	if len(parts) == 0 {
		p.Errf(line, "a service condition needs name, customer_facing or tier")
		return nil
	}
	c.text = "service " + strings.Join(parts, " ")
	c.svcs = newBitset(len(p.t.services))
	for i, sv := range p.t.services {
		if c.name != "" && sv.Name != c.name || c.cf != nil && sv.CustomerFacing != *c.cf || c.tier != 0 && sv.Tier != c.tier {
			continue
		}
		c.svcs.set(i)
	}
	if c.svcs.empty() {
		p.Errf(line, "no service in the catalogue satisfies %q, so it never holds", c.text)
		c.konst = kNever
	}
	return c
}

// serviceNames lists the catalogue's service names, for hints.
func (t *Table) serviceNames() []string {
	out := make([]string, len(t.services))
	for i, sv := range t.services {
		out[i] = sv.Name
	}
	return out
}

// count parses `count: {of: tickets, window: 15m, ">=": 20}`.
func (p condParser) count(v *yaml.Node, line int) *Cond {
	if !p.isMapping(v, line, "count") {
		return nil
	}
	ofNode := p.Lookup(v, "of")
	if ofNode == nil {
		p.Errf(line, "count needs `of:` (one of: %s)", strings.Join(slices.Sorted(maps.Keys(measureNames)), ", "))
		return nil
	}
	of, ok := p.Str(ofNode, "count of")
	if !ok {
		return nil
	}
	m, ok := measureNames[of]
	if !ok {
		p.Errf(ofNode.Line, "unknown counter %q (expected one of: %s)", of, strings.Join(slices.Sorted(maps.Keys(measureNames)), ", "))
		return nil
	}
	if m == mShare && p.t.customersTotal == 0 {
		p.Errf(ofNode.Line, "customer_share needs severity.customers_total to be set")
		return nil
	}
	var window time.Duration
	if w := p.Lookup(v, "window"); w != nil {
		if !m.windowed() {
			p.Errf(w.Line, "%s is a current value and takes no window", of)
			return nil
		}
		if window, ok = p.PositiveDuration(w, "window"); !ok {
			return nil
		}
	} else if m.windowed() {
		p.Errf(line, "count of %s needs a window, e.g. window: 15m", of)
		return nil
	}
	return p.compare(v, line, "count", m, window)
}

// isMapping reports whether v is a mapping, reporting it when not.
func (p condParser) isMapping(v *yaml.Node, line int, what string) bool {
	v = p.Node(v)
	if v == nil || v.Kind != yaml.MappingNode {
		p.Errf(line, "%s must be a mapping such as {\">=\": 20}", what)
		return false
	}
	return true
}

// compare parses the comparison of a count or duration condition.
func (p condParser) compare(v *yaml.Node, line int, what string, m measure, window time.Duration) *Cond {
	if !p.isMapping(v, line, what) {
		return nil
	}
	allowed := []string{">=", ">", "<=", "<", "=="}
	if what == "count" {
		allowed = append([]string{"of", "window"}, allowed...)
	}
	c := &Cond{kind: kCompare, line: line, m: m, window: window, slot: -1}
	nops := 0
	bad := false
	p.Mapping(v, what, allowed, func(key string, k, v *yaml.Node) {
		i := slices.Index(opNames[:], key)
		if i < 0 {
			return
		}
		nops++
		c.op = op(i)
		if nops > 1 {
			p.Errf(k.Line, "%s has more than one comparison; use all: for a range", what)
			bad = true
			return
		}
		if m == mDuration {
			d, ok := p.Duration(v, "duration")
			if !ok {
				bad = true
				return
			}
			if c.op == opEQ {
				p.Errf(k.Line, "duration == almost never holds: use >= or <")
				bad = true
				return
			}
			c.num = float64(d)
			return
		}
		n, ok := p.Number(v, what+" threshold")
		if !ok {
			bad = true
			return
		}
		if m.integral() && n != math.Trunc(n) {
			p.Errf(v.Line, "%s of %s counts whole numbers, not %s", what, m.name(), formatNum(n))
			bad = true
			return
		}
		c.num = n
	})
	if bad {
		return nil
	}
	if nops == 0 {
		p.Errf(line, "%s needs a comparison, one of: >=, >, <=, <, == (quote it: \">=\": 20)", what)
		return nil
	}
	c.iv = newInterval(c.op, c.num, m.integral())
	c.text = c.describe(false, 0)
	switch iv := c.iv.intersect(domain); {
	case iv.empty():
		p.Errf(line, "%s can never hold", c.text)
		c.konst = kNever
	case domain.within(c.iv):
		p.Errf(line, "%s always holds", c.text)
		c.konst = kAlways
	}
	return c
}

// describe writes a compare condition, with the measured value when withValue.
func (c *Cond) describe(withValue bool, v float64) string {
	thr := formatNum(c.num)
	if c.m == mDuration {
		thr = formatDur(time.Duration(c.num))
	}
	if c.m == mShare {
		thr += "%"
	}
	switch {
	case !withValue && c.m == mDuration:
		return "duration " + c.op.String() + " " + thr
	case !withValue && c.m.windowed():
		return "count " + c.m.name() + " in " + formatDur(c.window) + " " + c.op.String() + " " + thr
	case !withValue:
		return "count " + c.m.name() + " " + c.op.String() + " " + thr
	case c.m == mDuration:
		return "open for " + formatDur(time.Duration(v).Round(time.Second)) + " " + c.op.String() + " " + thr
	case c.m == mShare:
		return formatNum(math.Round(v*100)/100) + "% of customers " + c.op.String() + " " + thr
	case c.m.windowed():
		return formatNum(v) + " " + c.m.noun(v) + " in " + formatDur(c.window) + " " + c.op.String() + " " + thr
	}
	return formatNum(v) + " " + c.m.noun(v) + " " + c.op.String() + " " + thr
}

func formatNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// formatDur writes a duration the way rule files do: 15m, 1h30m, 0s.
func formatDur(d time.Duration) string {
	if d < 0 {
		return "-" + model.Duration(-d).String()
	}
	return model.Duration(d).String()
}

// bitset is a set of small non-negative integers.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int) { b[i/64] |= 1 << (i % 64) }

func (b bitset) has(i int) bool { return i/64 < len(b) && b[i/64]&(1<<(i%64)) != 0 }

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// within reports whether every member of b is in o.
func (b bitset) within(o bitset) bool {
	for i, w := range b {
		if i >= len(o) && w != 0 || i < len(o) && w&^o[i] != 0 {
			return false
		}
	}
	return true
}

// walk calls fn for c and every condition under it.
func (c *Cond) walk(fn func(*Cond)) {
	fn(c)
	for _, k := range c.kids {
		k.walk(fn)
	}
}
