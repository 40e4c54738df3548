package oncall

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/tz"
)

// Loader loads on-call files with the time-zone rules it is given.
type Loader struct {
	// Zone returns a named zone's rules; nil means the zone database built
	// into the binary (tz.Load), never the host's files.
	Zone ZoneLoader
}

// Load reads files with the zone database built into the binary.
func Load(files []File) (*Config, error) { return Loader{}.Load(files) }

// Load parses and cross-checks files, all or nothing: either every file is
// valid and the whole configuration is returned, or the error lists every
// problem as file:line: message.
func (l Loader) Load(files []File) (*Config, error) {
	zone := l.Zone
	if zone == nil {
		zone = tz.Load
	}
	b := &builder{
		zone: zone,
		cfg: &Config{
			People: map[string]*Person{}, Teams: map[string]*Team{},
			Schedules: map[string]*Schedule{}, Policies: map[string]*Policy{},
			Named: map[string]*amconfig.Receiver{},
		},
		defined: map[string]Loc{},
	}
	for _, f := range files {
		b.file(f)
	}
	b.crossCheck()
	if len(b.errs) > 0 {
		return nil, sortedJoin(b.errs)
	}
	if b.cfg.Roles == nil {
		b.cfg.Roles = DefaultRoles()
	}
	return b.cfg, nil
}

// builder accumulates the definitions of all files and the references
// between them, checked once every file is read.
type builder struct {
	reader
	zone    ZoneLoader
	cfg     *Config
	defined map[string]Loc // "kind id" → where defined
	refs    []typedRef
}

// typedRef is a reference to a person, team or schedule.
type typedRef struct {
	kind string
	ref
}

func (b *builder) file(f File) {
	b.reader.file = f.Name
	var doc yaml.Node
	if err := yaml.Unmarshal(f.Data, &doc); err != nil {
		b.fail(yamlLine(err), "invalid YAML: %s", stripLine(err.Error()))
		return
	}
	if len(doc.Content) == 0 {
		return
	}
	top, _ := b.object(doc.Content[0], "file", nil, []string{"people", "teams", "schedules", "escalation_policies", "roles", "receivers"})
	b.each(top.get("people"), "people", "person", b.person)
	b.each(top.get("teams"), "teams", "team", b.team)
	b.each(top.get("schedules"), "schedules", "schedule", b.schedule)
	b.each(top.get("escalation_policies"), "escalation_policies", "escalation policy", b.policy)
	b.each(top.get("roles"), "roles", "role", b.role)
	b.namedReceivers(top.get("receivers"))
}

// each decodes every id-keyed definition of one kind, refusing ids that
// another file or key already defined.
func (b *builder) each(n *yaml.Node, key, kind string, fn func(id string, line int, v *yaml.Node)) {
	for _, e := range b.entries(n, key) {
		if at, dup := b.defined[kind+" "+e.key]; dup {
			b.fail(e.line, "%s %q is already defined at %s:%d", kind, e.key, at.File, at.Line)
			continue
		}
		b.defined[kind+" "+e.key] = Loc{b.reader.file, e.line}
		fn(e.key, e.line, e.val)
	}
}

func (b *builder) refer(kind string, refs ...ref) {
	for _, r := range refs {
		b.refs = append(b.refs, typedRef{kind, r})
	}
}

func (b *builder) crossCheck() {
	for _, r := range b.refs {
		if _, ok := b.defined[r.kind+" "+r.name]; ok {
			continue
		}
		var known []string
		for k := range b.defined {
			if id, ok := strings.CutPrefix(k, r.kind+" "); ok {
				known = append(known, id)
			}
		}
		sort.Strings(known)
		b.errs = append(b.errs, &Error{File: r.loc.File, Line: r.loc.Line,
			Msg: fmt.Sprintf("unknown %s %q (defined: %s)", r.kind, r.name, orNone(known))})
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func (b *builder) loadZone(n *yaml.Node, what string) *time.Location {
	name, ok := b.text(n, what)
	if !ok {
		return nil
	}
	loc, err := b.zone(name)
	if err != nil || loc == nil {
		b.fail(n.Line, "%s: cannot load %q: %v", what, name, err)
		return nil
	}
	return loc
}

func (b *builder) person(id string, line int, v *yaml.Node) {
	what := fmt.Sprintf("person %q", id)
	o, ok := b.object(v, what, []string{"name", "time_zone", "contact_methods"}, []string{"notification_rules", "slack"})
	if !ok {
		return
	}
	p := &Person{ID: id}
	p.Name, _ = b.text(o.get("name"), what+": name")
	p.Zone = b.loadZone(o.get("time_zone"), what+": time_zone")
	methods := b.items(o.get("contact_methods"), what+": contact_methods")
	if len(methods) == 0 && o.has("contact_methods") {
		b.fail(o.lines["contact_methods"], "%s: at least one contact method is needed", what)
	}
	for _, m := range methods {
		rc, ok := b.receiver(m, what+": contact method")
		if !ok {
			continue
		}
		if slices.ContainsFunc(p.Methods, func(x amconfig.Receiver) bool { return x.Name == rc.Name }) {
			b.fail(m.Line, "%s: contact method %q is defined twice", what, rc.Name)
			continue
		}
		p.Methods = append(p.Methods, rc)
	}
	p.Rules = b.notificationRules(o, p, what)
	if o.has("slack") {
		p.Slack = b.slackUser(o.get("slack"), id, what)
	}
	b.cfg.People[id] = p
}

func (b *builder) notificationRules(o object, p *Person, what string) []NotificationRule {
	if !o.has("notification_rules") {
		all := NotificationRule{}
		for _, m := range p.Methods {
			all.Methods = append(all.Methods, m.Name)
		}
		return []NotificationRule{all}
	}
	var rules []NotificationRule
	for _, n := range b.items(o.get("notification_rules"), what+": notification_rules") {
		ro, ok := b.object(n, what+": notification rule", []string{"after", "contact_methods"}, nil)
		if !ok {
			continue
		}
		after, _ := b.span(ro.get("after"), what+": notification rule: after", 0, 24*time.Hour)
		rule := NotificationRule{After: after}
		for _, m := range b.names(ro.get("contact_methods"), what+": notification rule: contact_methods") {
			if !slices.ContainsFunc(p.Methods, func(x amconfig.Receiver) bool { return x.Name == m.name }) {
				b.fail(m.loc.Line, "%s: no contact method named %q", what, m.name)
			}
			rule.Methods = append(rule.Methods, m.name)
		}
		rules = append(rules, rule)
	}
	slices.SortStableFunc(rules, func(a, b NotificationRule) int { return cmp.Compare(a.After, b.After) })
	return rules
}

var (
	lineRE    = regexp.MustCompile(`line (\d+)`)
	yamlNoise = regexp.MustCompile(`line \d+: | in type \S+`)
	quotedRE  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// receiver decodes n exactly as Alertmanager decodes a receiver in
// alertmanager.yml (unknown keys are errors). Alertmanager's messages can
// quote what was written, so every value of n is blanked out of them:
// a contact method's URLs, keys and tokens are never printed.
func (b *builder) receiver(n *yaml.Node, what string) (amconfig.Receiver, bool) {
	var rc amconfig.Receiver
	n = b.deref(n)
	if n == nil {
		return rc, false
	}
	if n.Kind != yaml.MappingNode {
		b.fail(n.Line, "%s must be a mapping (an Alertmanager receiver), not %s", what, shape(n))
		return rc, false
	}
	n = b.expand(n)
	if n == nil {
		return rc, false
	}
	data, err := yaml.Marshal(n)
	if err == nil {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err = dec.Decode(&rc)
	}
	if err != nil {
		b.fail(n.Line, "%s: %s", what, redact(stripLine(err.Error()), n))
		return rc, false
	}
	if integrations(rc) == 0 {
		b.fail(n.Line, "%s %q has no integration (webhook_configs, email_configs, slack_configs, …)", what, rc.Name)
		return rc, false
	}
	return rc, true
}

// integrations counts the integration configs of a receiver.
func integrations(rc amconfig.Receiver) int {
	v := reflect.ValueOf(rc)
	count := 0
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.Type.Kind() == reflect.Slice && strings.HasSuffix(f.Name, "Configs") {
			count += v.Field(i).Len()
		}
	}
	return count
}

// expand copies n with every alias replaced by what it refers to and no
// anchors, so that it can be re-encoded on its own; nil when the alias
// budget runs out.
func (b *builder) expand(n *yaml.Node) *yaml.Node {
	if n = b.deref(n); n == nil {
		return nil
	}
	c := *n
	c.Anchor, c.Content = "", make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		if c.Content[i] = b.expand(child); c.Content[i] == nil {
			return nil
		}
	}
	return &c
}

// redact blanks out every scalar value written under n from msg.
func redact(msg string, n *yaml.Node) string {
	var values []string
	var walk func(n *yaml.Node, isKey bool)
	walk = func(n *yaml.Node, isKey bool) {
		if n.Kind == yaml.ScalarNode && !isKey && len(n.Value) >= 3 {
			values = append(values, n.Value)
		}
		for i, c := range n.Content {
			walk(c, n.Kind == yaml.MappingNode && i%2 == 0)
		}
	}
	walk(n, false)
	slices.SortFunc(values, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, v := range values {
		msg = strings.ReplaceAll(msg, v, "<redacted>")
	}
	// Parsers quote fragments of what they reject; drop any such fragment.
	return quotedRE.ReplaceAllStringFunc(msg, func(q string) string {
		inner, err := strconv.Unquote(q)
		if err != nil || inner == "" || strings.Contains(inner, "<redacted>") ||
			slices.ContainsFunc(values, func(v string) bool { return strings.Contains(v, inner) }) {
			return `"<redacted>"`
		}
		return q
	})
}

// stripLine removes yaml's own "yaml:" prefix and line numbers from a
// message whose location is reported separately.
func stripLine(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = yamlNoise.ReplaceAllString(msg, "")
	return strings.Join(strings.Fields(msg), " ")
}

// yamlLine is the line a yaml syntax error names, or 0.
func yamlLine(err error) int {
	m := lineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var line int
	fmt.Sscan(m[1], &line)
	return line
}

func (b *builder) team(id string, line int, v *yaml.Node) {
	what := fmt.Sprintf("team %q", id)
	o, ok := b.object(v, what, []string{"members"}, nil)
	if !ok {
		return
	}
	t := &Team{ID: id}
	for _, m := range b.names(o.get("members"), what+": members") {
		t.Members = append(t.Members, m.name)
		b.refer("person", m)
	}
	if len(t.Members) == 0 && o.has("members") {
		b.fail(o.lines["members"], "%s: at least one member is needed", what)
	}
	b.cfg.Teams[id] = t
}
