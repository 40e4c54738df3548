package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/rules/yamlsyntax"
)

// Error is a problem with one key of a configuration file, located by file,
// line and key path.
type Error struct {
	File string // the file as named to Load or Parse
	Line int    // 1-based; 0 when the problem has no line (an unreadable file)
	Key  string // key path such as auth.admin[0].token_file; empty for the whole document
	Err  error  // what is wrong
}

// Error formats the problem as "file:line: key: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap gives the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// pos is where a value sits in the document: its key path and the line
// errors about it point at.
type pos struct {
	path string
	line int
}

// key is the position of the mapping key k, found on line.
func (p pos) key(k string, line int) pos {
	if p.path == "" {
		return pos{path: k, line: line}
	}
	return pos{path: p.path + "." + k, line: line}
}

// index is the position of the i-th sequence element, found on line.
func (p pos) index(i, line int) pos {
	return pos{path: p.path + "[" + strconv.Itoa(i) + "]", line: line}
}

// decoder turns a yaml.Node tree into Go values strictly: unknown keys,
// duplicate keys and ill-typed values are errors naming file, line and key.
// Struct fields are matched by their yaml tag; a struct whose pointer has a
// check method is validated as soon as it is decoded.
type decoder struct {
	file     string // the file name in messages
	dir      string // the directory relative paths are resolved against
	warnings []string
}

// nodeUnmarshaler is implemented by types that decode themselves.
type nodeUnmarshaler interface {
	unmarshalNode(d *decoder, n *yaml.Node, p pos) error
}

// checker is implemented by structs that validate (and complete) themselves
// once their keys are decoded; m gives the keys' positions.
type checker interface {
	check(m *mapping) error
}

// mapping is a decoded struct's view of its YAML mapping, for checks.
type mapping struct {
	d      *decoder
	pos    pos
	keys   map[string]*yaml.Node
	values map[string]*yaml.Node
}

// at is the position of key k: its own line when present, the mapping's
// otherwise.
func (m *mapping) at(k string) pos {
	if n, ok := m.keys[k]; ok {
		return m.pos.key(k, n.Line)
	}
	return m.pos.key(k, m.pos.line)
}

// elemAt is the position of the i-th element of the sequence under key k.
func (m *mapping) elemAt(k string, i int) pos {
	p := m.at(k)
	if n := resolveAlias(m.values[k]); n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return p.index(i, n.Content[i].Line)
	}
	return p.index(i, p.line)
}

// errorf is an *Error for key k of the mapping.
func (m *mapping) errorf(k, format string, args ...any) error {
	return m.d.errorf(m.at(k), format, args...)
}

// has reports whether key k is present in the mapping.
func (m *mapping) has(k string) bool {
	_, ok := m.keys[k]
	return ok
}

// errorf is an *Error at p.
func (d *decoder) errorf(p pos, format string, args ...any) error {
	return &Error{File: d.file, Line: p.line, Key: p.path, Err: fmt.Errorf(format, args...)}
}

// warnf records a warning about the value at p.
func (d *decoder) warnf(p pos, format string, args ...any) {
	d.warnings = append(d.warnings, fmt.Sprintf("%s:%d: %s: %s", d.file, p.line, p.path, fmt.Sprintf(format, args...)))
}

// resolve makes a relative path relative to the configuration's directory.
func (d *decoder) resolve(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(d.dir, path)
}

// syntaxError turns a yaml.v3 parse error in data into an *Error on the
// line at fault.
func (d *decoder) syntaxError(err error, data []byte) error {
	line, problem := yamlsyntax.Locate(err, data)
	if line == 0 {
		return &Error{File: d.file, Err: err}
	}
	return &Error{File: d.file, Line: line, Err: errors.New(problem)}
}

// document decodes the single YAML document in data into v, a pointer to a
// struct already holding its defaults.
func (d *decoder) document(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return d.syntaxError(err, data)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return &Error{File: d.file, Line: extra.Line, Err: errors.New("a configuration file holds one YAML document, this is a second one")}
	case !errors.Is(err, io.EOF):
		return d.syntaxError(err, data)
	}
	n := nullNode(0)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		n = resolveAlias(root.Content[0])
	}
	if n.Kind != yaml.MappingNode && !isNull(n) {
		return &Error{File: d.file, Line: n.Line, Err: fmt.Errorf("want a mapping of keys, got %s", kindName(n))}
	}
	return d.decode(reflect.ValueOf(v).Elem(), n, pos{})
}

// nullNode stands for an absent value on line.
func nullNode(line int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: line}
}

// isNull reports whether n is an explicit or implied null, which leaves the
// value it would decode into as it is (its default).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// resolveAlias follows alias nodes to the node they name.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// kindName describes a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	unmarshalerT = reflect.TypeFor[nodeUnmarshaler]()
	checkerT     = reflect.TypeFor[checker]()
)

// decode decodes n into v, which must be addressable.
func (d *decoder) decode(v reflect.Value, n *yaml.Node, p pos) error {
	n = resolveAlias(n)
	if n == nil {
		return d.errorf(p, "unresolved alias")
	}
	if v.Addr().Type().Implements(unmarshalerT) {
		return v.Addr().Interface().(nodeUnmarshaler).unmarshalNode(d, n, p)
	}
	if v.Kind() == reflect.Struct {
		return d.decodeStruct(v, n, p)
	}
	if isNull(n) {
		return nil
	}
	if v.Type() == durationType {
		return d.decodeDuration(v, n, p)
	}
	switch v.Kind() {
	case reflect.Slice:
		return d.decodeSlice(v, n, p)
	case reflect.String:
		s, err := scalar(n)
		if err != nil {
			return d.errorf(p, "want a string, got %s", kindName(n))
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			return d.errorf(p, "want true or false, got %s", kindName(n))
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			return d.errorf(p, "want an integer, got %s", kindName(n))
		}
		v.SetInt(i)
		return nil
	case reflect.Uint64:
		var u uint64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&u) != nil {
			return d.errorf(p, "want a non-negative integer, got %s", kindName(n))
		}
		v.SetUint(u)
		return nil
	}
	return d.errorf(p, "cannot decode into Go type %s", v.Type())
}

// scalar is the text of a scalar node.
func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("want a scalar, got %s", kindName(n))
	}
	return n.Value, nil
}

// decodeDuration accepts Go durations ("1.5s", "250ms") and Prometheus ones
// ("1d", "1h30m").
func (d *decoder) decodeDuration(v reflect.Value, n *yaml.Node, p pos) error {
	s, err := scalar(n)
	if err != nil {
		return d.errorf(p, "want a duration, got %s", kindName(n))
	}
	dur, goErr := time.ParseDuration(s)
	if goErr != nil {
		md, promErr := model.ParseDuration(s)
		if promErr != nil {
			return d.errorf(p, "want a duration such as 30s or 1h30m, got %q", s)
		}
		dur = time.Duration(md)
	}
	v.SetInt(int64(dur))
	return nil
}

// decodeSlice decodes a sequence element by element.
func (d *decoder) decodeSlice(v reflect.Value, n *yaml.Node, p pos) error {
	if n.Kind != yaml.SequenceNode {
		return d.errorf(p, "want a list, got %s", kindName(n))
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, el := range n.Content {
		if err := d.decode(s.Index(i), el, p.index(i, el.Line)); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

// decodeStruct decodes a mapping into a struct's tagged fields, runs the
// struct's own check, then decodes its absent struct fields from null so
// that their checks run too (a check sees those at their defaults).
func (d *decoder) decodeStruct(v reflect.Value, n *yaml.Node, p pos) error {
	t := v.Type()
	m := &mapping{d: d, pos: p, keys: map[string]*yaml.Node{}, values: map[string]*yaml.Node{}}
	switch {
	case isNull(n):
	case n.Kind != yaml.MappingNode:
		return d.errorf(p, "want a mapping, got %s", kindName(n))
	default:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return d.errorf(pos{path: p.path, line: k.Line}, "keys must be strings, got %s", kindName(k))
			}
			kp := p.key(k.Value, k.Line)
			if first, dup := m.keys[k.Value]; dup {
				return d.errorf(kp, "key repeated (first on line %d)", first.Line)
			}
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				return d.errorf(kp, "unknown key (expected one of: %s)", strings.Join(keysOf(t), ", "))
			}
			m.keys[k.Value], m.values[k.Value] = k, val
			if err := d.decode(v.Field(f), val, kp); err != nil {
				return err
			}
		}
	}
	if v.Addr().Type().Implements(checkerT) {
		if err := v.Addr().Interface().(checker).check(m); err != nil {
			return err
		}
	}
	for i := range t.NumField() {
		key, ok := yamlKey(t.Field(i))
		if !ok || m.has(key) || t.Field(i).Type.Kind() != reflect.Struct {
			continue
		}
		if err := d.decode(v.Field(i), nullNode(p.line), m.at(key)); err != nil {
			return err
		}
	}
	return nil
}

// fieldByKey finds the index of the field of t tagged with key.
func fieldByKey(t reflect.Type, key string) (int, bool) {
	for i := range t.NumField() {
		if k, ok := yamlKey(t.Field(i)); ok && k == key {
			return i, true
		}
	}
	return 0, false
}

// keysOf lists the keys a mapping decoded into the struct type t accepts, in
// field order, for messages.
func keysOf(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if k, ok := yamlKey(t.Field(i)); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// yamlKey is the key a struct field is decoded from; fields without a yaml
// tag, or tagged "-", are not decoded.
func yamlKey(f reflect.StructField) (string, bool) {
	tag, ok := f.Tag.Lookup("yaml")
	if !ok || !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" || name == "-" {
		return "", false
	}
	return name, true
}
