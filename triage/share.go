package triage

import "github.com/klaxonhq/klaxon/signal"

// maxSharedSets bounds the annotation sets kept for sharing; when full,
// the table starts afresh, so that sets seen once do not stay for ever.
const maxSharedSets = 4096

// sharedSets lets alerts with identical annotations (a rule's fixed
// summary, runbook and dashboard links) hold one set between them rather
// than one each. Sharing is invisible to everything else, since sets are
// immutable; so which set is shared (the table depends on the order alerts
// arrived in, and starts empty after a restart) changes neither decisions
// nor encodings.
type sharedSets struct {
	byKey map[string]signal.Strings
}

// share returns a set equal to m that other alerts may already hold, or m.
func (sh *sharedSets) share(m signal.Strings) signal.Strings {
	if m.IsZero() {
		return m
	}
	if have, ok := sh.byKey[m.Key()]; ok {
		return have
	}
	if sh.byKey == nil || len(sh.byKey) >= maxSharedSets {
		sh.byKey = make(map[string]signal.Strings)
	}
	sh.byKey[m.Key()] = m
	return m
}

// stringsHash hashes a set of names and values as it hashed them when sets
// were maps, independently of order: the sum of FNV-1a over each name, a
// zero byte and its value.
func stringsHash(m signal.Strings) uint64 {
	var sum uint64
	for k, v := range m.All() {
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
