package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/rules/calendar"
	"github.com/klaxonhq/klaxon/rules/internal/yamlx"
	"github.com/klaxonhq/klaxon/rules/match"
	"github.com/klaxonhq/klaxon/rules/severity"
)

// The defaults of the correlation settings.
const (
	defaultWindow      = 30 * time.Minute
	defaultQuietPeriod = 5 * time.Minute
	defaultMaxServices = 5
)

// defaultLevels are the classic severity definitions.
var defaultLevels = []LevelDef{
	{1, "SEV1", "Critical: a customer-facing service is down for all customers, confidentiality or data security is breached, or customer data is lost."},
	{2, "SEV2", "Major: a customer-facing service is down for some customers, or core functions are significantly impaired."},
	{3, "SEV3", "Minor: an inconvenience with a workaround, or reduced performance."},
}

var (
	serviceNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	flagNameRE    = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_-]*$`)
)

// scope decodes YAML nodes for the compiler, which keeps settings that may
// be given only once and the table of matcher strings.
type scope struct {
	yamlx.Scope
	c *compiler
}

// located is a YAML node found in a file.
type located struct {
	file string
	key  *yaml.Node // the mapping key, when the node was one's value
	node *yaml.Node
}

// compiler accumulates the sections of all files, then builds the Set.
type compiler struct {
	log  yamlx.Log
	once map[string]pos // settings that may be given in one place only

	set            *Set
	customersTotal int64
	defaultLevel   *located
	flagNodes      []located
	ruleNodes      []located
	svcDeps        map[*svcEntry][]located
	svcCorr        map[*svcEntry]located
	policyNodes    []located
	calendars      map[string]*Calendar
	calendarPos    map[string]pos
	matcherIdx     map[string]int
}

// Compile parses and validates rule files. Every error names file:line.
func compile(files []File) (*Set, error) {
	c := &compiler{
		once: make(map[string]pos),
		set: &Set{
			byName:          make(map[string]*svcEntry),
			groupBy:         []string{"service"},
			fallbackGroupBy: []string{"alertname"},
			corr:            Correlation{Window: defaultWindow, QuietPeriod: defaultQuietPeriod, MaxServices: defaultMaxServices},
			levels:          slices.Clone(defaultLevels),
		},
		svcDeps:     make(map[*svcEntry][]located),
		svcCorr:     make(map[*svcEntry]located),
		calendars:   make(map[string]*Calendar),
		calendarPos: make(map[string]pos),
		matcherIdx:  make(map[string]int),
	}
	for _, f := range files {
		c.parseFile(f)
	}
	c.build()
	if err := yamlx.Join(c.log.Errs); err != nil {
		return nil, err
	}
	return c.set, nil
}

// scope decodes the YAML nodes of file.
func (c *compiler) scope(file string) scope {
	return scope{Scope: yamlx.Scope{Log: &c.log, File: file}, c: c}
}

// parseFile reads one file's top-level sections.
func (c *compiler) parseFile(f File) {
	s := c.scope(f.Name)
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			s.SyntaxError(err, f.Data)
		}
		return
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		s.Errf(extra.Line, "a rule file holds one YAML document; split this one into another file")
	case !errors.Is(err, io.EOF):
		s.SyntaxError(err, f.Data)
	}
	if len(doc.Content) == 0 {
		return
	}
	root := doc.Content[0]
	s.Mapping(root, "rule file", []string{"services", "correlation", "severity", "policies", "calendars"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "services":
			s.Mapping(v, "services", nil, func(name string, k, v *yaml.Node) { c.service(s, name, k, v) })
		case "correlation":
			if s.once("correlation", k) {
				c.correlation(s, v)
			}
		case "severity":
			c.severity(s, v)
		case "policies":
			s.Mapping(v, "policies", nil, func(_ string, k, v *yaml.Node) {
				c.policyNodes = append(c.policyNodes, located{file: f.Name, key: k, node: v})
			})
		case "calendars":
			s.Mapping(v, "calendars", nil, func(name string, k, v *yaml.Node) { c.calendar(s, name, k, v) })
		}
	})
}

// once reports whether the setting key is given here for the first time.
func (s scope) once(key string, k *yaml.Node) bool {
	if p, dup := s.c.once[key]; dup {
		s.Errf(k.Line, "%s is already set at %s:%d", key, p.file, p.line)
		return false
	}
	s.c.once[key] = pos{s.File, k.Line}
	return true
}

// matchers parses one matcher string.
func matchers(s yamlx.Scope, text string, line int) (match.Set, bool) {
	ms, err := match.Parse(text)
	switch {
	case errors.Is(err, match.ErrEmpty):
		s.Errf(line, "matcher %q is empty and would match every signal", text)
	case err != nil:
		s.Errf(line, "invalid matcher %q: %v", yamlx.Truncate(text, 80), err)
	}
	return ms, err == nil
}

// Matcher returns the index and canonical text of a condition matcher
// string, adding it to the set.
func (c *compiler) Matcher(s yamlx.Scope, text string, line int) (int, string, bool) {
	ms, ok := matchers(s, text, line)
	if !ok {
		return 0, "", false
	}
	canon := ms.String()
	if i, ok := c.matcherIdx[canon]; ok {
		return i, canon, true
	}
	i := len(c.set.matchers)
	c.set.matchers = append(c.set.matchers, ms)
	c.matcherIdx[canon] = i
	return i, canon, true
}

// Flag returns the matcher indexes of the named flag.
func (c *compiler) Flag(name string) ([]int, bool) {
	for _, f := range c.set.flags {
		if f.name == name {
			return f.idx, true
		}
	}
	return nil, false
}

// FlagNames lists the defined flags in file order.
func (c *compiler) FlagNames() []string {
	out := make([]string, len(c.set.flags))
	for i, f := range c.set.flags {
		out[i] = f.name
	}
	return out
}

var serviceKeys = []string{"display_name", "customer_facing", "tier", "component", "team",
	"escalation_policy", "matchers", "keywords", "depends_on", "correlation"}

// service reads one catalogue entry.
func (c *compiler) service(s scope, name string, k, v *yaml.Node) {
	if !serviceNameRE.MatchString(name) {
		s.Errf(k.Line, "service name %q: use letters, digits, '-', '_' and '.'", name)
		return
	}
	if prev := c.set.byName[name]; prev != nil {
		s.Errf(k.Line, "service %q is already defined at %s:%d", name, prev.pos.file, prev.pos.line)
		return
	}
	e := &svcEntry{svc: &Service{Name: name}, pos: pos{s.File, k.Line}, idx: len(c.set.svcs)}
	c.set.byName[name] = e
	c.set.svcs = append(c.set.svcs, e)
	c.set.services = append(c.set.services, e.svc)
	what := fmt.Sprintf("service %q", name)
	var hasTier, hasDisplay bool
	s.Mapping(v, what, serviceKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "display_name":
			e.svc.DisplayName, hasDisplay = s.Str(v, what+": display_name")
		case "customer_facing":
			e.svc.CustomerFacing, _ = s.Boolean(v, what+": customer_facing")
		case "tier":
			t, ok := s.Integer(v, what+": tier")
			if ok && (t < 1 || t > 3) {
				s.Errf(v.Line, "%s: tier must be 1, 2 or 3, not %d", what, t)
			}
			e.svc.Tier, hasTier = int(t), true
		case "component":
			e.svc.Component, _ = s.Str(v, what+": component")
		case "team":
			e.svc.Team, _ = s.Str(v, what+": team")
		case "escalation_policy":
			e.svc.EscalationPolicy, _ = s.Str(v, what+": escalation_policy")
		case "matchers":
			items, _ := s.Seq(v, what+": matchers")
			for _, it := range items {
				if text, ok := s.Str(it, what+": matcher"); ok {
					if ms, ok := matchers(s.Scope, text, it.Line); ok {
						e.sets = append(e.sets, ms)
					}
				}
			}
		case "keywords":
			e.svc.Keywords = c.keywords(s, v, what)
		case "depends_on":
			items, _ := s.Seq(v, what+": depends_on")
			for _, it := range items {
				c.svcDeps[e] = append(c.svcDeps[e], located{file: s.File, node: it})
			}
		case "correlation":
			c.svcCorr[e] = located{file: s.File, key: k, node: v}
		}
	})
	if !hasDisplay {
		s.Errf(k.Line, "%s needs a display_name (the only name the public status page shows)", what)
	}
	if !hasTier {
		s.Errf(k.Line, "%s needs a tier (1, 2 or 3)", what)
	}
	if e.svc.Component == "" {
		e.svc.Component = e.svc.DisplayName
	}
	if len(e.sets) == 0 && len(e.svc.Keywords) == 0 && s.Lookup(v, "matchers") == nil && s.Lookup(v, "keywords") == nil {
		s.Errf(k.Line, "%s has neither matchers nor keywords, so nothing can be attributed to it", what)
	}
}

// keywords reads a service's keywords: words or phrases of at least two
// characters, unique regardless of case.
func (c *compiler) keywords(s scope, v *yaml.Node, what string) []string {
	items, _ := s.Seq(v, what+": keywords")
	var out []string
	for _, it := range items {
		kw, ok := s.Str(it, what+": keyword")
		if !ok {
			continue
		}
		switch {
		case kw != strings.TrimSpace(kw) || strings.ContainsAny(kw, "\n\r\t"):
			s.Errf(it.Line, "%s: keyword %q has surrounding or control whitespace", what, kw)
		case len([]rune(kw)) < 2:
			s.Errf(it.Line, "%s: keyword %q is too short to identify anything", what, kw)
		case slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, kw) }):
			s.Errf(it.Line, "%s: keyword %q is listed twice", what, kw)
		default:
			out = append(out, kw)
		}
	}
	return out
}

// correlation reads the global correlation settings.
func (c *compiler) correlation(s scope, v *yaml.Node) {
	set := c.set
	s.Mapping(v, "correlation", []string{"group_by", "fallback_group_by", "window", "quiet_period", "max_services", "reopen_within"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "group_by":
			if set.groupBy = s.LabelNames(v, "correlation: group_by"); len(set.groupBy) == 0 {
				s.Errf(k.Line, "correlation: group_by needs at least one label")
			}
		case "fallback_group_by":
			set.fallbackGroupBy = s.LabelNames(v, "correlation: fallback_group_by")
		default:
			c.corrSetting(s, "correlation", key, v, &set.corr)
		}
	})
}

// corrSetting reads window, quiet_period, max_services or reopen_within into corr.
func (c *compiler) corrSetting(s scope, what, key string, v *yaml.Node, corr *Correlation) {
	what += ": " + key
	switch key {
	case "window":
		if d, ok := s.PositiveDuration(v, what); ok {
			corr.Window = d
		}
	case "quiet_period":
		if d, ok := s.Duration(v, what); ok {
			corr.QuietPeriod = d
		}
	case "reopen_within":
		if d, ok := s.Duration(v, what); ok {
			corr.ReopenWithin = d
		}
	case "max_services":
		if n, ok := s.Integer(v, what); ok {
			if n < 1 || n > 1000 {
				s.Errf(v.Line, "%s must be between 1 and 1000, not %d", what, n)
				return
			}
			corr.MaxServices = int(n)
		}
	}
}

// severity reads the severity section.
func (c *compiler) severity(s scope, v *yaml.Node) {
	keys := []string{"levels", "default", "allow_downgrade", "customers_total", "flags", "rules"}
	s.Mapping(v, "severity", keys, func(key string, k, v *yaml.Node) {
		switch key {
		case "levels":
			if s.once("severity.levels", k) {
				c.levels(s, k, v)
			}
		case "default":
			if s.once("severity.default", k) {
				c.defaultLevel = &located{file: s.File, key: k, node: v}
			}
		case "allow_downgrade":
			if s.once("severity.allow_downgrade", k) {
				c.set.allowDowngrade, _ = s.Boolean(v, "allow_downgrade")
			}
		case "customers_total":
			if s.once("severity.customers_total", k) {
				n, ok := s.Integer(v, "customers_total")
				if ok && n < 1 {
					s.Errf(v.Line, "customers_total must be positive, not %d", n)
					return
				}
				c.customersTotal = n
				c.set.customersTotal = n
			}
		case "flags":
			s.Mapping(v, "flags", nil, func(_ string, k, v *yaml.Node) {
				c.flagNodes = append(c.flagNodes, located{file: s.File, key: k, node: v})
			})
		case "rules":
			items, _ := s.Seq(v, "rules")
			for _, it := range items {
				c.ruleNodes = append(c.ruleNodes, located{file: s.File, node: it})
			}
		}
	})
}

// levels reads the level definitions, named SEV1, SEV2, ... in order.
func (c *compiler) levels(s scope, k, v *yaml.Node) {
	items, ok := s.Seq(v, "levels")
	if !ok {
		return
	}
	if len(items) == 0 {
		s.Errf(k.Line, "levels needs at least one level")
		return
	}
	if len(items) > 9 {
		s.Errf(k.Line, "at most 9 levels, not %d", len(items))
		return
	}
	levels := make([]LevelDef, 0, len(items))
	for i, it := range items {
		l := LevelDef{Level: Level(i + 1)}
		want := l.Level.String()
		s.Mapping(it, "level", []string{"name", "description"}, func(key string, _, v *yaml.Node) {
			switch key {
			case "name":
				l.Name, _ = s.Str(v, "level name")
			case "description":
				l.Description, _ = s.Str(v, "level description")
			}
		})
		if l.Name != want {
			s.Errf(it.Line, "level %d must be named %q (levels are SEV1, SEV2, ... from the most severe)", i+1, want)
		}
		l.Name = want
		levels = append(levels, l)
	}
	c.set.levels = levels
}

// calendar reads one business-hours calendar.
func (c *compiler) calendar(s scope, name string, k, v *yaml.Node) {
	if !flagNameRE.MatchString(name) {
		s.Errf(k.Line, "calendar name %q: use letters, digits, '-' and '_'", name)
		return
	}
	if p, dup := c.calendarPos[name]; dup {
		s.Errf(k.Line, "calendar %q is already defined at %s:%d", name, p.file, p.line)
		return
	}
	c.calendarPos[name] = pos{s.File, k.Line}
	what := fmt.Sprintf("calendar %q", name)
	var tz, hours string
	var days, holidays []string
	ok := true
	s.Mapping(v, what, []string{"time_zone", "days", "hours", "holidays"}, func(key string, _, v *yaml.Node) {
		var good bool
		switch key {
		case "time_zone":
			tz, good = s.Str(v, what+": time_zone")
		case "hours":
			hours, good = s.Str(v, what+": hours")
		case "days":
			days, good = s.Strs(v, what+": days"), true
		case "holidays":
			holidays, good = s.Strs(v, what+": holidays"), true
		}
		ok = ok && good
	})
	if !ok {
		return
	}
	cal, err := calendar.New(name, tz, days, hours, holidays)
	if err != nil {
		s.Errf(k.Line, "%s: %v", what, err)
		return
	}
	c.calendars[name] = cal
}

// build resolves cross references and checks the whole set.
func (c *compiler) build() {
	c.buildLevels()
	c.buildServices()
	c.buildFlags()
	c.buildRules()
	c.buildPolicies()
	c.set.index = match.NewIndex(c.set.matchers)
	c.set.keywords = newKeywordIndex(c.set.svcs)
}

func (c *compiler) buildLevels() {
	set := c.set
	set.defaultLevel = Level(len(set.levels))
	if d := c.defaultLevel; d != nil {
		s := c.scope(d.file)
		if name, ok := s.Str(d.node, "severity default"); ok {
			if l, ok := set.Level(name); ok {
				set.defaultLevel = l
			} else {
				s.Errf(d.node.Line, "severity default: unknown level %q%s", name, yamlx.Known(levelNames(set.levels)))
			}
		}
	}
}

func levelNames(ls []LevelDef) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

func (c *compiler) buildServices() {
	set := c.set
	for _, e := range set.svcs {
		e.corr = set.corr
		if lc, ok := c.svcCorr[e]; ok {
			s := c.scope(lc.file)
			what := fmt.Sprintf("service %q: correlation", e.svc.Name)
			s.Mapping(lc.node, what, []string{"group_by", "window", "quiet_period", "max_services", "reopen_within"}, func(key string, _, v *yaml.Node) {
				if key == "group_by" {
					e.groupBy = s.LabelNames(v, what+": group_by")
					return
				}
				c.corrSetting(s, what, key, v, &e.corr)
			})
		}
		for _, d := range c.svcDeps[e] {
			s := c.scope(d.file)
			name, ok := s.Str(d.node, "depends_on item")
			switch {
			case !ok:
			case set.byName[name] == nil:
				s.Errf(d.node.Line, "service %q: depends_on: unknown service %q%s", e.svc.Name, name, yamlx.Known(serviceNames(set.svcs)))
			case name == e.svc.Name:
				s.Errf(d.node.Line, "service %q depends on itself", name)
			case slices.Contains(e.svc.DependsOn, name):
				s.Errf(d.node.Line, "service %q: depends_on lists %q twice", e.svc.Name, name)
			default:
				e.svc.DependsOn = append(e.svc.DependsOn, name)
			}
		}
	}
	c.checkCycles()
	for _, e := range set.svcs {
		e.upstreams = set.closure(e.svc.Name)
	}
}

// checkCycles reports each dependency cycle once.
func (c *compiler) checkCycles() {
	const (
		unseen = iota
		active
		done
	)
	state := make(map[string]int)
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		state[name] = active
		stack = append(stack, name)
		e := c.set.byName[name]
		for _, d := range e.svc.DependsOn {
			switch state[d] {
			case unseen:
				visit(d)
			case active:
				i := slices.Index(stack, d)
				cycle := append(slices.Clone(stack[i:]), d)
				first := c.set.byName[d]
				c.scope(first.pos.file).Errf(first.pos.line, "depends_on cycle: %s", strings.Join(cycle, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
	}
	for _, e := range c.set.svcs {
		if state[e.svc.Name] == unseen {
			visit(e.svc.Name)
		}
	}
}

// closure lists the services name depends on, transitively, nearest first.
func (s *Set) closure(name string) []string {
	e := s.byName[name]
	if e == nil {
		return nil
	}
	var out []string
	queue := slices.Clone(e.svc.DependsOn)
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if d == name || slices.Contains(out, d) {
			continue
		}
		out = append(out, d)
		if de := s.byName[d]; de != nil {
			queue = append(queue, de.svc.DependsOn...)
		}
	}
	return out
}

func (c *compiler) buildFlags() {
	set := c.set
	for _, fl := range c.flagNodes {
		s := c.scope(fl.file)
		name := fl.key.Value
		if !flagNameRE.MatchString(name) {
			s.Errf(fl.key.Line, "flag name %q: use letters, digits, '-' and '_'", name)
			continue
		}
		if i := slices.IndexFunc(set.flags, func(f flagDef) bool { return f.name == name }); i >= 0 {
			p := set.flags[i].pos
			s.Errf(fl.key.Line, "flag %q is already defined at %s:%d", name, p.file, p.line)
			continue
		}
		what := fmt.Sprintf("flag %q", name)
		items, _ := s.Seq(fl.node, what)
		def := flagDef{name: name, pos: pos{fl.file, fl.key.Line}}
		for _, it := range items {
			if text, ok := s.Str(it, what+": matcher"); ok {
				if i, _, ok := c.Matcher(s.Scope, text, it.Line); ok && !slices.Contains(def.idx, i) {
					def.idx = append(def.idx, i)
				}
			}
		}
		if len(items) == 0 {
			s.Errf(fl.key.Line, "%s needs at least one matcher", what)
		}
		set.flags = append(set.flags, def)
	}
}

func (c *compiler) buildRules() {
	set := c.set
	catalogue := make([]severity.Service, len(set.svcs))
	for i, e := range set.svcs {
		catalogue[i] = severity.Service{Name: e.svc.Name, CustomerFacing: e.svc.CustomerFacing, Tier: e.svc.Tier}
	}
	table := severity.NewTable(catalogue, set.customersTotal, set.defaultLevel)
	names := make(map[string]pos)
	for _, rn := range c.ruleNodes {
		s := c.scope(rn.file)
		if v := s.Lookup(rn.node, "name"); v != nil && v.Kind == yaml.ScalarNode {
			s.Rule = v.Value
		}
		r := &severity.Rule{File: rn.file, Line: rn.node.Line}
		hasLevel, bad := false, false
		errsBefore := len(c.log.Errs)
		s.Mapping(rn.node, "rule", []string{"name", "level", "description", "when"}, func(key string, k, v *yaml.Node) {
			switch key {
			case "name":
				r.Name, _ = s.Str(v, "rule name")
			case "level":
				name, ok := s.Str(v, "level")
				if !ok {
					return
				}
				if r.Level, hasLevel = set.Level(name); !hasLevel {
					s.Errf(v.Line, "unknown level %q%s", name, yamlx.Known(levelNames(set.levels)))
					hasLevel = true
				}
			case "description":
				r.Description, _ = s.Str(v, "description")
			case "when":
				if yamlx.IsNull(s.Node(v)) {
					s.Errf(k.Line, "when is empty: omit it for a rule that always matches")
					bad = true
					return
				}
				r.When = table.Parse(s.Scope, c, v)
				bad = r.When == nil
			}
		})
		if rn.node.Kind != yaml.MappingNode {
			continue
		}
		switch {
		case r.Name == "":
			if s.Lookup(rn.node, "name") == nil {
				s.Errf(rn.node.Line, "a rule needs a name")
			}
			continue
		case r.Name != strings.TrimSpace(r.Name) || strings.ContainsAny(r.Name, "\n\r\t"):
			s.Errf(rn.node.Line, "rule name %q has surrounding or control whitespace", r.Name)
		}
		if p, dup := names[r.Name]; dup {
			s.Errf(rn.node.Line, "rule name is already used at %s:%d", p.file, p.line)
			continue
		}
		names[r.Name] = pos{r.File, r.Line}
		if !hasLevel {
			s.Errf(rn.node.Line, "a rule needs a level%s", yamlx.Known(levelNames(set.levels)))
		}
		if bad && len(c.log.Errs) == errsBefore {
			s.Errf(rn.node.Line, "invalid condition")
		}
		if bad || len(c.log.Errs) > errsBefore {
			continue
		}
		table.Add(s.Scope, r)
	}
	set.severity = table
}

var policyKeys = []string{"page", "calendar", "status_page", "status_page_delay", "chat_room", "auto_resolve", "resolve_after", "final_message"}

func (c *compiler) buildPolicies() {
	set := c.set
	set.policies = make([]Policy, len(set.levels))
	for i := range set.policies {
		set.policies[i] = defaultPolicy(Level(i + 1))
	}
	seen := make(map[Level]pos)
	for _, pn := range c.policyNodes {
		s := c.scope(pn.file)
		l, ok := set.Level(pn.key.Value)
		if !ok {
			s.Errf(pn.key.Line, "policies: unknown level %q%s", pn.key.Value, yamlx.Known(levelNames(set.levels)))
			continue
		}
		if p, dup := seen[l]; dup {
			s.Errf(pn.key.Line, "policy for %s is already defined at %s:%d", l, p.file, p.line)
			continue
		}
		seen[l] = pos{pn.file, pn.key.Line}
		what := fmt.Sprintf("policy %s", l)
		p := Policy{Level: l, Page: "", StatusPage: StatusPageApproval, ChatRoom: true}
		var calName string
		var calLine, resolveLine int
		s.Mapping(pn.node, what, policyKeys, func(key string, _, v *yaml.Node) {
			switch key {
			case "page":
				if v, ok := s.Str(v, what+": page"); ok {
					if p.Page = Page(v); p.Page != PageImmediately && p.Page != PageBusinessHours {
						s.Errf(pn.key.Line, "%s: page must be immediately or business_hours, not %q", what, v)
					}
				}
			case "status_page":
				if v, ok := s.Str(v, what+": status_page"); ok {
					if p.StatusPage = StatusPage(v); p.StatusPage != StatusPageAuto && p.StatusPage != StatusPageApproval && p.StatusPage != StatusPageOff {
						s.Errf(pn.key.Line, "%s: status_page must be auto, approval or off, not %q", what, v)
					}
				}
			case "status_page_delay":
				if d, ok := s.Duration(v, what+": status_page_delay"); ok {
					p.StatusPageDelay = d
				}
			case "chat_room":
				p.ChatRoom, _ = s.Boolean(v, what+": chat_room")
			case "auto_resolve":
				if auto, ok := s.Boolean(v, what+": auto_resolve"); ok {
					p.ManualResolve = !auto
				}
			case "resolve_after":
				if d, ok := s.PositiveDuration(v, what+": resolve_after"); ok {
					p.ResolveAfter, resolveLine = d, v.Line
				}
			case "final_message":
				p.FinalMessage = finalReceivers(s.Scope, v, what+": final_message")
			case "calendar":
				calName, _ = s.Str(v, what+": calendar")
				calLine = v.Line
			}
		})
		switch {
		case p.Page == "":
			s.Errf(pn.key.Line, "%s needs page: immediately or business_hours", what)
		case p.Page == PageBusinessHours && calName == "":
			s.Errf(pn.key.Line, "%s pages in business hours and needs a calendar%s", what, yamlx.Known(slices.Sorted(maps.Keys(c.calendars))))
		case p.Page == PageImmediately && calName != "":
			s.Errf(calLine, "%s pages immediately; its calendar would not be used", what)
		case p.ManualResolve && resolveLine > 0:
			s.Errf(resolveLine, "%s has auto_resolve: false; its resolve_after would not be used", what)
		case calName != "":
			if p.Calendar = c.calendars[calName]; p.Calendar == nil {
				if _, defined := c.calendarPos[calName]; !defined {
					s.Errf(calLine, "%s: unknown calendar %q%s", what, calName, yamlx.Known(slices.Sorted(maps.Keys(c.calendars))))
				}
			}
		}
		set.policies[l-1] = p
	}
}

// finalReceivers reads a policy's final_message: receiver names, each
// once, as the on-call files' receivers section names them.
func finalReceivers(s yamlx.Scope, v *yaml.Node, what string) []string {
	names := s.Strs(v, what)
	for _, n := range names {
		if !receiverName.MatchString(n) {
			s.Errf(v.Line, "%s: %q is not a receiver name (letters, digits, '.', '_', '-')", what, n)
		}
	}
	return names
}

// receiverName is what a receiver's name in the on-call files may be.
var receiverName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// serviceNames lists the catalogue's service names, for hints.
func serviceNames(es []*svcEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.svc.Name
	}
	return out
}
