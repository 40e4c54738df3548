package triage

import (
	"maps"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// longAfter is well past the time a resolved incident's alert records are
// kept for.
const longAfter = 30 * 24 * time.Hour

// scanHeld counts the firing alerts the state holds the slow way.
func scanHeld(s *State) Held {
	h := Held{BySource: map[signal.Source]int{}}
	for _, a := range s.alerts {
		if !a.Firing {
			continue
		}
		h.Total++
		h.BySource[a.Signal.Source]++
	}
	return h
}

func checkHeld(t *testing.T, what string, s *State) {
	t.Helper()
	got, want := s.Held(), scanHeld(s)
	if got.Total != want.Total || !maps.Equal(got.BySource, want.BySource) {
		t.Errorf("%s: held %+v, the alerts say %+v", what, got, want)
	}
}

// TestHeldFollowsTheAlerts checks the incremental counts against a scan
// after a random history, after pruning and after a restore.
func TestHeldFollowsTheAlerts(t *testing.T) {
	for seed := range int64(5) {
		m := randomHistory(t, seed)
		checkHeld(t, "after the history", m.s)
		if m.s.Held().Total == 0 {
			t.Fatalf("seed %d: the history holds no alerts", seed)
		}
		checkHeld(t, "restored", restoredCopy(t, m))
		m.tick(m.s.now.Add(longAfter))
		checkHeld(t, "after pruning", m.s)
	}
}

// TestHeldMovesWithTheSource checks that an alert re-sent through another
// source counts for that source, and that pruning releases it there.
func TestHeldMovesWithTheSource(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api")
	b := firing("alertname", "Y", "service", "api")
	m.signals(t0, a, b)
	want := Held{Total: 2, BySource: map[signal.Source]int{signal.SourceAlertmanager: 2}}
	if got := m.s.Held(); got.Total != want.Total || !maps.Equal(got.BySource, want.BySource) {
		t.Fatalf("held %+v, want %+v", got, want)
	}
	a.Source = signal.SourcePrometheus
	a.EndsAt = t0.Add(time.Hour)
	m.signals(t0.Add(time.Minute), a)
	checkHeld(t, "moved", m.s)
	if got := m.s.Held().BySource; got[signal.SourcePrometheus] != 1 || got[signal.SourceAlertmanager] != 1 {
		t.Fatalf("after the move: %v", got)
	}
	m.signals(t0.Add(2*time.Minute), resolved(a, t0.Add(2*time.Minute)), resolved(b, t0.Add(2*time.Minute)))
	m.tick(t0.Add(longAfter))
	if got := m.s.Held(); got.Total != 0 || len(got.BySource) != 0 {
		t.Fatalf("after pruning: %+v", got)
	}
}

// TestAdmissionCountsOnlyNewFiringAlerts checks what a batch would add.
func TestAdmissionCountsOnlyNewFiringAlerts(t *testing.T) {
	m := newMachine(t, nil)
	known := firing("alertname", "Known", "service", "api")
	m.signals(t0, known)
	fresh := firing("alertname", "New", "service", "api")
	prom := firing("alertname", "Prom", "service", "api")
	prom.Source = signal.SourcePrometheus
	expired := firing("alertname", "Expired", "service", "api")
	expired.EndsAt = t0.Add(-time.Second)
	tests := []struct {
		name  string
		sigs  []signal.Signal
		added int
		after Held
	}{
		{"nothing", nil, 0, Held{Total: 1}},
		{"re-send of a known alert", []signal.Signal{known}, 0, Held{Total: 1}},
		{"resolve of a known alert", []signal.Signal{resolved(known, t0)}, 0, Held{Total: 1}},
		{"resolve of an unknown alert", []signal.Signal{resolved(fresh, t0)}, 0, Held{Total: 1}},
		{"firing but already ended", []signal.Signal{expired}, 0, Held{Total: 1}},
		{"new, twice in the batch", []signal.Signal{fresh, known, fresh}, 1,
			Held{Total: 2, BySource: map[signal.Source]int{signal.SourceAlertmanager: 2}}},
		{"new from two sources", []signal.Signal{fresh, prom}, 2,
			Held{Total: 3, BySource: map[signal.Source]int{signal.SourceAlertmanager: 2, signal.SourcePrometheus: 1}}},
	}
	for _, tt := range tests {
		adm := m.s.Admission(tt.sigs)
		if adm.Added != tt.added || adm.After.Total != tt.after.Total || !maps.Equal(adm.After.BySource, tt.after.BySource) {
			t.Errorf("%s: %+v, want added %d after %+v", tt.name, adm, tt.added, tt.after)
		}
	}
	checkHeld(t, "after asking", m.s)

	// Once it resolved, a known alert frees its place: a storm that is over
	// keeps nothing out, and its re-fire counts as new again.
	m.signals(t0.Add(time.Minute), resolved(known, t0.Add(time.Minute)))
	if h := m.s.Held(); h.Total != 0 {
		t.Fatalf("a resolved alert still counts: %+v", h)
	}
	refire := known
	refire.StartsAt = t0.Add(2 * time.Minute)
	if adm := m.s.Admission([]signal.Signal{refire}); adm.Added != 1 {
		t.Errorf("re-fire of a resolved alert: %+v, want it counted", adm)
	}
}

// TestRestoreWithRepeatedIDs restores snapshots whose alert chunks repeat
// (an ID twice, the later copy winning), binary and as format 8 wrote them
// (JSON): every alert is derived once, so the counts are those of the
// snapshot without the repeat.
func TestRestoreWithRepeatedIDs(t *testing.T) {
	m := randomHistory(t, 3)
	expires := firing("alertname", "Expiring", "service", "api")
	expires.EndsAt = m.s.now.Add(time.Hour)
	m.signals(m.s.now, expires)
	current := snapshotOf(t, m.s)
	for name, encode := range map[string]func(*snapshot) ([]byte, error){
		"binary": encodeSnapshot,
		"json":   func(s *snapshot) ([]byte, error) { return appendJSON([]byte{binaryAlertsVersion - 1}, s) },
	} {
		var snap snapshot
		data := current
		if name == "json" {
			data = legacySnapshot(t, current)
		}
		if err := decodeSnapshot(data, &snap); err != nil {
			t.Fatal(err)
		}
		if len(snap.Alerts) == 0 {
			t.Fatal("the history's snapshot holds no alerts")
		}
		snap.Alerts = append(snap.Alerts, snap.Alerts[0])
		data, err := encode(&snap)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { checkRestoredOnce(t, m, data) })
	}
}

// checkRestoredOnce restores data, m's snapshot with a chunk repeated, and
// checks that every alert of it counted once.
func checkRestoredOnce(t *testing.T, m *machine, data []byte) {
	r := New(nil)
	if err := r.Restore(data); err != nil {
		t.Fatal(err)
	}
	checkHeld(t, "restored with a repeated chunk", r)
	expiring := 0
	for id, a := range r.alerts {
		if !a.Firing || a.Signal.EndsAt.IsZero() {
			continue
		}
		expiring++
		if a.expiryPos == 0 || r.expiries.items[a.expiryPos-1] != a {
			t.Errorf("alert %s, firing until %s, is not in the expiry heap", id, a.Signal.EndsAt)
		}
	}
	if expiring == 0 {
		t.Fatal("the history holds no alert that expires")
	}
	want := restoredCopy(t, m)
	for key, inc := range want.incidents {
		if got := r.incidents[key]; got.firing != inc.firing || len(got.instances) != len(inc.instances) {
			t.Errorf("%s: %d firing alerts over %d instances, want %d over %d",
				key, got.firing, len(got.instances), inc.firing, len(inc.instances))
		}
	}
}
