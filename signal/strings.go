package signal

import (
	"iter"
	"maps"
	"slices"
	"strings"
)

// Strings is an immutable set of named strings: a signal's labels or
// annotations. It is one string holding the pairs sorted by name, each name
// and value preceded by its length (uvarint), as Prometheus' labels package
// keeps a label set: a set of a few labels is one small allocation without
// pointers, where a map costs some 330 bytes and one allocation per string.
// Readers scan it, which for the handful of labels an alert has is as fast
// as a map lookup.
//
// The zero value is the null set, which JSON writes as null; a set built
// from an empty map or an empty JSON object is empty but not null, and is
// written as {}, as encoding/json writes a nil and an empty map.
type Strings struct {
	data string
}

// emptySet is the data of an empty set that is not null: one byte, which
// no encoding of a pair can be (a pair takes two lengths at least).
const emptySet = "\x00"

// pair is one name and its value, for building a set.
type pair struct{ name, value string }

// StringsFrom returns the set holding m's names and values; nil gives the
// null set.
func StringsFrom(m map[string]string) Strings {
	if m == nil {
		return Strings{}
	}
	var arr [16]pair
	pairs := arr[:0]
	for k, v := range m {
		pairs = append(pairs, pair{k, v})
	}
	return fromPairs(pairs)
}

// Builder collects names and values for a Strings. Its zero value is ready
// to use.
type Builder struct {
	pairs []pair
}

// Add adds name with value; of pairs added with the same name, the last
// wins.
func (b *Builder) Add(name, value string) {
	if b.pairs == nil {
		b.pairs = make([]pair, 0, 8) // room for most sets at once
	}
	b.pairs = append(b.pairs, pair{name, value})
}

// AddAll adds every pair of s.
func (b *Builder) AddAll(s Strings) {
	for k, v := range s.All() {
		b.Add(k, v)
	}
}

// Strings returns the set of the pairs added (empty, not null, if none
// were) and empties the builder for reuse.
func (b *Builder) Strings() Strings {
	s := fromPairs(b.pairs)
	clear(b.pairs)
	b.pairs = b.pairs[:0]
	return s
}

// fromPairs encodes pairs, which it sorts in place; of equal names the
// last in pairs wins.
func fromPairs(pairs []pair) Strings {
	slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.name, b.name) })
	size := 0
	for i, p := range pairs {
		if i+1 < len(pairs) && pairs[i+1].name == p.name {
			continue
		}
		size += uvarintLen(len(p.name)) + len(p.name) + uvarintLen(len(p.value)) + len(p.value)
	}
	if size == 0 {
		return Strings{emptySet}
	}
	var sb strings.Builder
	sb.Grow(size)
	for i, p := range pairs {
		if i+1 < len(pairs) && pairs[i+1].name == p.name {
			continue
		}
		writeUvarint(&sb, len(p.name))
		sb.WriteString(p.name)
		writeUvarint(&sb, len(p.value))
		sb.WriteString(p.value)
	}
	return Strings{sb.String()}
}

// pairs returns the encoded pairs: data without the empty-set marker.
func (s Strings) pairs() string {
	if s.data == emptySet {
		return ""
	}
	return s.data
}

// next decodes the pair at the start of data and returns it and the rest.
func next(data string) (name, value, rest string) {
	n, i := readUvarint(data, 0)
	name = data[i : i+n]
	data = data[i+n:]
	n, i = readUvarint(data, 0)
	return name, data[i : i+n], data[i+n:]
}

// All yields the names and values in name order.
func (s Strings) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for rest := s.pairs(); rest != ""; {
			var name, value string
			name, value, rest = next(rest)
			if !yield(name, value) {
				return
			}
		}
	}
}

// Lookup returns the value of name and whether the set holds it.
func (s Strings) Lookup(name string) (string, bool) {
	for rest := s.pairs(); rest != ""; {
		var n, v string
		n, v, rest = next(rest)
		if n == name {
			return v, true
		}
		if n > name {
			break
		}
	}
	return "", false
}

// Get returns the value of name, or "" if the set does not hold it.
func (s Strings) Get(name string) string {
	v, _ := s.Lookup(name)
	return v
}

// Len returns the number of pairs.
func (s Strings) Len() int {
	n := 0
	for rest := s.pairs(); rest != ""; n++ {
		_, _, rest = next(rest)
	}
	return n
}

// IsZero reports whether the set holds no pairs, null or not, so that a
// field tagged omitzero is left out as omitempty leaves out an empty map.
func (s Strings) IsZero() bool { return s.pairs() == "" }

// IsNull reports whether s is the null set, the zero value.
func (s Strings) IsNull() bool { return s.data == "" }

// Equal reports whether s and t hold the same pairs; null and empty sets
// are equal, as a nil and an empty map are for maps.Equal.
func (s Strings) Equal(t Strings) bool { return s.pairs() == t.pairs() }

// Key returns the encoded set: equal sets have equal keys, null and empty
// included, and the key shares the set's memory. It is for using sets as
// map keys.
func (s Strings) Key() string { return s.pairs() }

// Map returns the set as a new map: nil for the null set.
func (s Strings) Map() map[string]string {
	if s.IsNull() {
		return nil
	}
	return maps.Collect(s.All())
}

// Without returns the set without the pairs for which drop is true.
func (s Strings) Without(drop func(name, value string) bool) Strings {
	keep := true
	for k, v := range s.All() {
		if drop(k, v) {
			keep = false
			break
		}
	}
	if keep {
		return s
	}
	var b Builder
	for k, v := range s.All() {
		if !drop(k, v) {
			b.Add(k, v)
		}
	}
	return b.Strings()
}

// String formats the set as fmt formats a map: map[name:value ...].
func (s Strings) String() string {
	var b strings.Builder
	b.WriteString("map[")
	first := true
	for k, v := range s.All() {
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(v)
	}
	b.WriteByte(']')
	return b.String()
}

// uvarintLen returns how many bytes n takes as a uvarint.
func uvarintLen(n int) int {
	size := 1
	for ; n >= 0x80; n >>= 7 {
		size++
	}
	return size
}

// writeUvarint writes n as a uvarint.
func writeUvarint(sb *strings.Builder, n int) {
	for ; n >= 0x80; n >>= 7 {
		sb.WriteByte(byte(n) | 0x80)
	}
	sb.WriteByte(byte(n))
}

// readUvarint decodes the uvarint at data[i] and returns it and the index
// after it.
func readUvarint(data string, i int) (int, int) {
	b := data[i]
	i++
	if b < 0x80 {
		return int(b), i
	}
	n := int(b & 0x7f)
	for shift := uint(7); ; shift += 7 {
		b = data[i]
		i++
		n |= int(b&0x7f) << shift
		if b < 0x80 {
			return n, i
		}
	}
}
