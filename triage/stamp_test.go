package triage

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/klaxonhq/klaxon/signal"
)

// A stamp gives back the UTC instant it was made of and encodes as that
// time.Time does, so that snapshots keep their bytes.
func TestStampIsTheTime(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
	}{
		{"zero", time.Time{}},
		{"second", t0},
		{"nanoseconds", t0.Add(123456789)},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)},
		{"far ahead", time.Date(2200, 1, 1, 0, 0, 0, 1, time.UTC)},
	}
	for _, tc := range tests {
		s := stampOf(tc.at)
		if got := s.Time(); got != tc.at || s.IsZero() != tc.at.IsZero() {
			t.Errorf("%s: stamp of %v gives %v (zero %v)", tc.name, tc.at, got, s.IsZero())
		}
		want, _ := json.Marshal(tc.at)
		got, err := json.Marshal(s)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: JSON %s (%v), want %s", tc.name, got, err, want)
		}
		var back stamp
		if err := json.Unmarshal(want, &back); err != nil || back != s {
			t.Errorf("%s: decoding %s gives %v (%v), want %v", tc.name, want, back, err, s)
		}
	}
}

// Alerts with equal matcher hits hold one list; an empty list is nil.
func TestHitSets(t *testing.T) {
	var hs hitSets
	first := hs.share([]int{1, 300, 7})
	tests := []struct {
		name  string
		hits  []int
		share bool
	}{
		{"equal", []int{1, 300, 7}, true},
		{"other", []int{1, 300, 8}, false},
		{"prefix", []int{1, 300}, false},
	}
	for _, tc := range tests {
		got := hs.share(tc.hits)
		if (got == first) != tc.share || !slices.Equal(*got, tc.hits) {
			t.Errorf("%s: shared %v (%v), want shared %v and equal", tc.name, got == first, *got, tc.share)
		}
	}
	if got := hs.share(nil); got != nil {
		t.Errorf("share(nil) = %v", *got)
	}
}

// A live alert holds its fingerprint as the tail of its ID, the string
// the alerts map is keyed by, and shares its link with alerts that carry
// the same one; so does a restored alert.
func TestAlertsShareTheirStrings(t *testing.T) {
	m := newMachine(t, nil)
	sigs := []signal.Signal{firing("alertname", "A", "instance", "1"), firing("alertname", "A", "instance", "2")}
	for i := range sigs {
		sigs[i].Link = string([]byte("http://prometheus.invalid/graph"))
	}
	m.signals(t0, sigs...)
	check := func(s *State) {
		t.Helper()
		var links []string
		for id, a := range s.alerts {
			fp := a.Signal.Fingerprint
			if unsafe.StringData(fp) != unsafe.StringData(id[len(id)-len(fp):]) {
				t.Errorf("%s: fingerprint is a copy of its ID's", id)
			}
			links = append(links, a.Signal.Link)
		}
		if len(links) != 2 || unsafe.StringData(links[0]) != unsafe.StringData(links[1]) {
			t.Errorf("links %q are not one string", links)
		}
	}
	check(m.s)
	check(restoredCopy(t, m))
}
