package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// stepClock is a fake clock that moves on by step at every reading, so that
// each commit gets its own time without the test sleeping.
type stepClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func newStepClock(step time.Duration) *stepClock {
	return &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: step}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

// appendN appends n records one after another, so each has its own commit
// and time, and returns them.
func appendN(t testing.TB, j *Badger, n int, prefix string) []Record {
	t.Helper()
	recs := make([]Record, 0, n)
	for i := range n {
		rec, _, err := j.Append(context.Background(), []byte(fmt.Sprintf("%s-%d", prefix, i)), nil)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		rec.Decoded = nil
		recs = append(recs, rec)
	}
	return recs
}

// retained returns the records of all that truncation behind a snapshot at
// snapSeq keeps with the given retention: the window before the newest
// record and everything after the snapshot.
func retained(all []Record, snapSeq uint64, retention time.Duration) []Record {
	cutoff := all[len(all)-1].Time.Add(-retention)
	var keep []Record
	for _, r := range all {
		if r.Seq > snapSeq || !r.Time.Before(cutoff) {
			keep = append(keep, r)
		}
	}
	return keep
}

func TestTruncation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retention time.Duration
		snapshot  bool // close cleanly (snapshot at 30) rather than crash (no snapshot)
		wantFirst uint64
	}{
		{"window of 10s keeps 25 on", 10 * time.Second, true, 25},
		{"1ns keeps what follows the snapshot", time.Nanosecond, true, 31},
		{"long retention keeps all", 1000 * time.Hour, true, 1},
		{"nothing goes without a snapshot", time.Nanosecond, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := newStepClock(time.Second)
			opts := Options{Dir: dir, Clock: clock.Now, SnapshotEvery: 1 << 40}
			j := openTest(t, opts, &testFSM{})
			all := appendN(t, j, 30, "old")
			if tc.snapshot {
				if err := j.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			} else {
				crash(t, j)
			}
			opts.Retention = tc.retention
			fsm := &testFSM{}
			j = openTest(t, opts, fsm)
			all = append(all, appendN(t, j, 5, "new")...)
			j.retain(context.Background())

			if got := j.FirstSeq(); got != tc.wantFirst {
				t.Errorf("FirstSeq = %d, want %d", got, tc.wantFirst)
			}
			snapSeq := uint64(0)
			if tc.snapshot {
				snapSeq = 30
			}
			want := retained(all, snapSeq, tc.retention)
			if want[0].Seq != tc.wantFirst {
				t.Fatalf("test oracle keeps from %d, want %d", want[0].Seq, tc.wantFirst)
			}
			for _, from := range []uint64{0, 1, tc.wantFirst} {
				if err := diffRecords(readAll(t, j, from), want); err != nil {
					t.Errorf("Read(%d): %v", from, err)
				}
			}
			if err := diffRecords(readAll(t, j, tc.wantFirst+2), want[2:]); err != nil {
				t.Errorf("Read(%d): %v", tc.wantFirst+2, err)
			}

			// Reopening finds the oldest record by seeking, and recovery
			// still has every record after the snapshot.
			crash(t, j)
			fsm = &testFSM{}
			j = openTest(t, opts, fsm)
			defer j.Close()
			if got := j.FirstSeq(); got != tc.wantFirst {
				t.Errorf("FirstSeq after reopening = %d, want %d", got, tc.wantFirst)
			}
			recs, _, _, err := fsm.state()
			if err != nil {
				t.Fatal(err)
			}
			if err := diffRecords(recs, all); err != nil {
				t.Errorf("recovered state: %v", err)
			}
		})
	}
}

func TestTruncationInBatches(t *testing.T) {
	dir := t.TempDir()
	clock := newStepClock(time.Millisecond)
	opts := Options{Dir: dir, Clock: clock.Now, SnapshotEvery: 1 << 40, Retention: time.Nanosecond}
	j := openTest(t, opts, &testFSM{})
	// Concurrent appends share commits and times.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 3 * trimBatch / 8 {
				if _, _, err := j.Append(context.Background(), []byte(fmt.Sprintf("w%d-%d", w, i)), nil); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	j = openTest(t, opts, &testFSM{})
	defer j.Close()
	all := readAll(t, j, 0)
	snapSeq := all[len(all)-1].Seq
	all = append(all, appendN(t, j, 3, "new")...)
	j.retain(context.Background())
	want := retained(all, snapSeq, opts.Retention)
	if err := diffRecords(readAll(t, j, 0), want); err != nil {
		t.Errorf("after truncating %d records: %v", len(all)-len(want), err)
	}
	if len(all)-len(want) <= trimBatch {
		t.Errorf("truncated %d records, want more than one batch of %d", len(all)-len(want), trimBatch)
	}
	if got := j.FirstSeq(); got != want[0].Seq {
		t.Errorf("FirstSeq = %d, want %d", got, want[0].Seq)
	}
}

// TestTruncationFollowsSnapshots checks the path taken in production: a
// snapshot stored in the background asks maintain to truncate.
func TestTruncationFollowsSnapshots(t *testing.T) {
	clock := newStepClock(time.Second)
	j := openTest(t, Options{Dir: t.TempDir(), Clock: clock.Now, SnapshotEvery: 10, Retention: time.Nanosecond}, &countFSM{})
	defer j.Close()
	appendN(t, j, 25, "r")
	waitUntil(t, "the journal is truncated behind a background snapshot", func() bool { return j.FirstSeq() > 1 })
	snap, _ := j.storedSnapshot()
	if first := j.FirstSeq(); first > snap.Seq+1 {
		t.Errorf("FirstSeq %d is past the snapshot at %d", first, snap.Seq)
	}
}

// waitUntil polls cond until it holds; the test's own timeout bounds it.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("test ended before %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFirstSeq(t *testing.T) {
	j := openTest(t, Options{Dir: t.TempDir()}, &testFSM{})
	defer j.Close()
	if got := j.FirstSeq(); got != 0 {
		t.Errorf("FirstSeq of an empty journal = %d, want 0", got)
	}
	appendN(t, j, 2, "r")
	if got := j.FirstSeq(); got != 1 {
		t.Errorf("FirstSeq after two appends = %d, want 1", got)
	}
}

func TestRetentionOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"defaults", Options{}, ""},
		{"negative retention", Options{Retention: -time.Second}, "negative retention"},
		{"negative archive retention", Options{ArchiveRetention: -time.Second}, "negative archive retention"},
		{"small value log", Options{ValueLogFileSize: 1 << 10}, "value log file size 1024"},
		{"huge value log", Options{ValueLogFileSize: 2 << 30}, "value log file size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := retentionDefaults(tc.opts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			case tc.wantErr == "" && (got.Retention != DefaultRetention || got.ArchiveRetention != DefaultArchiveRetention ||
				got.ValueLogFileSize != DefaultValueLogFileSize):
				t.Errorf("defaults %s, %s, %d", got.Retention, got.ArchiveRetention, got.ValueLogFileSize)
			}
		})
	}
}

func TestAppendLimitFollowsValueLogFileSize(t *testing.T) {
	j := openTest(t, Options{Dir: t.TempDir(), ValueLogFileSize: 1 << 20}, &testFSM{})
	defer j.Close()
	if _, _, err := j.Append(context.Background(), make([]byte, 1<<20-timeLen+1), nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append of a record larger than a value log file: %v, want ErrTooLarge", err)
	}
	if _, _, err := j.Append(context.Background(), make([]byte, 1<<20-timeLen), nil); err != nil {
		t.Fatalf("Append of the largest record: %v", err)
	}
}
