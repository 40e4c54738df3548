package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// testFSM keeps every applied record, checks they arrive in order with times
// that never go backwards, and snapshots as JSON.
type testFSM struct {
	mu       sync.Mutex
	recs     []Record
	applied  int   // Apply calls since creation
	restores int   // Restore calls since creation
	err      error // first ordering violation seen by Apply
	snapErr  error // returned by Snapshot when set
}

func (f *testFSM) Apply(r Record) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied++
	if n := len(f.recs); f.err == nil {
		switch {
		case n == 0 && r.Seq != 1:
			f.err = fmt.Errorf("first record has seq %d", r.Seq)
		case n > 0 && r.Seq != f.recs[n-1].Seq+1:
			f.err = fmt.Errorf("record %d follows %d", r.Seq, f.recs[n-1].Seq)
		case n > 0 && r.Time.Before(f.recs[n-1].Time):
			f.err = fmt.Errorf("record %d at %v is before record %d at %v", r.Seq, r.Time, f.recs[n-1].Seq, f.recs[n-1].Time)
		}
	}
	f.recs = append(f.recs, r)
	return r.Seq
}

func (f *testFSM) Snapshot() SnapshotFunc {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := json.Marshal(f.recs)
	if f.snapErr != nil {
		err = f.snapErr
	}
	return func() ([]byte, error) { return data, err }
}

func (f *testFSM) Restore(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restores++
	return json.Unmarshal(b, &f.recs)
}

// state returns a copy of the applied records and the counters.
func (f *testFSM) state() (recs []Record, applied, restores int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Record(nil), f.recs...), f.applied, f.restores, f.err
}

// openTest opens a journal with a test logger and fails the test on error.
func openTest(t testing.TB, opts Options, fsm FSM) *Badger {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	}
	j, err := OpenBadger(opts, fsm)
	if err != nil {
		t.Fatalf("OpenBadger: %v", err)
	}
	return j
}

// crash stops j without a final snapshot, as if the process had died after
// its last commit.
func crash(t testing.TB, j *Badger) {
	t.Helper()
	j.stop()
	if err := j.db.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
}

// readAll returns every stored record of j from seq from.
func readAll(t testing.TB, j *Badger, from uint64) []Record {
	t.Helper()
	var recs []Record
	if err := j.Read(from, func(r Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatalf("Read(%d): %v", from, err)
	}
	return recs
}

// diffRecords describes the first difference between two record lists, or
// returns nil if they are the same.
func diffRecords(got, want []Record) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || !g.Time.Equal(w.Time) || !bytes.Equal(g.Data, w.Data) {
			return fmt.Errorf("record %d: got {%d %v %q}, want {%d %v %q}", i, g.Seq, g.Time, g.Data, w.Seq, w.Time, w.Data)
		}
	}
	return nil
}

// errInjected is the storage failure tests inject.
var errInjected = errors.New("injected write failure")
