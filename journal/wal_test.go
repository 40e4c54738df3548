package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// requests returns requests for the given record values.
func requests(values ...string) []*request {
	reqs := make([]*request, len(values))
	for i, v := range values {
		reqs[i] = &request{value: []byte(v)}
	}
	return reqs
}

// openTestWAL opens a log in a new directory whose checkpoints count syncs.
func openTestWAL(t *testing.T, segSize int64, syncs *atomic.Int64) (*wal, string) {
	t.Helper()
	dir := t.TempDir()
	w, err := openWAL(dir, segSize, func() error {
		syncs.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w, dir
}

// walValues returns the log's records in dir as "seq=value" strings.
func walValues(t *testing.T, dir string) []string {
	t.Helper()
	recs, release, err := readWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%d=%s", r.seq, r.value))
	}
	return out
}

func TestWALAppendsAndReadsBack(t *testing.T) {
	var syncs atomic.Int64
	w, dir := openTestWAL(t, 4096, &syncs)
	for _, err := range []error{
		w.append(1, requests("one", "two")),
		w.append(3, requests("three")),
		w.append(7, requests("seven")), // a batch synced by the store leaves a gap
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(false); err != nil {
		t.Fatal(err)
	}
	want := "1=one 2=two 3=three 7=seven"
	if got := strings.Join(walValues(t, dir), " "); got != want {
		t.Errorf("log holds %q, want %q", got, want)
	}
}

// TestWALReusesCheckpointedSegments: full segments are checkpointed and
// reused, so the log keeps a few segments however much goes through it,
// and what it holds after a crash is the latest records, in order.
func TestWALReusesCheckpointedSegments(t *testing.T) {
	var syncs atomic.Int64
	const segSize = 512
	w, dir := openTestWAL(t, segSize, &syncs)
	const n = 400
	for i := 1; i <= n; i++ {
		if err := w.append(uint64(i), requests(fmt.Sprintf("record %03d", i))); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if err := w.close(false); err != nil {
		t.Fatal(err)
	}
	names, err := segmentNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) > walSpares+2 {
		t.Errorf("%d segments after %d records: %v", len(names), n, names)
	}
	if syncs.Load() == 0 {
		t.Error("no checkpoint synced the store")
	}
	got := walValues(t, dir)
	if len(got) == 0 || got[len(got)-1] != fmt.Sprintf("%d=record %03d", n, n) {
		t.Fatalf("log ends %v, want record %d last", got, n)
	}
	first := n - len(got) + 1
	for i, v := range got {
		if want := fmt.Sprintf("%d=record %03d", first+i, first+i); v != want {
			t.Fatalf("log record %d is %q, want %q", i, v, want)
		}
	}
}

func TestWALRefusesBatchLargerThanSegment(t *testing.T) {
	var syncs atomic.Int64
	w, _ := openTestWAL(t, 64, &syncs)
	defer w.close(false)
	if err := w.append(1, requests(strings.Repeat("x", 100))); !errors.Is(err, errWALTooLarge) {
		t.Errorf("append of a batch over a segment: %v, want errWALTooLarge", err)
	}
	if err := w.append(1, requests("small")); err != nil {
		t.Errorf("append after a refused batch: %v", err)
	}
}

// TestWALFailureIsSticky: once a write or sync fails, whether it reached the
// disk is unknown, so the log refuses every append after it.
func TestWALFailureIsSticky(t *testing.T) {
	var syncs atomic.Int64
	w, _ := openTestWAL(t, 4096, &syncs)
	defer w.close(false)
	w.cur.Close() // the next write fails
	if err := w.append(1, requests("lost")); err == nil {
		t.Fatal("append to a closed segment succeeded")
	}
	w.cur, _ = os.CreateTemp(t.TempDir(), "seg") // writable again
	if err := w.append(1, requests("again")); err == nil {
		t.Error("append after a failure succeeded")
	}
}

func TestWALCheckpointFailureIsSticky(t *testing.T) {
	w, err := openWAL(t.TempDir(), 64, func() error { return errInjected })
	if err != nil {
		t.Fatal(err)
	}
	defer w.close(false)
	for i := uint64(1); ; i++ {
		err := w.append(i, requests("twenty bytes of data"))
		if errors.Is(err, errInjected) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if i > 1000 {
			t.Fatal("appends go on after a checkpoint failed")
		}
		time.Sleep(time.Millisecond) // let the checkpointer run
	}
}

func TestReadFramesStops(t *testing.T) {
	valid := appendFrame(appendFrame(nil, 5, []byte("five")), 6, []byte("six"))
	flipped := bytes.Clone(valid)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"two frames then zeros", append(bytes.Clone(valid), make([]byte, 64)...), 2},
		{"torn second frame", valid[:len(valid)-2], 1},
		{"damaged second frame", flipped, 1},
		{"an older frame follows", appendFrame(bytes.Clone(valid), 3, []byte("stale")), 2},
		{"the same frame again", appendFrame(bytes.Clone(valid), 6, []byte("six")), 2},
		{"length past the end", append(bytes.Clone(valid), 0xff, 0xff, 0xff, 0x7f), 2},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readFrames(tt.data); len(got) != tt.want {
				t.Errorf("read %d frames, want %d", len(got), tt.want)
			}
		})
	}
}

// FuzzReadFrames: any segment content reads as a run of frames that
// encode back to a prefix of it, with increasing sequence numbers.
func FuzzReadFrames(f *testing.F) {
	f.Add(appendFrame(appendFrame(nil, 1, []byte("one")), 2, []byte("two")))
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		var encoded []byte
		var last uint64
		for _, r := range readFrames(data) {
			if r.seq <= last {
				t.Fatalf("seq %d after %d", r.seq, last)
			}
			last = r.seq
			encoded = appendFrame(encoded, r.seq, r.value)
		}
		if !bytes.HasPrefix(data, encoded) {
			t.Fatal("frames read do not encode to a prefix of the segment")
		}
	})
}

// TestCloseEmptiesWAL: after a clean close the store holds every record,
// and the log nothing to restore.
func TestCloseEmptiesWAL(t *testing.T) {
	dir := t.TempDir()
	j := openTest(t, Options{Dir: dir, MemTableSize: 1 << 20}, &testFSM{})
	appendRecords(t, j, "a", "b")
	if got := walValues(t, walDir(dir)); len(got) != 2 {
		t.Errorf("log of an open journal holds %v, want 2 records", got)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if got := walValues(t, walDir(dir)); len(got) != 0 {
		t.Errorf("log after a clean close holds %v", got)
	}
}

// TestRestoreFromWAL: when the machine stops before a checkpoint, the store
// can lose records it was given unsynced, or hold them torn. Recovery
// writes them back from the log, except those the snapshot covers.
func TestRestoreFromWAL(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, MemTableSize: 1 << 20, SnapshotEvery: 2}
	j := openTest(t, opts, &testFSM{})
	appendRecords(t, j, "a", "b")
	waitFor(t, "a snapshot at record 2", func() bool { s, _ := j.storedSnapshot(); return s.Seq == 2 })
	appendRecords(t, j, "c", "d", "e")
	want := readAll(t, j, 3)
	crash(t, j)

	// What a machine crash can leave: record 4 lost, record 5 torn, and
	// record 1, which the snapshot covers, gone too.
	db, err := badger.Open(badgerOptions(Options{Dir: dir, MemTableSize: 1 << 20, Logger: zap.NewNop()}))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		return errors.Join(txn.Delete(recordKey(1)), txn.Delete(recordKey(4)), txn.Set(recordKey(5), []byte("torn")))
	})
	if err = errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}

	copied := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(copied, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	var read []Record
	if err := ReadDir(copied, 3, func(r Record) error { read = append(read, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := diffRecords(read, want); err != nil {
		t.Errorf("ReadDir of the crashed journal: %v", err)
	}

	core, logs := observer.New(zap.WarnLevel)
	opts.Logger = zap.New(core)
	fsm := &testFSM{}
	j = openTest(t, opts, fsm)
	defer j.Close()
	if err := diffRecords(readAll(t, j, 3), want); err != nil {
		t.Errorf("stored records after recovery: %v", err)
	}
	if err := diffRecords(fsm.recs[2:], want); err != nil || fsm.err != nil {
		t.Errorf("applied records after recovery: %v %v", err, fsm.err)
	}
	restored := logs.FilterMessageSnippet("restored records").All()
	if len(restored) != 1 || restored[0].ContextMap()["records"] != int64(2) {
		t.Errorf("logged %v, want one warning of 2 restored records", restored)
	}
}

// TestBatchLargerThanSegmentIsDurable: a record larger than a log segment
// is made durable by syncing the store, and survives a crash.
func TestBatchLargerThanSegmentIsDurable(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, MemTableSize: 1 << 20, ValueLogFileSize: 8 << 20}
	j := openTest(t, opts, &testFSM{})
	big := strings.Repeat("b", 2<<20)
	if _, _, err := j.Append(context.Background(), []byte(big), nil); err != nil {
		t.Fatal(err)
	}
	appendRecords(t, j, "after")
	crash(t, j)
	j = openTest(t, opts, &testFSM{})
	defer j.Close()
	recs := readAll(t, j, 1)
	if len(recs) != 2 || string(recs[0].Data) != big || string(recs[1].Data) != "after" {
		t.Errorf("after a crash the journal holds %d records", len(recs))
	}
}

// TestWALSegmentsLeftMidCreation: a segment whose making a crash cut short
// is removed, not read.
func TestWALSegmentsLeftMidCreation(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "00000009.seg.tmp"), appendFrame(nil, 1, []byte("half")), 0o600); err != nil {
		t.Fatal(err)
	}
	var syncs atomic.Int64
	w, err := openWAL(dir, 4096, func() error { syncs.Add(1); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer w.close(false)
	if _, err := os.Stat(filepath.Join(dir, "00000009.seg.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the half-made segment is still there: %v", err)
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestWALRotationFailureIsNotSticky: a segment that cannot be made (a full
// disk) fails the append that needed it, and nothing after it.
func TestWALRotationFailureIsNotSticky(t *testing.T) {
	var syncs atomic.Int64
	w, dir := openTestWAL(t, 64, &syncs)
	defer w.close(false)
	waitFor(t, "a spare segment", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return len(w.free) == 1 })
	if err := w.append(1, requests("over half a segment")); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	spare := w.free
	w.free, w.dir = nil, filepath.Join(dir, "missing")
	w.mu.Unlock()
	if err := w.append(2, requests("over half a segment")); err == nil {
		t.Fatal("append needing a segment that cannot be made succeeded")
	}
	w.mu.Lock()
	w.free, w.dir = spare, dir
	w.mu.Unlock()
	if err := w.append(2, requests("over half a segment")); err != nil {
		t.Errorf("append once a segment can be had: %v", err)
	}
}
