package triage

import (
	"encoding/binary"

	"github.com/klaxonhq/klaxon/signal"
)

// maxSharedSets bounds the annotation sets kept for sharing; when full,
// the table starts afresh, so that sets seen once do not stay for ever.
const maxSharedSets = 4096

// sharedSets lets alerts with identical annotations (a rule's fixed
// summary, runbook and dashboard links) hold one map between them rather
// than one each: a map of a few strings costs some 330 bytes whatever it
// holds. Sharing is invisible to everything else, since signals are never
// modified once journaled; so which set is shared (the table depends on
// the order alerts arrived in, and starts empty after a restart) changes
// neither decisions nor encodings.
type sharedSets struct {
	byHash map[uint64]signal.Strings
}

// share returns a map equal to m that other alerts may already hold, or m.
func (sh *sharedSets) share(m signal.Strings) signal.Strings {
	if len(m) == 0 {
		return m
	}
	return sh.shareHashed(m, stringsHash(m))
}

// shareHashed is share given m's stringsHash h.
func (sh *sharedSets) shareHashed(m signal.Strings, h uint64) signal.Strings {
	if len(m) == 0 {
		return m
	}
	if have, ok := sh.byHash[h]; ok && equalStrings(have, m) {
		return have
	}
	if sh.byHash == nil || len(sh.byHash) >= maxSharedSets {
		sh.byHash = make(map[uint64]signal.Strings)
	}
	sh.byHash[h] = m
	return m
}

func equalStrings(a, b signal.Strings) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// stringsHash hashes a set of names and values independently of order: the
// sum of FNV-1a over each name, a zero byte and its value.
func stringsHash(m signal.Strings) uint64 {
	var sum uint64
	for k, v := range m {
		h := fnvString(fnvOffset, k) * fnvPrime // then the zero byte
		sum += fnvString(h, v)
	}
	return sum
}

// FNV-1a, 64 bits (as hash/fnv's New64a, without its allocation).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// hitSets lets alerts that match the same matchers hold one list of the
// matchers' indexes between them. Like sharedSets it is bounded and
// invisible: lists are never modified, and equal lists are interchangeable.
type hitSets struct {
	byKey map[string]*[]int
}

// share returns a list equal to hits that other alerts may already hold;
// nil when hits is empty.
func (hs *hitSets) share(hits []int) *[]int {
	if len(hits) == 0 {
		return nil
	}
	var buf [64]byte
	key := buf[:0]
	for _, i := range hits {
		key = binary.AppendUvarint(key, uint64(i))
	}
	if have, ok := hs.byKey[string(key)]; ok {
		return have
	}
	if hs.byKey == nil || len(hs.byKey) >= maxSharedSets {
		hs.byKey = make(map[string]*[]int)
	}
	list := hits
	hs.byKey[string(key)] = &list
	return &list
}

// sharedText lets alerts hold one copy of a string many of them carry (a
// rule's generatorURL), bounded and invisible as sharedSets is.
type sharedText struct {
	byValue map[string]string
}

// share returns a string equal to v that other alerts may already hold, or v.
func (st *sharedText) share(v string) string {
	if v == "" {
		return v
	}
	if have, ok := st.byValue[v]; ok {
		return have
	}
	if st.byValue == nil || len(st.byValue) >= maxSharedSets {
		st.byValue = make(map[string]string)
	}
	st.byValue[v] = v
	return v
}
