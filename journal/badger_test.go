package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestAppendConcurrent(t *testing.T) {
	// The clock jumps back on every third reading; record times must not.
	var ticks atomic.Int64
	clock := func() time.Time {
		n := ticks.Add(1)
		if n%3 == 0 {
			n -= 50
		}
		return epoch.Add(time.Duration(n) * time.Millisecond)
	}
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: t.TempDir(), Clock: clock, MaxBatch: 16}, fsm)
	defer j.Close()

	const workers, each = 16, 40
	type ack struct {
		rec  Record
		res  any
		data string
	}
	acks := make(chan ack, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				data := fmt.Sprintf("worker %d append %d", w, i)
				rec, res, err := j.Append(context.Background(), []byte(data), nil)
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				acks <- ack{rec, res, data}
			}
		})
	}
	wg.Wait()
	close(acks)

	const total = workers * each
	bySeq := make(map[uint64]ack, total)
	for a := range acks {
		if _, dup := bySeq[a.rec.Seq]; dup {
			t.Fatalf("seq %d acknowledged twice", a.rec.Seq)
		}
		if string(a.rec.Data) != a.data {
			t.Errorf("seq %d: record data %q, appended %q", a.rec.Seq, a.rec.Data, a.data)
		}
		if a.res != a.rec.Seq {
			t.Errorf("seq %d: apply result %v, want the seq", a.rec.Seq, a.res)
		}
		bySeq[a.rec.Seq] = a
	}
	for seq := uint64(1); seq <= total; seq++ {
		if _, ok := bySeq[seq]; !ok {
			t.Errorf("seq %d never acknowledged", seq)
		}
	}
	recs, applied, _, err := fsm.state()
	if err != nil {
		t.Fatalf("FSM saw records out of order: %v", err)
	}
	if applied != total {
		t.Errorf("FSM applied %d records, want %d", applied, total)
	}
	for _, r := range recs {
		a := bySeq[r.Seq]
		if !r.Time.Equal(a.rec.Time) || string(r.Data) != a.data {
			t.Errorf("seq %d: FSM got {%v %q}, Append returned {%v %q}", r.Seq, r.Time, r.Data, a.rec.Time, a.data)
		}
	}
	if got := j.LastSeq(); got != total {
		t.Errorf("LastSeq = %d, want %d", got, total)
	}
	if err := diffRecords(readAll(t, j, 0), recs); err != nil {
		t.Errorf("Read differs from applied records: %v", err)
	}
}

func TestReopen(t *testing.T) {
	tests := []struct {
		name          string
		snapshotEvery uint64
		clean         bool   // Close (final snapshot) instead of crashing
		wantSnapSeq   uint64 // seq of the snapshot found on reopen, 0 for none
		wantReplayed  int
	}{
		{name: "crash without snapshot", snapshotEvery: 1000, wantReplayed: 25},
		// The second snapshot is due at 20 records but waits until as many
		// bytes were journaled as the first snapshot took: this FSM's state
		// outgrows its records, so recovery restores the one at 10.
		{name: "crash after snapshots", snapshotEvery: 10, wantSnapSeq: 10, wantReplayed: 15},
		{name: "clean close", snapshotEvery: 1000, clean: true, wantSnapSeq: 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			now := epoch
			clock := func() time.Time { return now }
			first := &testFSM{}
			j := openTest(t, Options{Dir: dir, SnapshotEvery: tt.snapshotEvery, Clock: clock}, first)
			for i := range 25 {
				now = epoch.Add(time.Duration(i) * time.Second)
				if _, _, err := j.Append(context.Background(), []byte(fmt.Sprintf("record %d", i)), nil); err != nil {
					t.Fatalf("Append: %v", err)
				}
			}
			if tt.clean {
				if err := j.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			} else {
				crash(t, j)
			}
			want, _, _, _ := first.state()

			now = epoch // the clock went back across the restart
			second := &testFSM{}
			j = openTest(t, Options{Dir: dir, SnapshotEvery: tt.snapshotEvery, Clock: clock}, second)
			defer j.Close()
			got, applied, restores, err := second.state()
			if err != nil {
				t.Fatalf("replay out of order: %v", err)
			}
			if err := diffRecords(got, want); err != nil {
				t.Fatalf("recovered state: %v", err)
			}
			wantRestores := 0
			if tt.wantSnapSeq > 0 {
				wantRestores = 1
			}
			if restores != wantRestores || applied != tt.wantReplayed || j.snap.Seq != tt.wantSnapSeq {
				t.Errorf("recovery: %d restores of snapshot %d then %d records replayed, want %d restores of %d then %d",
					restores, j.snap.Seq, applied, wantRestores, tt.wantSnapSeq, tt.wantReplayed)
			}
			if j.LastSeq() != 25 {
				t.Errorf("LastSeq = %d, want 25", j.LastSeq())
			}

			rec, _, err := j.Append(context.Background(), []byte("after reopen"), nil)
			if err != nil {
				t.Fatalf("Append after reopen: %v", err)
			}
			if rec.Seq != 26 || rec.Time.Before(want[24].Time) {
				t.Errorf("append after reopen got seq %d at %v, want seq 26 no earlier than %v", rec.Seq, rec.Time, want[24].Time)
			}
			if _, _, _, err := second.state(); err != nil {
				t.Errorf("FSM: %v", err)
			}
		})
	}
}

func TestRead(t *testing.T) {
	j := openTest(t, Options{Dir: t.TempDir()}, &testFSM{})
	defer j.Close()
	for i := range 20 {
		if _, _, err := j.Append(context.Background(), []byte{byte(i)}, nil); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	tests := []struct {
		from      uint64
		wantFirst uint64
		wantN     int
	}{
		{from: 0, wantFirst: 1, wantN: 20},
		{from: 1, wantFirst: 1, wantN: 20},
		{from: 5, wantFirst: 5, wantN: 16},
		{from: 20, wantFirst: 20, wantN: 1},
		{from: 21, wantN: 0},
	}
	for _, tt := range tests {
		recs := readAll(t, j, tt.from)
		if len(recs) != tt.wantN {
			t.Errorf("Read(%d) gave %d records, want %d", tt.from, len(recs), tt.wantN)
			continue
		}
		for i, r := range recs {
			seq := tt.wantFirst + uint64(i)
			if r.Seq != seq || !bytes.Equal(r.Data, []byte{byte(seq - 1)}) {
				t.Errorf("Read(%d)[%d] = {%d %v}, want {%d %v}", tt.from, i, r.Seq, r.Data, seq, []byte{byte(seq - 1)})
			}
		}
	}

	errStop := errors.New("stop")
	var seen int
	err := j.Read(0, func(Record) error {
		seen++
		if seen == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || seen != 3 {
		t.Errorf("Read with failing fn: err %v after %d records, want %v after 3", err, seen, errStop)
	}
}

func TestReadWhileAppending(t *testing.T) {
	j := openTest(t, Options{Dir: t.TempDir()}, &testFSM{})
	defer j.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, _, err := j.Append(ctx, []byte("x"), nil); err != nil && ctx.Err() == nil {
					t.Errorf("Append: %v", err)
				}
			}
		})
	}
	for range 20 {
		last := j.LastSeq()
		recs := readAll(t, j, 1)
		if uint64(len(recs)) < last {
			t.Fatalf("Read saw %d records after LastSeq was %d", len(recs), last)
		}
		for i, r := range recs {
			if r.Seq != uint64(i)+1 {
				t.Fatalf("Read gave seq %d at position %d", r.Seq, i)
			}
		}
	}
	cancel()
	wg.Wait()
}

func TestClose(t *testing.T) {
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: t.TempDir()}, fsm)
	if _, _, err := j.Append(context.Background(), []byte("before"), nil); err != nil {
		t.Fatalf("Append: %v", err)
	}
	for range 2 {
		if err := j.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	_, _, err := j.Append(context.Background(), []byte("after"), nil)
	if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("Append after Close: %v, want ErrClosed wrapping ErrUnavailable", err)
	}
	if err := j.Read(0, func(Record) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v, want ErrClosed", err)
	}
	if j.LastSeq() != 1 {
		t.Errorf("LastSeq after Close = %d, want 1", j.LastSeq())
	}
	if _, applied, _, _ := fsm.state(); applied != 1 {
		t.Errorf("FSM applied %d records, want 1", applied)
	}
}

func TestCloseWhileAppending(t *testing.T) {
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: t.TempDir()}, fsm)
	var acked atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				_, _, err := j.Append(context.Background(), []byte("x"), nil)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				acked.Add(1)
			}
		})
	}
	for j.LastSeq() < 50 {
		time.Sleep(time.Millisecond)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	_, applied, _, _ := fsm.state()
	if int64(applied) != acked.Load() || uint64(applied) != j.LastSeq() {
		t.Errorf("%d acknowledged, %d applied, LastSeq %d: want all equal", acked.Load(), applied, j.LastSeq())
	}
}

func TestAppendContext(t *testing.T) {
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: t.TempDir()}, fsm)
	defer j.Close()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := j.Append(cancelled, []byte("never"), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with cancelled context: %v, want context.Canceled", err)
	}

	// Hold the first commit so a second append has to wait to be taken.
	entered, release := make(chan struct{}), make(chan struct{})
	hold := sync.OnceFunc(func() {
		close(entered)
		<-release
	})
	j.commitTxn = func(txn *badger.Txn) error {
		hold()
		return txn.Commit()
	}
	type reply struct {
		rec Record
		err error
	}
	first := make(chan reply, 1)
	go func() {
		rec, _, err := j.Append(context.Background(), []byte("taken"), nil)
		first <- reply{rec, err}
	}()
	<-entered
	waiting, cancelWaiting := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelWaiting()
	if _, _, err := j.Append(waiting, []byte("abandoned"), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Append waiting behind a commit: %v, want context.DeadlineExceeded", err)
	}
	close(release)
	if r := <-first; r.err != nil || r.rec.Seq != 1 {
		t.Errorf("taken Append: seq %d, err %v; want seq 1", r.rec.Seq, r.err)
	}
	recs, _, _, _ := fsm.state()
	if len(recs) != 1 || string(recs[0].Data) != "taken" {
		t.Errorf("FSM holds %d records, want only the taken one", len(recs))
	}
}

func TestAppendTooLarge(t *testing.T) {
	j := openTest(t, Options{Dir: t.TempDir()}, &testFSM{})
	defer j.Close()
	_, _, err := j.Append(context.Background(), make([]byte, MaxRecordSize+1), nil)
	if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrUnavailable) {
		t.Errorf("oversized Append: %v, want ErrTooLarge", err)
	}
	if j.LastSeq() != 0 {
		t.Errorf("LastSeq = %d after a rejected append", j.LastSeq())
	}
}

func TestAppendFramed(t *testing.T) {
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: t.TempDir()}, fsm)
	ctx := context.Background()
	framed := append(make([]byte, j.Headroom()), "framed"...)
	if _, _, err := j.AppendFramed(ctx, framed, nil); err != nil {
		t.Fatalf("AppendFramed: %v", err)
	}
	if _, _, err := j.Append(ctx, []byte("copied"), nil); err != nil {
		t.Fatalf("Append: %v", err)
	}
	for _, tc := range []struct {
		name   string
		framed []byte
		want   error
	}{
		{"no room for the header", make([]byte, j.Headroom()-1), nil},
		{"data over the size limit", make([]byte, j.Headroom()+MaxRecordSize+1), ErrTooLarge},
	} {
		_, _, err := j.AppendFramed(ctx, tc.framed, nil)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("AppendFramed, %s: %v, want an error (%v)", tc.name, err, tc.want)
		}
	}
	if recs, _, _, _ := fsm.state(); len(recs) != 2 || string(recs[0].Data) != "framed" {
		t.Errorf("FSM applied %d records (%v), want framed then copied", len(recs), recs)
	}
	crash(t, j)
	j = openTest(t, Options{Dir: j.opts.Dir}, &testFSM{})
	defer j.Close()
	got := readAll(t, j, 1)
	if len(got) != 2 || string(got[0].Data) != "framed" || string(got[1].Data) != "copied" {
		t.Errorf("stored records %v, want framed then copied, without their header room", got)
	}
}

// cloningFSM is a testFSM that keeps a copy of each record's Data, as an
// FSM of framed records must: the buffer serves Frame again.
type cloningFSM struct{ testFSM }

func (f *cloningFSM) Apply(r Record) any {
	r.Data = bytes.Clone(r.Data)
	return f.testFSM.Apply(r)
}

// TestFramesAreReused appends from several goroutines through Frame and
// AppendFramed, and wants most frames to be buffers an append was done
// with, and every record applied and stored as it was appended.
func TestFramesAreReused(t *testing.T) {
	fsm := &cloningFSM{}
	j := openTest(t, Options{Dir: t.TempDir()}, fsm)
	const senders, each = 8, 200
	var reused atomic.Int64
	var used sync.Map // *byte -> true: the buffers framed
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				framed := j.Frame()
				if _, seen := used.LoadOrStore(unsafe.SliceData(framed), true); seen {
					reused.Add(1)
				}
				framed = fmt.Appendf(framed, "sender %d record %d %s", s, i, strings.Repeat("x", i))
				if _, _, err := j.AppendFramed(context.Background(), framed, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := reused.Load(); n < senders*each/2 {
		t.Errorf("%d of %d frames were buffers used before: few", n, senders*each)
	}
	applied, _, _, _ := fsm.state()
	crash(t, j)
	j = openTest(t, Options{Dir: j.opts.Dir}, &testFSM{})
	defer j.Close()
	stored := readAll(t, j, 1)
	if err := diffRecords(stored, applied); err != nil {
		t.Fatalf("stored records differ from those applied: %v", err)
	}
	seen := map[string]bool{}
	for _, r := range applied {
		var s, i int
		if _, err := fmt.Sscanf(string(r.Data), "sender %d record %d", &s, &i); err != nil ||
			string(r.Data) != fmt.Sprintf("sender %d record %d %s", s, i, strings.Repeat("x", i)) || seen[string(r.Data)] {
			t.Fatalf("record %d holds %q", r.Seq, r.Data)
		}
		seen[string(r.Data)] = true
	}
	if len(seen) != senders*each {
		t.Errorf("%d distinct records, want %d", len(seen), senders*each)
	}
}

func TestWriteFailure(t *testing.T) {
	fsm := &testFSM{}
	reg := prometheus.NewRegistry()
	j := openTest(t, Options{Dir: t.TempDir(), Registerer: reg}, fsm)
	defer j.Close()
	ctx := context.Background()
	if _, _, err := j.Append(ctx, []byte("one"), nil); err != nil {
		t.Fatalf("Append: %v", err)
	}

	j.commitTxn = func(*badger.Txn) error { return errInjected }
	_, _, err := j.Append(ctx, []byte("lost"), nil)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errInjected) {
		t.Fatalf("Append with failing store: %v, want ErrUnavailable wrapping the cause", err)
	}
	if j.LastSeq() != 1 {
		t.Errorf("LastSeq = %d after a failed commit, want 1", j.LastSeq())
	}

	j.commitTxn = (*badger.Txn).Commit
	rec, _, err := j.Append(ctx, []byte("two"), nil)
	if err != nil || rec.Seq != 2 {
		t.Fatalf("Append after recovery: seq %d, err %v; want seq 2", rec.Seq, err)
	}
	recs, _, _, ferr := fsm.state()
	if ferr != nil {
		t.Fatal(ferr)
	}
	if got := dataOf(recs); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("FSM holds %q, want [one two]", got)
	}
	if err := diffRecords(readAll(t, j, 0), recs); err != nil {
		t.Errorf("store differs from FSM: %v", err)
	}
	if got := counterValue(t, reg, "klaxon_journal_commit_failures_total"); got != 1 {
		t.Errorf("commit failures = %v, want 1", got)
	}
}

func TestWriteFailureFailsWholeBatch(t *testing.T) {
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: t.TempDir()}, fsm)
	defer j.Close()

	// Hold the first commit while others queue up, then fail the second.
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	j.commitTxn = func(txn *badger.Txn) error {
		switch calls.Add(1) {
		case 1:
			close(entered)
			<-release
		case 2:
			return errInjected
		}
		return txn.Commit()
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, _, err := j.Append(context.Background(), []byte("first"), nil); err != nil {
			t.Errorf("first Append: %v", err)
		}
	})
	<-entered
	const queued = 10
	errs := make([]error, queued)
	for i := range queued {
		wg.Go(func() { _, _, errs[i] = j.Append(context.Background(), []byte(fmt.Sprint(i)), nil) })
	}
	time.Sleep(50 * time.Millisecond) // let the appends queue behind the held commit
	close(release)
	wg.Wait()

	var failed []string
	want := []string{"first"}
	for i, err := range errs {
		switch {
		case err == nil:
			want = append(want, fmt.Sprint(i))
		case errors.Is(err, ErrUnavailable):
			failed = append(failed, fmt.Sprint(i))
		default:
			t.Errorf("Append %d: %v", i, err)
		}
	}
	if len(failed) == 0 {
		t.Fatal("no append failed")
	}
	recs, _, _, err := fsm.state()
	if err != nil {
		t.Fatal(err)
	}
	got := dataOf(recs)
	slices.Sort(got[1:])
	slices.Sort(want[1:])
	if !slices.Equal(got, want) {
		t.Errorf("FSM holds %q, want exactly the acknowledged %q", got, want)
	}
	if j.LastSeq() != uint64(len(want)) {
		t.Errorf("LastSeq = %d, want %d", j.LastSeq(), len(want))
	}
}

func TestCommitSplitsLargeBatch(t *testing.T) {
	// A 1 MiB memtable caps a badger transaction at about 150 KiB, so 200
	// records of 900 bytes (kept in the LSM tree) need two transactions.
	fsm := &testFSM{}
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	j := openTest(t, Options{Dir: dir, MemTableSize: 1 << 20, Registerer: reg}, fsm)
	j.stop() // drive commit directly

	const n = 200
	batch := make([]*request, n)
	for i := range batch {
		data := bytes.Repeat([]byte{byte(i)}, 900)
		batch[i] = &request{value: newRecordValue(data), done: make(chan result, 1)}
	}
	jobs := make(chan applyJob, n)
	j.commit(batch, jobs)
	close(jobs)
	for job := range jobs {
		j.apply(job)
	}
	for i, req := range batch {
		r := <-req.done
		if r.err != nil || r.rec.Seq != uint64(i)+1 {
			t.Fatalf("request %d: seq %d, err %v", i, r.rec.Seq, r.err)
		}
	}
	if commits := histogramCount(t, reg, "klaxon_journal_commit_batch_records"); commits < 2 {
		t.Errorf("batch written in %d transactions, want at least 2", commits)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want, _, _, err := fsm.state()
	if err != nil || len(want) != n {
		t.Fatalf("FSM applied %d records (err %v), want %d", len(want), err, n)
	}
	j = openTest(t, Options{Dir: dir, MemTableSize: 1 << 20}, &testFSM{})
	defer j.Close()
	if err := diffRecords(readAll(t, j, 0), want); err != nil {
		t.Errorf("stored records: %v", err)
	}
}

// blobFSM's state is the concatenation of all record data, so its
// snapshots grow large enough to span several chunks.
type blobFSM struct {
	mu   sync.Mutex
	data []byte
}

func (f *blobFSM) Apply(r Record) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data = append(f.data, r.Data...)
	return nil
}

func (f *blobFSM) Snapshot() SnapshotFunc {
	f.mu.Lock()
	defer f.mu.Unlock()
	data := bytes.Clone(f.data)
	return func() ([]byte, error) { return data, nil }
}

func (f *blobFSM) Restore(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data = b
	return nil
}

func TestLargeSnapshot(t *testing.T) {
	dir := t.TempDir()
	fsm := &blobFSM{}
	j := openTest(t, Options{Dir: dir, SnapshotEvery: 10}, fsm)
	for i := range 30 {
		data := bytes.Repeat([]byte{byte(i)}, 100_000)
		if _, _, err := j.Append(context.Background(), data, nil); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	j.collectGarbage(context.Background()) // the replaced snapshots are garbage
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Only the last snapshot's chunks remain.
	db, err := badger.Open(badgerOptions(Options{Dir: dir, MemTableSize: DefaultMemTableSize, Logger: j.log}))
	if err != nil {
		t.Fatal(err)
	}
	var chunks []string
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: chunkPrefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			chunks = append(chunks, fmt.Sprintf("%x", it.Item().Key()))
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	wantChunks := []string{
		fmt.Sprintf("%x", chunkKey(30, 0)),
		fmt.Sprintf("%x", chunkKey(30, 1)),
		fmt.Sprintf("%x", chunkKey(30, 2)),
	}
	if !slices.Equal(chunks, wantChunks) {
		t.Errorf("stored chunks %v, want %v", chunks, wantChunks)
	}

	restored := &blobFSM{}
	j = openTest(t, Options{Dir: dir, SnapshotEvery: 10}, restored)
	defer j.Close()
	if !bytes.Equal(restored.data, fsm.data) || j.replayed != 0 {
		t.Errorf("restored %d bytes after replaying %d records, want %d bytes from the snapshot alone",
			len(restored.data), j.replayed, len(fsm.data))
	}
}

func TestSnapshotFailure(t *testing.T) {
	dir := t.TempDir()
	fsm := &testFSM{snapErr: errors.New("state too tangled")}
	j := openTest(t, Options{Dir: dir, SnapshotEvery: 2}, fsm)
	for range 5 {
		if _, _, err := j.Append(context.Background(), []byte("x"), nil); err != nil {
			t.Fatalf("Append with failing snapshots: %v", err)
		}
	}
	if err := j.Close(); err == nil || !strings.Contains(err.Error(), "state too tangled") {
		t.Errorf("Close = %v, want the snapshot failure", err)
	}
	again := &testFSM{}
	j = openTest(t, Options{Dir: dir}, again)
	defer j.Close()
	if _, applied, restores, _ := again.state(); applied != 5 || restores != 0 {
		t.Errorf("reopen: %d restores, %d replayed; want 0 and 5", restores, applied)
	}
}

func TestCorruptSnapshot(t *testing.T) {
	dir := t.TempDir()
	j := openTest(t, Options{Dir: dir}, &testFSM{})
	if _, _, err := j.Append(context.Background(), []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := badger.Open(badgerOptions(Options{Dir: dir, MemTableSize: DefaultMemTableSize, Logger: j.log}))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error { return txn.Set(snapMetaKey, []byte("garbage")) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBadger(Options{Dir: dir}, &testFSM{}); !errors.Is(err, errCorrupt) {
		t.Errorf("OpenBadger on a corrupt snapshot: %v, want errCorrupt", err)
	}
}

func TestOpenBadgerOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		fsm  FSM
		want string
	}{
		{name: "no dir", opts: Options{}, fsm: &testFSM{}, want: "no directory"},
		{name: "nil fsm", opts: Options{Dir: t.TempDir()}, want: "nil FSM"},
		{name: "negative cache", opts: Options{Dir: t.TempDir(), BlockCacheSize: -1}, fsm: &testFSM{}, want: "negative block cache size"},
		{name: "tiny memtable", opts: Options{Dir: t.TempDir(), MemTableSize: 4096}, fsm: &testFSM{}, want: "below"},
		{name: "negative batch", opts: Options{Dir: t.TempDir(), MaxBatch: -1}, fsm: &testFSM{}, want: "negative max batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := OpenBadger(tt.opts, tt.fsm)
			if err == nil {
				j.Close()
				t.Fatalf("OpenBadger succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OpenBadger: %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	for range 2 { // reopening with the same registry reuses the metrics
		j := openTest(t, Options{Dir: dir, Registerer: reg}, &testFSM{})
		if _, _, err := j.Append(context.Background(), []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	want := []string{
		"klaxon_journal_commit_batch_records",
		"klaxon_journal_commit_duration_seconds",
		"klaxon_journal_commit_failures_total",
		"klaxon_journal_last_sequence",
		"klaxon_journal_snapshot_duration_seconds",
	}
	if !slices.Equal(names, want) {
		t.Errorf("metrics %v, want %v", names, want)
	}
	if got := gaugeValue(t, reg, "klaxon_journal_last_sequence"); got != 2 {
		t.Errorf("last sequence gauge = %v, want 2", got)
	}
	if got := histogramCount(t, reg, "klaxon_journal_snapshot_duration_seconds"); got != 2 {
		t.Errorf("%v snapshots observed, want 2", got)
	}
}

// dataOf returns the payloads of recs as strings.
func dataOf(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Data)
	}
	return out
}

// metric returns the single metric of the named family in reg.
func metric(t *testing.T, reg *prometheus.Registry, name string) *dto.Metric {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0]
		}
	}
	t.Fatalf("metric %s not found", name)
	return nil
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	return metric(t, reg, name).GetCounter().GetValue()
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	return metric(t, reg, name).GetGauge().GetValue()
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	return metric(t, reg, name).GetHistogram().GetSampleCount()
}
