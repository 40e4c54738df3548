package oncall

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// aliasBudget bounds how many YAML aliases one load follows, so that
// nested aliases cannot make loading take exponential time.
const aliasBudget = 200

// reader walks the YAML nodes of one load, collecting every problem with
// its file and line instead of stopping at the first.
type reader struct {
	file    string
	errs    []*Error
	aliases int
}

// fail records a problem at line of the current file.
func (r *reader) fail(line int, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// deref follows aliases within the budget; nil when the budget is spent.
func (r *reader) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		if r.aliases++; r.aliases > aliasBudget {
			if r.aliases == aliasBudget+1 {
				r.fail(n.Line, "more than %d YAML aliases", aliasBudget)
			}
			return nil
		}
		n = n.Alias
	}
	return n
}

func absent(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// entry is one key of a mapping with its value.
type entry struct {
	key  string
	line int
	val  *yaml.Node
}

// entries returns the keys of mapping n in order, reporting a value that is
// not a mapping, keys that are not strings, merge keys and duplicates.
func (r *reader) entries(n *yaml.Node, what string) []entry {
	n = r.deref(n)
	if absent(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.fail(n.Line, "%s must be a mapping, not %s", what, shape(n))
		return nil
	}
	out := make([]entry, 0, len(n.Content)/2)
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := r.deref(n.Content[i])
		switch {
		case k == nil:
			continue
		case k.Kind != yaml.ScalarNode || absent(k):
			r.fail(k.Line, "%s: keys must be strings", what)
			continue
		case k.ShortTag() == "!!merge":
			r.fail(k.Line, "%s: YAML merge keys (<<) are not supported", what)
			continue
		}
		if at, dup := first[k.Value]; dup {
			r.fail(k.Line, "%s: %q is defined twice (first at line %d)", what, k.Value, at)
			continue
		}
		first[k.Value] = k.Line
		out = append(out, entry{key: k.Value, line: k.Line, val: n.Content[i+1]})
	}
	return out
}

// object is a mapping checked against its schema: known keys only, the
// required ones present.
type object struct {
	line   int
	fields map[string]*yaml.Node
	lines  map[string]int
}

// get returns the value of key, nil when absent.
func (o object) get(key string) *yaml.Node { return o.fields[key] }

// has reports whether key was written with a non-null value.
func (o object) has(key string) bool { return !absent(o.fields[key]) }

// object decodes mapping n whose keys must be among required and optional;
// ok is false when n is not a mapping at all.
func (r *reader) object(n *yaml.Node, what string, required, optional []string) (object, bool) {
	n = r.deref(n)
	o := object{fields: map[string]*yaml.Node{}, lines: map[string]int{}}
	if n == nil {
		return o, false
	}
	o.line = n.Line
	if n.Kind != yaml.MappingNode {
		r.fail(n.Line, "%s must be a mapping, not %s", what, shape(n))
		return o, false
	}
	valid := slices.Concat(required, optional)
	for _, e := range r.entries(n, what) {
		if !slices.Contains(valid, e.key) {
			r.fail(e.line, "%s: unknown key %q (valid keys: %s)", what, e.key, strings.Join(slices.Sorted(slices.Values(valid)), ", "))
			continue
		}
		o.fields[e.key], o.lines[e.key] = e.val, e.line
	}
	for _, k := range required {
		if !o.has(k) {
			r.fail(n.Line, "%s: %s is required", what, k)
		}
	}
	return o, true
}

// items returns the elements of sequence n; null is an empty sequence.
func (r *reader) items(n *yaml.Node, what string) []*yaml.Node {
	n = r.deref(n)
	if absent(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.fail(n.Line, "%s must be a list, not %s", what, shape(n))
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		if it = r.deref(it); it != nil {
			out = append(out, it)
		}
	}
	return out
}

// text decodes a non-empty string scalar.
func (r *reader) text(n *yaml.Node, what string) (string, bool) {
	n = r.deref(n)
	switch {
	case n == nil:
		return "", false
	case n.Kind != yaml.ScalarNode:
		r.fail(n.Line, "%s must be a string, not %s", what, shape(n))
		return "", false
	case absent(n) || strings.TrimSpace(n.Value) == "":
		r.fail(n.Line, "%s must not be empty", what)
		return "", false
	}
	return n.Value, true
}

// ref is a name written somewhere that must name a definition.
type ref struct {
	name string
	loc  Loc
}

// names decodes a list of distinct non-empty strings, with their lines.
func (r *reader) names(n *yaml.Node, what string) []ref {
	var out []ref
	for _, it := range r.items(n, what) {
		v, ok := r.text(it, what+" item")
		if !ok {
			continue
		}
		if slices.ContainsFunc(out, func(x ref) bool { return x.name == v }) {
			r.fail(it.Line, "%s: %q is listed twice", what, v)
			continue
		}
		out = append(out, ref{name: v, loc: Loc{r.file, it.Line}})
	}
	return out
}

// whole decodes an integer within [lo, hi].
func (r *reader) whole(n *yaml.Node, what string, lo, hi int) (int, bool) {
	n = r.deref(n)
	if n == nil {
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || v < lo || v > hi {
		r.fail(n.Line, "%s must be a whole number from %d to %d, not %s", what, lo, hi, quoted(n))
		return 0, false
	}
	return v, true
}

// span decodes a Prometheus-style duration (30s, 15m, 1h30m, 1d) within [lo, hi].
func (r *reader) span(n *yaml.Node, what string, lo, hi time.Duration) (time.Duration, bool) {
	v, ok := r.text(n, what)
	if !ok {
		return 0, false
	}
	d, err := model.ParseDuration(v)
	if err != nil || time.Duration(d) < lo || time.Duration(d) > hi {
		r.fail(n.Line, "%s must be a duration from %s to %s such as 15m or 1h30m, not %q", what, model.Duration(lo), model.Duration(hi), v)
		return 0, false
	}
	return time.Duration(d), true
}

func shape(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case absent(n):
		return "null"
	case n.Kind == yaml.ScalarNode:
		return "a scalar"
	}
	return "an alias"
}

func quoted(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || absent(n) {
		return shape(n)
	}
	v := []rune(n.Value)
	if len(v) > 40 {
		return strconv.Quote(string(v[:40]) + "…")
	}
	return strconv.Quote(n.Value)
}
