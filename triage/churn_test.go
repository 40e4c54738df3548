package triage_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// churnDay drives one simulated day through the journal: a burst of new
// alerts on a few services, their resolution, and every timer that comes
// due (quiet periods, evictions), the way the engine appends ticks.
func churnDay(t *testing.T, j *journal.Badger, state *triage.State, day int, now *time.Time) {
	t.Helper()
	var firing, resolved []signal.Signal
	for i := range 100 {
		labels := map[string]string{"alertname": fmt.Sprintf("Churn%d", i), "service": fmt.Sprintf("svc-%d", i%5), "day": fmt.Sprint(day)}
		s := signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert, Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)),
			Status: signal.StatusFiring, Labels: signal.StringsFrom(labels), StartsAt: *now}
		firing = append(firing, s)
		s.Status, s.EndsAt = signal.StatusResolved, now.Add(10*time.Minute)
		resolved = append(resolved, s)
	}
	appendEntry(t, j, &triage.Entry{Signals: firing})
	*now = now.Add(10 * time.Minute)
	appendEntry(t, j, &triage.Entry{Signals: resolved})
	end := now.Add(24*time.Hour - 10*time.Minute)
	for {
		due, ok := state.NextDue()
		if !ok || due.After(end) {
			break
		}
		*now = due
		appendEntry(t, j, &triage.Entry{Tick: &triage.Tick{Due: due}})
	}
	*now = end
}

func appendEntry(t *testing.T, j *journal.Badger, e *triage.Entry) {
	t.Helper()
	data, err := triage.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, res, err := j.Append(context.Background(), data, e); err != nil {
		t.Fatal(err)
	} else if r := res.(*triage.Result); r.Err != nil {
		t.Fatal(r.Err)
	}
}

// footprint is what must stop growing under steady churn.
type footprint struct {
	records, archived, incidents, snapshot int
	heap                                   uint64
}

func measure(t *testing.T, j *journal.Badger, state *triage.State) footprint {
	t.Helper()
	j.Retain(t.Context())
	var f footprint
	f.records = int(j.LastSeq() - j.FirstSeq() + 1)
	if err := j.ScanArchive("", func(journal.ArchiveItem) (bool, error) { f.archived++; return true, nil }); err != nil {
		t.Fatal(err)
	}
	list, _ := state.List(triage.Filter{Limit: 1000})
	f.incidents = len(list)
	snap, err := state.Snapshot()()
	if err != nil {
		t.Fatal(err)
	}
	f.snapshot = len(snap)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	f.heap = ms.HeapAlloc
	return f
}

// TestSteadyChurnStopsGrowing drives alerts that fire and resolve, day
// after day, through the journal and the state machine across many
// snapshots, and checks that what Klaxon keeps follows the active state and
// the retention windows, not the number of days: records behind the replay
// window are truncated, resolved incidents leave memory for the archive a
// week after resolving and leave the archive after its retention, and the
// heap stops growing.
func TestSteadyChurnStopsGrowing(t *testing.T) {
	if testing.Short() {
		t.Skip("drives 90 simulated days through a real store")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := journal.Options{
		Dir: t.TempDir(), Clock: func() time.Time { return now },
		MemTableSize: 1 << 20, BlockCacheSize: 1 << 20, IndexCacheSize: 1 << 20, ValueLogFileSize: 1 << 20,
		SnapshotEvery: 20, Retention: 2 * 24 * time.Hour, ArchiveRetention: 20 * 24 * time.Hour,
	}
	open := func() (*journal.Badger, *triage.State) {
		state := triage.New(nil)
		j, err := journal.OpenBadger(opts, state)
		if err != nil {
			t.Fatal(err)
		}
		return j, state
	}
	j, state := open()
	defer func() { j.Close() }()
	var at [3]footprint
	for day := range 90 {
		churnDay(t, j, state, day, &now)
		if day%30 == 29 {
			// A restart snapshots at the last record, so what is kept is
			// the replay window, not whatever the snapshot gate left.
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			j, state = open()
			at[day/30] = measure(t, j, state)
			t.Logf("day %d: %+v", day+1, at[day/30])
		}
	}
	settled, later := at[1], at[2]
	check := func(what string, got, bound int) {
		if got > bound {
			t.Errorf("%s grew: %d at day 90, %d at day 60", what, got, bound)
		}
	}
	// A few records or incidents of slack: a day's churn more or less
	// inside a window.
	check("journal records", later.records, settled.records+10)
	check("archived incidents", later.archived, settled.archived+10)
	check("live incidents", later.incidents, settled.incidents+5)
	check("snapshot bytes", later.snapshot, settled.snapshot+settled.snapshot/5)
	if later.heap > settled.heap+settled.heap/2+2<<20 {
		t.Errorf("heap grew: %d bytes at day 90, %d at day 60", later.heap, settled.heap)
	}
	if later.records == 0 || later.archived == 0 || later.incidents == 0 {
		t.Fatalf("the churn did not exercise retention: %+v", later)
	}
}
