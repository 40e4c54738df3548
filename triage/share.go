package triage

import "github.com/klaxonhq/klaxon/signal"

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
