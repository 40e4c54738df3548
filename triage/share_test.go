package triage

import (
	"hash/fnv"
	"testing"
	"unsafe"

	"github.com/klaxonhq/klaxon/signal"
)

// stringsHash is the sum of hash/fnv's FNV-1a over each name, a zero byte
// and its value, as alerts' content hashes (in snapshots) have always been.
func TestStringsHashIsFNV(t *testing.T) {
	tests := []map[string]string{
		nil,
		{"summary": "disk full"},
		{"summary": "disk full", "runbook_url": "https://runbooks.invalid/disk", "": ""},
		{"ünïcode": "välue\x00with zero"},
	}
	for _, m := range tests {
		var want uint64
		for k, v := range m {
			h := fnv.New64a()
			h.Write([]byte(k))
			h.Write([]byte{0})
			h.Write([]byte(v))
			want += h.Sum64()
		}
		if got := stringsHash(signal.StringsFrom(m)); got != want {
			t.Errorf("stringsHash(%v) = %x, want %x", m, got, want)
		}
	}
}

func TestSharedSets(t *testing.T) {
	var sh sharedSets
	first := signal.StringsFrom(map[string]string{"summary": "disk full", "runbook": "r"})
	if got := sh.share(first); !same(got, first) {
		t.Fatal("the first set is not kept as it is")
	}
	tests := []struct {
		name  string
		set   map[string]string
		share bool
	}{
		{"equal set", map[string]string{"runbook": "r", "summary": "disk full"}, true},
		{"other value", map[string]string{"runbook": "r", "summary": "disk fill"}, false},
		{"fewer names", map[string]string{"summary": "disk full"}, false},
		{"more names", map[string]string{"runbook": "r", "summary": "disk full", "x": ""}, false},
	}
	for _, tc := range tests {
		set := signal.StringsFrom(tc.set)
		got := sh.share(set)
		if same(got, first) != tc.share || !got.Equal(set) {
			t.Errorf("%s: shared %v (%v), want shared %v and equal", tc.name, same(got, first), got, tc.share)
		}
	}
	if got := sh.share(signal.Strings{}); !got.IsNull() {
		t.Errorf("share of the null set = %v", got)
	}
	for i := range maxSharedSets {
		sh.share(signal.StringsFrom(map[string]string{"n": string(rune('a' + i%26)), "i": string(rune(i))}))
	}
	if len(sh.byKey) > maxSharedSets {
		t.Errorf("%d sets kept, want at most %d", len(sh.byKey), maxSharedSets)
	}
}

// same reports whether a and b hold the same memory, not just equal sets.
func same(a, b signal.Strings) bool {
	ka, kb := a.Key(), b.Key()
	return len(ka) > 0 && len(ka) == len(kb) && unsafe.StringData(ka) == unsafe.StringData(kb)
}
