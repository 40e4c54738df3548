package triage

import (
	"hash/fnv"
	"testing"

	"github.com/klaxonhq/klaxon/signal"
)

// stringsHash is the sum of hash/fnv's FNV-1a over each name, a zero byte
// and its value, as alerts' content hashes (in snapshots) have always been.
func TestStringsHashIsFNV(t *testing.T) {
	tests := []signal.Strings{
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
		if got := stringsHash(m); got != want {
			t.Errorf("stringsHash(%v) = %x, want %x", m, got, want)
		}
	}
}

func TestSharedSets(t *testing.T) {
	var sh sharedSets
	first := signal.Strings{"summary": "disk full", "runbook": "r"}
	if got := sh.share(first); !same(got, first) {
		t.Fatal("the first set is not kept as it is")
	}
	tests := []struct {
		name  string
		set   signal.Strings
		share bool
	}{
		{"equal set", signal.Strings{"runbook": "r", "summary": "disk full"}, true},
		{"other value", signal.Strings{"runbook": "r", "summary": "disk fill"}, false},
		{"fewer names", signal.Strings{"summary": "disk full"}, false},
		{"more names", signal.Strings{"runbook": "r", "summary": "disk full", "x": ""}, false},
	}
	for _, tc := range tests {
		got := sh.share(tc.set)
		if same(got, first) != tc.share || !equalStrings(got, tc.set) {
			t.Errorf("%s: shared %v (%v), want shared %v and equal", tc.name, same(got, first), got, tc.share)
		}
	}
	if got := sh.share(nil); got != nil {
		t.Errorf("share(nil) = %v", got)
	}
	for i := range maxSharedSets {
		sh.share(signal.Strings{"n": string(rune('a' + i%26)), "i": string(rune(i))})
	}
	if len(sh.byHash) > maxSharedSets {
		t.Errorf("%d sets kept, want at most %d", len(sh.byHash), maxSharedSets)
	}
}

// same reports whether a and b are the same map, not just equal ones.
func same(a, b signal.Strings) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a["\x00probe"] = "x"
	_, ok := b["\x00probe"]
	delete(a, "\x00probe")
	return ok
}
