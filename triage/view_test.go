package triage

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

// TestSignalJoinedAtIsItsTimeInTheIncident checks that a signal firing
// again after its first incident resolved shows when it joined the new
// incident, beside the earlier first sighting of its identity.
func TestSignalJoinedAtIsItsTimeInTheIncident(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api")
	m.signals(t0, a)
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute)))
	m.tick(t0.Add(time.Minute + rules.Default().Classify(&a).Correlation.QuietPeriod))
	later := t0.Add(3 * time.Hour)
	m.signals(later, alert(signal.StatusFiring, later, "alertname", "X", "service", "api"))

	before, _ := m.s.Get("INC-1", 0, 10)
	if sv := before.Signals; len(sv) != 0 {
		t.Fatalf("INC-1 still shows the signal that moved on: %+v", sv)
	}
	d, ok := m.s.Get("INC-2", 0, 10)
	if !ok || len(d.Signals) != 1 {
		t.Fatalf("INC-2: %v %+v", ok, d.Signals)
	}
	sv := d.Signals[0]
	if !sv.FirstSeen.Equal(t0) || !sv.JoinedAt.Equal(later) || !d.OpenedAt.Equal(later) ||
		sv.Status != signal.StatusFiring || sv.StatusReason != "" {
		t.Errorf("firstSeen %v joinedAt %v opened %v status %s (%s), want %v %v %v firing",
			sv.FirstSeen, sv.JoinedAt, d.OpenedAt, sv.Status, sv.StatusReason, t0, later, later)
	}
}

// TestSignalViewReadsEveryArchivedShape checks the signal views of archived
// incidents, written before format 4 ("firing" beside the delivery's
// status) and since (the effective status), strictly.
func TestSignalViewReadsEveryArchivedShape(t *testing.T) {
	tests := []struct {
		name, json        string
		status, delivered signal.Status
		reason, err       string
	}{
		{"old firing", `{"status":"firing","firing":true}`, signal.StatusFiring, signal.StatusFiring, "", ""},
		{"old resolved", `{"status":"resolved","firing":false}`, signal.StatusResolved, signal.StatusResolved, "", ""},
		{"old expired", `{"status":"firing","firing":false}`, signal.StatusResolved, signal.StatusFiring, StatusExpired, ""},
		{"new firing", `{"status":"firing"}`, signal.StatusFiring, signal.StatusFiring, "", ""},
		{"new resolved", `{"status":"resolved"}`, signal.StatusResolved, signal.StatusResolved, "", ""},
		{"new expired", `{"status":"resolved","statusReason":"expired"}`, signal.StatusResolved, signal.StatusFiring, StatusExpired, ""},
		{"unknown field", `{"status":"firing","fired":true}`, "", "", "", `unknown field "fired"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			version := byte(FormatVersion)
			if strings.HasPrefix(tt.name, "old") {
				version = 3 // the last format with "firing"
			}
			d, err := DecodeArchived(append([]byte{version}, `{"key":"INC-1","signals":[`+tt.json+`]}`...))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sv := d.Signals[0]
			if sv.Status != tt.status || sv.Signal.Status != tt.delivered || sv.StatusReason != tt.reason {
				t.Errorf("status %s, delivered %s, reason %q; want %s, %s, %q",
					sv.Status, sv.Signal.Status, sv.StatusReason, tt.status, tt.delivered, tt.reason)
			}
		})
	}
}
