package rules

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// maxAliases bounds how many YAML aliases a rule set may dereference, so that
// nested aliases cannot make compilation take exponential time.
const maxAliases = 200

// scope decodes YAML nodes of one file (and, within a severity rule, of one
// rule), reporting problems with that location.
type scope struct {
	c    *compiler
	file string
	rule string
}

// errf records a problem at line.
func (s scope) errf(line int, format string, a ...any) {
	s.c.errs = append(s.c.errs, &Error{File: s.file, Line: line, Rule: s.rule, Msg: fmt.Sprintf(format, a...)})
}

// node follows aliases; it returns nil for a missing node or when the alias
// budget is spent.
func (s scope) node(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		s.c.aliases++
		if s.c.aliases > maxAliases {
			if s.c.aliases == maxAliases+1 {
				s.errf(n.Line, "more than %d YAML aliases", maxAliases)
			}
			return nil
		}
		n = n.Alias
	}
	return n
}

// isNull reports an absent or explicitly null value.
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// mapping calls fn for each key of the mapping n in order. It reports a
// value that is not a mapping, duplicate keys and keys not in allowed (nil
// allows any key). A null value is an empty mapping.
func (s scope) mapping(n *yaml.Node, what string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	n = s.node(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		s.errf(n.Line, "%s must be a mapping, not %s", what, kindName(n))
		return
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := s.node(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			s.errf(k.Line, "%s: keys must be strings", what)
			continue
		}
		key := k.Value
		if k.ShortTag() == "!!merge" {
			s.errf(k.Line, "%s: YAML merge keys (<<) are not supported", what)
			continue
		}
		if first, dup := seen[key]; dup {
			s.errf(k.Line, "%s: duplicate key %q (first at line %d)", what, key, first)
			continue
		}
		seen[key] = k.Line
		if allowed != nil && !slices.Contains(allowed, key) {
			s.errf(k.Line, "%s: unknown key %q (expected one of: %s)", what, key, strings.Join(allowed, ", "))
			continue
		}
		fn(key, k, v)
	}
}

// lookup returns the value of key in mapping n without reporting anything.
func (s scope) lookup(n *yaml.Node, key string) *yaml.Node {
	n = s.node(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// seq returns the items of the sequence n; null is an empty sequence.
func (s scope) seq(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	n = s.node(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		s.errf(n.Line, "%s must be a list, not %s", what, kindName(n))
		return nil, false
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		if it = s.node(it); it != nil {
			items = append(items, it)
		}
	}
	return items, true
}

// str decodes a non-empty scalar as a string.
func (s scope) str(n *yaml.Node, what string) (string, bool) {
	n = s.node(n)
	switch {
	case n == nil:
		return "", false
	case n.Kind != yaml.ScalarNode:
		s.errf(n.Line, "%s must be a string, not %s", what, kindName(n))
		return "", false
	case isNull(n) || strings.TrimSpace(n.Value) == "":
		s.errf(n.Line, "%s must not be empty", what)
		return "", false
	}
	return n.Value, true
}

// strs decodes a list of non-empty strings, reporting duplicates.
func (s scope) strs(n *yaml.Node, what string) []string {
	items, _ := s.seq(n, what)
	out := make([]string, 0, len(items))
	for _, it := range items {
		v, ok := s.str(it, what+" item")
		if !ok {
			continue
		}
		if slices.Contains(out, v) {
			s.errf(it.Line, "%s: %q is listed twice", what, v)
			continue
		}
		out = append(out, v)
	}
	return out
}

// boolean decodes a YAML boolean.
func (s scope) boolean(n *yaml.Node, what string) (bool, bool) {
	n = s.node(n)
	if n == nil {
		return false, false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		s.errf(n.Line, "%s must be true or false, not %s", what, describeNode(n))
		return false, false
	}
	return b, true
}

// integer decodes a YAML integer.
func (s scope) integer(n *yaml.Node, what string) (int64, bool) {
	n = s.node(n)
	if n == nil {
		return 0, false
	}
	var v int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		s.errf(n.Line, "%s must be an integer, not %s", what, describeNode(n))
		return 0, false
	}
	return v, true
}

// number decodes a finite YAML integer or float.
func (s scope) number(n *yaml.Node, what string) (float64, bool) {
	n = s.node(n)
	if n == nil {
		return 0, false
	}
	var v float64
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") ||
		n.Decode(&v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		s.errf(n.Line, "%s must be a number, not %s", what, describeNode(n))
		return 0, false
	}
	return v, true
}

// duration decodes a Prometheus-style duration such as 15m or 1h30m.
func (s scope) duration(n *yaml.Node, what string) (time.Duration, bool) {
	v, ok := s.str(n, what)
	if !ok {
		return 0, false
	}
	d, err := model.ParseDuration(v)
	if err != nil {
		s.errf(n.Line, "%s: invalid duration %q (use e.g. 30s, 15m, 1h30m, 1d)", what, v)
		return 0, false
	}
	return time.Duration(d), true
}

// positiveDuration decodes a duration that must be at least a second.
func (s scope) positiveDuration(n *yaml.Node, what string) (time.Duration, bool) {
	d, ok := s.duration(n, what)
	if ok && d < time.Second {
		s.errf(n.Line, "%s must be at least 1s", what)
		return 0, false
	}
	return d, ok
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// labelNames decodes a list of label names.
func (s scope) labelNames(n *yaml.Node, what string) []string {
	names := s.strs(n, what)
	for _, l := range names {
		if !labelNameRE.MatchString(l) {
			s.errf(n.Line, "%s: %q is not a valid label name", what, l)
		}
	}
	return names
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return "a scalar"
	}
	return "an alias"
}

func describeNode(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return fmt.Sprintf("%q", truncate(n.Value, 40))
	}
	return kindName(n)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
