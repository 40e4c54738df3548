// Package yamlx decodes the YAML nodes of rule files, reporting every problem
// as an Error located by file and line.
package yamlx

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/rules/yamlsyntax"
)

// maxAliases bounds how many YAML aliases a rule set may dereference, so that
// nested aliases cannot make compilation take exponential time.
const maxAliases = 200

// Error is one problem found in a rule file, located by file and line.
type Error struct {
	File string
	Line int    // 0 when the problem concerns the file as a whole
	Rule string // the severity rule concerned, if any
	Msg  string
}

// Error formats the problem as "file:line: rule "name": message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Join sorts errs by file and line and joins them, dropping exact
// duplicates; it returns nil for none.
func Join(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	out := make([]error, 0, len(errs))
	for i, e := range errs {
		if i > 0 && *errs[i-1] == *e {
			continue
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// Log collects the problems found while compiling one rule set, and counts
// the YAML aliases followed so far.
type Log struct {
	Errs    []*Error
	aliases int
}

// Scope decodes YAML nodes of one file (and, within a severity rule, of one
// rule), reporting problems with that location.
type Scope struct {
	Log  *Log
	File string
	Rule string
}

// Errf records a problem at line.
func (s Scope) Errf(line int, format string, a ...any) {
	s.Log.Errs = append(s.Log.Errs, &Error{File: s.File, Line: line, Rule: s.Rule, Msg: fmt.Sprintf(format, a...)})
}

// Node follows aliases; it returns nil for a missing node or when the alias
// budget is spent.
func (s Scope) Node(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		s.Log.aliases++
		if s.Log.aliases > maxAliases {
			if s.Log.aliases == maxAliases+1 {
				s.Errf(n.Line, "more than %d YAML aliases", maxAliases)
			}
			return nil
		}
		n = n.Alias
	}
	return n
}

// IsNull reports an absent or explicitly null value.
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// Mapping calls fn for each key of the mapping n in order. It reports a
// value that is not a mapping, duplicate keys and keys not in allowed (nil
// allows any key). A null value is an empty mapping.
func (s Scope) Mapping(n *yaml.Node, what string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	n = s.Node(n)
	if IsNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		s.Errf(n.Line, "%s must be a mapping, not %s", what, kindName(n))
		return
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := s.Node(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode || IsNull(k) {
			s.Errf(k.Line, "%s: keys must be strings", what)
			continue
		}
		key := k.Value
		if k.ShortTag() == "!!merge" {
			s.Errf(k.Line, "%s: YAML merge keys (<<) are not supported", what)
			continue
		}
		if first, dup := seen[key]; dup {
			s.Errf(k.Line, "%s: duplicate key %q (first at line %d)", what, key, first)
			continue
		}
		seen[key] = k.Line
		if allowed != nil && !slices.Contains(allowed, key) {
			s.Errf(k.Line, "%s: unknown key %q (expected one of: %s)", what, key, strings.Join(allowed, ", "))
			continue
		}
		fn(key, k, v)
	}
}

// Lookup returns the value of key in mapping n without reporting anything.
func (s Scope) Lookup(n *yaml.Node, key string) *yaml.Node {
	n = s.Node(n)
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

// Seq returns the items of the sequence n; null is an empty sequence.
func (s Scope) Seq(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	n = s.Node(n)
	if IsNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		s.Errf(n.Line, "%s must be a list, not %s", what, kindName(n))
		return nil, false
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		if it = s.Node(it); it != nil {
			items = append(items, it)
		}
	}
	return items, true
}

// Str decodes a non-empty scalar as a string.
func (s Scope) Str(n *yaml.Node, what string) (string, bool) {
	n = s.Node(n)
	switch {
	case n == nil:
		return "", false
	case n.Kind != yaml.ScalarNode:
		s.Errf(n.Line, "%s must be a string, not %s", what, kindName(n))
		return "", false
	case IsNull(n) || strings.TrimSpace(n.Value) == "":
		s.Errf(n.Line, "%s must not be empty", what)
		return "", false
	}
	return n.Value, true
}

// Strs decodes a list of non-empty strings, reporting duplicates.
func (s Scope) Strs(n *yaml.Node, what string) []string {
	items, _ := s.Seq(n, what)
	out := make([]string, 0, len(items))
	for _, it := range items {
		v, ok := s.Str(it, what+" item")
		if !ok {
			continue
		}
		if slices.Contains(out, v) {
			s.Errf(it.Line, "%s: %q is listed twice", what, v)
			continue
		}
		out = append(out, v)
	}
	return out
}

// Boolean decodes a YAML boolean.
func (s Scope) Boolean(n *yaml.Node, what string) (bool, bool) {
	n = s.Node(n)
	if n == nil {
		return false, false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		s.Errf(n.Line, "%s must be true or false, not %s", what, describeNode(n))
		return false, false
	}
	return b, true
}

// Integer decodes a YAML integer.
func (s Scope) Integer(n *yaml.Node, what string) (int64, bool) {
	n = s.Node(n)
	if n == nil {
		return 0, false
	}
	var v int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		s.Errf(n.Line, "%s must be an integer, not %s", what, describeNode(n))
		return 0, false
	}
	return v, true
}

// Number decodes a finite YAML integer or float.
func (s Scope) Number(n *yaml.Node, what string) (float64, bool) {
	n = s.Node(n)
	if n == nil {
		return 0, false
	}
	var v float64
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") ||
		n.Decode(&v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		s.Errf(n.Line, "%s must be a number, not %s", what, describeNode(n))
		return 0, false
	}
	return v, true
}

// Duration decodes a Prometheus-style duration such as 15m or 1h30m.
func (s Scope) Duration(n *yaml.Node, what string) (time.Duration, bool) {
	v, ok := s.Str(n, what)
	if !ok {
		return 0, false
	}
	d, err := model.ParseDuration(v)
	if err != nil {
		s.Errf(n.Line, "%s: invalid duration %q (use e.g. 30s, 15m, 1h30m, 1d)", what, v)
		return 0, false
	}
	return time.Duration(d), true
}

// PositiveDuration decodes a duration that must be at least a second.
func (s Scope) PositiveDuration(n *yaml.Node, what string) (time.Duration, bool) {
	d, ok := s.Duration(n, what)
	if ok && d < time.Second {
		s.Errf(n.Line, "%s must be at least 1s", what)
		return 0, false
	}
	return d, ok
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// LabelNames decodes a list of label names.
func (s Scope) LabelNames(n *yaml.Node, what string) []string {
	names := s.Strs(n, what)
	for _, l := range names {
		if !labelNameRE.MatchString(l) {
			s.Errf(n.Line, "%s: %q is not a valid label name", what, l)
		}
	}
	return names
}

// kindName says what kind of node n is, for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if IsNull(n) {
			return "null"
		}
		return "a scalar"
	}
	return "an alias"
}

// describeNode quotes a scalar (shortened) or names the node's kind.
func describeNode(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && !IsNull(n) {
		return fmt.Sprintf("%q", Truncate(n.Value, 40))
	}
	return kindName(n)
}

// Truncate shortens s to n runes, marking the cut with an ellipsis.
func Truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// SyntaxError reports err, a YAML syntax error found in data, at the line
// at fault.
func (s Scope) SyntaxError(err error, data []byte) {
	line, problem := yamlsyntax.Locate(err, data)
	s.Errf(line, "invalid YAML: %s", problem)
}

// Known formats a hint listing the valid names, for "unknown X" messages.
func Known(names []string) string {
	if len(names) == 0 {
		return " (none are defined)"
	}
	if len(names) > 12 {
		names = append(names[:12:12], "…")
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}
