package triage

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// machine feeds a State through the Driver, as the engine appends live,
// and keeps the records as the journal would hold them.
type machine struct {
	t   *testing.T
	s   *State
	d   *Driver
	log []journal.Record
}

func newMachine(t *testing.T, rs *rules.Set) *machine {
	m := &machine{t: t, s: New(rs)}
	m.d = NewDriver(m.s)
	m.d.Live = true
	m.d.OnRecord = func(rec journal.Record) { m.log = append(m.log, rec) }
	return m
}

func (m *machine) apply(at time.Time, e *Entry) *Result {
	m.t.Helper()
	res, err := m.d.Append(at, e)
	if err != nil {
		m.t.Fatal(err)
	}
	return res
}

func (m *machine) signals(at time.Time, sigs ...signal.Signal) *Result {
	return m.apply(at, &Entry{Signals: sigs})
}

// tick appends a Tick for every timer due by at, as the engine's loop does.
func (m *machine) tick(at time.Time) {
	m.t.Helper()
	if err := m.d.Advance(at); err != nil {
		m.t.Fatal(err)
	}
}

func (m *machine) act(at time.Time, a Action) error {
	return m.apply(at, &Entry{Action: &a}).Err
}

func alert(status signal.Status, startsAt time.Time, kv ...string) signal.Signal {
	var b signal.Builder
	for i := 0; i < len(kv); i += 2 {
		b.Add(kv[i], kv[i+1])
	}
	labels := b.Strings()
	return signal.Signal{
		Source: signal.SourceAlertmanager, Kind: signal.KindAlert,
		Fingerprint: signal.Fingerprint(labels), Status: status,
		Labels: labels, StartsAt: startsAt,
	}
}

func firing(kv ...string) signal.Signal { return alert(signal.StatusFiring, t0, kv...) }

func resolved(s signal.Signal, at time.Time) signal.Signal {
	s.Status, s.EndsAt = signal.StatusResolved, at
	return s
}

func (m *machine) list(status string) []Summary {
	out, _ := m.s.List(Filter{Status: status, Limit: 1000})
	return out
}

func TestStormIsOneIncident(t *testing.T) {
	m := newMachine(t, nil)
	var batch []signal.Signal
	for i := range 5000 {
		batch = append(batch, firing("alertname", "HighLatency", "service", "checkout", "instance", fmt.Sprintf("pod-%d", i)))
		if len(batch) == 100 {
			m.signals(t0.Add(time.Duration(i)*time.Millisecond), batch...)
			batch = nil
		}
	}
	m.signals(t0.Add(10*time.Second), firing("alertname", "DiskFull", "service", "search"))
	got := m.list("open")
	if len(got) != 2 {
		t.Fatalf("open incidents = %d, want 2", len(got))
	}
	if got[1].Key != "INC-1" || got[1].Alerts.Firing != 5000 || got[1].Service != "checkout" {
		t.Errorf("storm incident = %+v", got[1])
	}
	if got[0].Key != "INC-2" || got[0].GroupKey != "service=search" {
		t.Errorf("second incident = %+v", got[0])
	}
	d, _ := m.s.Get("INC-1", 0, 10)
	if len(d.Timeline) > maxAlertEvents+5 || d.AlertEventsOmitted != 5000-maxAlertEvents || len(d.Signals) != 10 || d.SignalsTotal != 5000 {
		t.Errorf("storm timeline: %d events, %d omitted, %d of %d signals", len(d.Timeline), d.AlertEventsOmitted, len(d.Signals), d.SignalsTotal)
	}
}

func TestGroupingFallsBackToAlertname(t *testing.T) {
	m := newMachine(t, nil)
	m.signals(t0, firing("alertname", "Watchdog", "job", "a"), firing("alertname", "Watchdog", "job", "b"))
	got := m.list("")
	if len(got) != 1 || got[0].GroupKey != "alertname=Watchdog" || got[0].Alerts.Total != 2 {
		t.Fatalf("incidents = %+v", got)
	}
}

func TestDuplicateDeliveryChangesNothing(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api")
	if r := m.signals(t0, a); r.Accepted != 1 || r.Duplicates != 0 {
		t.Fatalf("first = %+v", r)
	}
	if r := m.signals(t0.Add(time.Second), a, a); r.Accepted != 0 || r.Duplicates != 2 {
		t.Fatalf("again = %+v", r)
	}
	d, _ := m.s.Get("INC-1", 0, 10)
	if len(d.Timeline) != 3 { // opened, alert firing, severity
		t.Errorf("timeline grew on duplicates: %+v", d.Timeline)
	}
	if len(m.list("")) != 1 {
		t.Error("duplicate opened an incident")
	}
}

func TestAutoResolveAfterQuietPeriod(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api")
	m.signals(t0, a)
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute)))
	quiet := rules.Default().Classify(&a).Correlation.QuietPeriod
	m.tick(t0.Add(time.Minute + quiet - time.Second))
	if got := m.list("open"); len(got) != 1 {
		t.Fatalf("resolved before the quiet period ended: %+v", got)
	}
	m.tick(t0.Add(time.Minute + quiet))
	d, _ := m.s.Get("INC-1", 0, 10)
	if d.Status != StatusResolved || !d.ResolvedAt.Equal(t0.Add(time.Minute+quiet)) {
		t.Fatalf("after quiet period: status %s resolvedAt %v", d.Status, d.ResolvedAt)
	}
	// The same alert firing again is a new occurrence and a new incident.
	again := alert(signal.StatusFiring, t0.Add(time.Hour), "alertname", "X", "service", "api")
	m.signals(t0.Add(time.Hour), again)
	if got := m.list("open"); len(got) != 1 || got[0].Key != "INC-2" {
		t.Fatalf("re-fire after resolution: %+v", got)
	}
}

func TestReFireWithinQuietPeriodKeepsIncidentOpen(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api")
	m.signals(t0, a)
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute)))
	m.signals(t0.Add(2*time.Minute), alert(signal.StatusFiring, t0.Add(2*time.Minute), "alertname", "X", "service", "api"))
	m.tick(t0.Add(time.Hour))
	got := m.list("")
	if len(got) != 1 || got[0].Status != StatusTriggered || got[0].Alerts.Firing != 1 {
		t.Fatalf("incidents = %+v", got)
	}
}

func TestLateFiringCopyAfterResolveIsIgnored(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api")
	m.signals(t0, a)
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute)))
	if r := m.signals(t0.Add(2*time.Minute), a); r.Duplicates != 1 {
		t.Fatalf("late copy = %+v", r)
	}
	if got := m.list(""); got[0].Alerts.Firing != 0 {
		t.Fatalf("late copy re-fired the alert: %+v", got[0])
	}
}

func TestAlertExpiresAtEndsAt(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api")
	a.Source, a.EndsAt = signal.SourcePrometheus, t0.Add(4*time.Minute)
	m.signals(t0, a)
	m.tick(t0.Add(4 * time.Minute))
	d, _ := m.s.Get("INC-1", 0, 10)
	if sv := d.Signals[0]; d.Alerts.Firing != 0 || sv.Status != signal.StatusResolved || sv.StatusReason != StatusExpired {
		t.Fatalf("alert did not expire: %+v, signal %s (%s)", d.Summary, sv.Status, sv.StatusReason)
	}
	// A refresh before expiry moves it: Prometheus re-sends with a later endsAt.
	b := firing("alertname", "Y", "service", "web")
	b.EndsAt = t0.Add(time.Hour + 4*time.Minute)
	m.signals(t0.Add(time.Hour), b)
	b.EndsAt = t0.Add(time.Hour + 5*time.Minute)
	m.signals(t0.Add(time.Hour+time.Minute), b)
	m.tick(t0.Add(time.Hour + 4*time.Minute + 30*time.Second))
	if d, _ := m.s.Get("INC-2", 0, 10); d.Alerts.Firing != 1 {
		t.Fatalf("refreshed alert expired early: %+v", d.Summary)
	}
}

func TestActions(t *testing.T) {
	m := newMachine(t, nil)
	m.signals(t0, firing("alertname", "X", "service", "api"))
	if err := m.act(t0, Action{Kind: ActionAck, Incident: "INC-9", By: "al"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("ack unknown = %v", err)
	}
	if err := m.act(t0.Add(time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "al", Note: "looking"}); err != nil {
		t.Fatal(err)
	}
	d, _ := m.s.Get("INC-1", 0, 0)
	if d.Status != StatusAcknowledged || d.AcknowledgedBy != "al" {
		t.Fatalf("after ack: %+v", d.Summary)
	}
	if err := m.act(t0.Add(2*time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "bo"}); err != nil {
		t.Fatal(err)
	}
	if err := m.act(t0.Add(3*time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "al"}); !errors.Is(err, ErrConflict) {
		t.Errorf("ack resolved = %v", err)
	}
	// The still-firing alert, re-delivered unchanged, is not swallowed by
	// the resolved incident: it opens a new one, and INC-1 links to it.
	m.signals(t0.Add(4*time.Minute), firing("alertname", "X", "service", "api"))
	if got := m.list("open"); len(got) != 1 || got[0].Key != "INC-2" || got[0].Alerts.Firing != 1 {
		t.Errorf("re-delivery after resolve: %+v", got)
	}
	if d, _ := m.s.Get("INC-1", 0, 0); !timelineSays(d.Timeline, "fired again after this incident was resolved: it is in INC-2") {
		t.Errorf("INC-1 does not link to INC-2: %+v", d.Timeline)
	}
	// Further re-deliveries are duplicates of the open INC-2.
	if res := m.signals(t0.Add(5*time.Minute), firing("alertname", "X", "service", "api")); res.Duplicates != 1 {
		t.Errorf("second re-delivery: %+v", res)
	}
}

// TestQuietIncidentTakesBackOnlyItsOwnGroup: an incident whose alerts all
// resolved, waiting out its quiet period, does not absorb another
// service's alert through a dependency; a re-fire of its own group rejoins.
func TestQuietIncidentTakesBackOnlyItsOwnGroup(t *testing.T) {
	m := newMachine(t, mustRules(t, depRules))
	down := firing("alertname", "WebDown", "service", "web")
	m.signals(t0, down)
	m.signals(t0.Add(time.Minute), resolved(down, t0.Add(time.Minute)))
	m.signals(t0.Add(2*time.Minute), firing("alertname", "ApiDown", "service", "api"))
	open := m.list("open")
	if len(open) != 2 {
		t.Fatalf("the quiet incident absorbed another service's alert: %+v", open)
	}
	refire := alert(signal.StatusFiring, t0.Add(3*time.Minute), "alertname", "WebDown", "service", "web")
	m.signals(t0.Add(3*time.Minute), refire)
	if d, _ := m.s.Get("INC-1", 0, 0); d.Alerts.Firing != 1 {
		t.Errorf("its own re-fire did not rejoin the quiet incident: %+v", d.Summary)
	}
}

func TestSeverityOverride(t *testing.T) {
	m := newMachine(t, nil)
	m.signals(t0, firing("alertname", "X", "service", "api"))
	err := m.act(t0, Action{Kind: ActionSetSeverity, Incident: "INC-1", By: "al", Severity: "SEV1", Note: "all customers affected"})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := m.s.Get("INC-1", 0, 0)
	if d.Severity != "SEV1" || d.Override == nil || d.Override.Reason != "all customers affected" {
		t.Fatalf("after override: %+v", d.Summary)
	}
	if err := m.act(t0, Action{Kind: ActionSetSeverity, Incident: "INC-1", By: "al", Severity: "SEV9", Note: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown level = %v", err)
	}
	if err := m.act(t0, Action{Kind: ActionClearSeverity, Incident: "INC-1", By: "al"}); err != nil {
		t.Fatal(err)
	}
	d, _ = m.s.Get("INC-1", 0, 0)
	if d.Override != nil || d.Severity != rules.Default().Evaluate(&rules.Facts{Now: t0, Count: func(rules.Counter, time.Duration) int64 { return 0 }}).Level.String() {
		t.Fatalf("after clear: %+v", d.Summary)
	}
}

// TestDeterministicReplay applies one history twice, once live (entries
// passed decoded) and once from their bytes through a snapshot taken
// half-way, and expects identical states.
func TestDeterministicReplay(t *testing.T) {
	m := newMachine(t, nil)
	at := t0
	for i := range 200 {
		at = at.Add(7 * time.Second)
		svc := fmt.Sprintf("svc-%d", i%7)
		a := alert(signal.StatusFiring, at, "alertname", "A", "service", svc, "n", fmt.Sprint(i%13))
		if i%5 == 0 {
			a.EndsAt = at.Add(time.Minute)
		}
		m.signals(at, a)
		if i%3 == 0 {
			m.signals(at, resolved(a, at))
		}
		if i%17 == 0 {
			_ = m.act(at, Action{Kind: ActionAck, Incident: fmt.Sprintf("INC-%d", i%5+1), By: "x"})
		}
		m.tick(at)
	}
	want, _ := m.s.Snapshot()()

	replayed := New(nil)
	half := len(m.log) / 2
	for _, rec := range m.log[:half] {
		replayed.Apply(rec)
	}
	snap, err := replayed.Snapshot()()
	if err != nil {
		t.Fatal(err)
	}
	restored := New(nil)
	if err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for _, rec := range m.log { // records up to the snapshot are skipped
		restored.Apply(rec)
	}
	got, _ := restored.Snapshot()()
	if !bytes.Equal(got, want) {
		t.Fatalf("replay through a snapshot differs:\n got %d bytes\nwant %d bytes", len(got), len(want))
	}
}

// TestSnapshotCaptureIsIsolated serialises a capture after Apply has gone on
// changing the state, as the journal does in the background.
func TestSnapshotCaptureIsIsolated(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api", "instance", "i1")
	editReport(&a, func(r *signal.Report) { r.Customer = "acme" })
	m.signals(t0, a)
	want, _ := m.s.Snapshot()()
	serialise := m.s.Snapshot()
	b := firing("alertname", "Y", "service", "api")
	editReport(&b, func(r *signal.Report) { r.Customer = "globex" })
	m.signals(t0, b) // same second: bumps the counter bucket in place
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute)))
	_ = m.act(t0.Add(2*time.Minute), Action{Kind: ActionAck, Incident: "INC-1", By: "al"})
	got, err := serialise()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the capture changed after it was taken:\n got %s\nwant %s", got, want)
	}
}

func TestBadEntryIsRefusedNotApplied(t *testing.T) {
	s := New(nil)
	res := s.Apply(journal.Record{Seq: 1, Time: t0, Data: []byte(`{"signals":`)}).(*Result)
	if !errors.Is(res.Err, ErrInvalid) {
		t.Fatalf("err = %v", res.Err)
	}
	if s.LastSeq() != 1 {
		t.Fatal("a bad entry must still consume its sequence number")
	}
}

// TestResolvedIncidentIsArchivedAfterRetention keeps memory proportional to
// what is active: a week after an incident resolved, it leaves the live
// state with its resolved alerts' records, handed to the journal's archive
// as the API showed it.
func TestResolvedIncidentIsArchivedAfterRetention(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api")
	b := firing("alertname", "Y", "service", "api")
	m.signals(t0, a, b)
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute)))
	if err := m.act(t0.Add(2*time.Minute), Action{Kind: ActionResolve, Incident: "INC-1", By: "al"}); err != nil {
		t.Fatal(err)
	}
	// A resolved signal for an alert never seen is not recorded at all.
	m.signals(t0.Add(3*time.Minute), resolved(firing("alertname", "Z", "service", "api"), t0))
	before, _ := m.s.Get("INC-1", 0, 10)
	m.tick(t0.Add(2*time.Minute + Retention - time.Second))
	if got := m.s.TakeArchive(); len(got) != 0 {
		t.Fatalf("archived %d incidents before the retention passed", len(got))
	}
	m.tick(t0.Add(2*time.Minute + Retention))
	if _, ok := m.s.Get("INC-1", 0, 10); ok {
		t.Fatal("INC-1 is still live after its retention")
	}
	items := m.s.TakeArchive()
	if len(items) != 1 || items[0].Key != "INC-1" || !items[0].Time.Equal(t0.Add(2*time.Minute+Retention)) {
		t.Fatalf("archive = %+v", items)
	}
	d, err := DecodeArchived(items[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	before.Archived = true
	if !reflect.DeepEqual(d, before) {
		t.Errorf("archived detail differs from the live one:\n got %+v\nwant %+v", d, before)
	}
	if len(m.s.alerts) != 1 || len(m.s.incidents) != 0 || len(m.s.order) != 0 {
		t.Fatalf("kept %d alert records (want only the still-firing one), %d incidents", len(m.s.alerts), len(m.s.incidents))
	}
	if m.s.TakeArchive() != nil {
		t.Error("TakeArchive handed the same incident out twice")
	}
}

// TestTitleFollowsTheCause: when an upstream service joins an incident as
// its likely cause, the incident's title follows the cause, and says so.
func TestTitleFollowsTheCause(t *testing.T) {
	m := newMachine(t, mustRules(t, depRules))
	web := firing("alertname", "WebDown", "service", "web")
	web.Annotations = signal.StringsFrom(map[string]string{"summary": "Web returns 500s"})
	m.signals(t0, web)
	api := firing("alertname", "ApiDown", "service", "api")
	api.Annotations = signal.StringsFrom(map[string]string{"summary": "API is down"})
	m.signals(t0.Add(time.Minute), api)
	d, _ := m.s.Get("INC-1", 0, 0)
	if d.Cause != "api" || d.Title != "API is down" || !timelineSays(d.Timeline, `the title follows it: "API is down"`) {
		t.Errorf("cause %q, title %q, timeline %+v", d.Cause, d.Title, d.Timeline)
	}
}

// TestReloadShortensAWaitingQuietPeriod: an incident waiting out its quiet
// period takes the quiet period of the rules in force after a reload.
func TestReloadShortensAWaitingQuietPeriod(t *testing.T) {
	m := newMachine(t, nil)
	a := firing("alertname", "X", "service", "api")
	m.signals(t0, a)
	m.signals(t0.Add(time.Minute), resolved(a, t0.Add(time.Minute))) // quiet from 12:01, default 5m
	rc, err := NewRulesChange([]rules.File{{Name: "r.yml", Data: []byte("correlation:\n  quiet_period: 1m\n")}})
	if err != nil {
		t.Fatal(err)
	}
	m.apply(t0.Add(90*time.Second), &Entry{Rules: rc})
	m.tick(t0.Add(2 * time.Minute))
	d, _ := m.s.Get("INC-1", 0, 0)
	if d.Status != StatusResolved || !d.ResolvedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("status %s resolved at %v, want resolved at 12:02 under the new 1m quiet period", d.Status, d.ResolvedAt)
	}
	if !timelineSays(d.Timeline, "the rules changed the quiet period from 5m0s to 1m0s") {
		t.Errorf("timeline: %+v", d.Timeline)
	}
}
