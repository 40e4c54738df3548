package journal

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeFree is a filesystem whose free space the test sets.
type fakeFree struct {
	bytes    atomic.Int64
	readOnly atomic.Bool
}

func (f *fakeFree) stat(string) (fsSpace, error) {
	return fsSpace{free: f.bytes.Load(), readOnly: f.readOnly.Load()}, nil
}

func TestNoSpaceRefusesAndRecovers(t *testing.T) {
	const reserve = 10 << 20
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: t.TempDir(), MinFreeBytes: reserve}, fsm)
	defer j.Close()
	disk := &fakeFree{}
	disk.bytes.Store(1 << 40)
	j.space.setStat(disk.stat)
	ctx := context.Background()
	if _, _, err := j.Append(ctx, []byte("one"), nil); err != nil {
		t.Fatalf("Append: %v", err)
	}

	tests := []struct {
		name     string
		free     int64
		readOnly bool
		data     []byte
		wantErr  error
	}{
		{name: "below the reserve", free: reserve - 1, data: []byte("refused"), wantErr: ErrNoSpace},
		{name: "reserve but no room for the record", free: reserve + 100, data: bytes.Repeat([]byte("x"), 200), wantErr: ErrNoSpace},
		{name: "read-only", free: 1 << 40, readOnly: true, data: []byte("refused"), wantErr: ErrReadOnly},
		{name: "space returned", free: reserve + 1<<20, data: []byte("two")},
	}
	for _, tt := range tests {
		disk.bytes.Store(tt.free)
		disk.readOnly.Store(tt.readOnly)
		_, _, err := j.Append(ctx, tt.data, nil)
		if tt.wantErr == nil {
			if err != nil {
				t.Errorf("%s: Append: %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: Append = %v, want %v wrapping ErrUnavailable", tt.name, err, tt.wantErr)
		}
	}
	recs, _, _, err := fsm.state()
	if err != nil {
		t.Fatal(err)
	}
	if got := dataOf(recs); strings.Join(got, ",") != "one,two" {
		t.Errorf("FSM holds %q, want only the accepted [one two]", got)
	}
	if j.LastSeq() != 2 {
		t.Errorf("LastSeq = %d, want 2", j.LastSeq())
	}
}

func TestNoSpaceSkipsSnapshot(t *testing.T) {
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: t.TempDir(), MinFreeBytes: 1 << 20}, fsm)
	disk := &fakeFree{}
	disk.bytes.Store(1<<20 + 1000) // room for a small record, not for the snapshot
	j.space.setStat(disk.stat)
	for i := range 20 {
		if _, _, err := j.Append(context.Background(), []byte{byte(i)}, nil); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if err := j.Close(); !errors.Is(err, ErrNoSpace) {
		t.Errorf("Close = %v, want the final snapshot refused with ErrNoSpace", err)
	}
	if _, has := j.storedSnapshot(); has {
		t.Error("a snapshot was stored without room for it")
	}
}

func TestOpenOnFullDisk(t *testing.T) {
	dir := t.TempDir()
	j := openTest(t, Options{Dir: dir}, &testFSM{})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := statfs(dir)
	if err != nil {
		t.Fatal(err)
	}
	free := st.free
	before := storeFiles(t, dir)
	// A reserve larger than the free space makes the real disk "full".
	_, err = OpenBadger(Options{Dir: dir, MinFreeBytes: free + 1<<30}, &testFSM{})
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("OpenBadger on a full disk: %v, want ErrNoSpace naming %s", err, dir)
	}
	if after := storeFiles(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("files changed:\n before %v\n after  %v", before, after)
	}
	// A directory not created yet is measured on its parent's filesystem.
	if _, err := statfs(dir + "/not/yet"); err != nil {
		t.Errorf("statfs of a missing directory: %v", err)
	}
}

func TestDefaultMinFree(t *testing.T) {
	tests := []struct {
		memTable int64
		want     int64
	}{
		// 2 memtables + 5 level 0 tables + 10 MiB base level + 4 MiB.
		{memTable: 1 << 20, want: (2+5)<<20 + 10<<20 + 4<<20},
		{memTable: 16 << 20, want: (2+5)*16<<20 + 10<<20 + 4<<20},
	}
	for _, tt := range tests {
		if got := defaultMinFree(tt.memTable); got != tt.want {
			t.Errorf("defaultMinFree(%d) = %d, want %d", tt.memTable, got, tt.want)
		}
	}
}

// TestSnapshotGateSurvivesRestarts: the gate that spaces snapshots (records
// and bytes since the last one) counts from the snapshot on disk, so crashes
// do not reset it and replay stays bounded.
func TestSnapshotGateSurvivesRestarts(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SnapshotEvery: 10}
	record := bytes.Repeat([]byte("r"), 1000)
	appendN := func(j *Badger, n int) {
		t.Helper()
		for range n {
			if _, _, err := j.Append(context.Background(), record, nil); err != nil {
				t.Fatalf("Append: %v", err)
			}
		}
	}
	// blobFSM snapshots are as large as every record so far: the second
	// snapshot (at 20) waits for 10,000 bytes, the third for 20,000.
	j := openTest(t, opts, &blobFSM{})
	appendN(j, 30)
	crash(t, j)

	j = openTest(t, opts, &blobFSM{})
	if j.snap.Seq != 20 || j.replayed != 10 {
		t.Fatalf("first reopen: snapshot %d, %d replayed; want 20 and 10", j.snap.Seq, j.replayed)
	}
	// 10 replayed and 10 new records make the 20,000 bytes the gate wants.
	appendN(j, 10)
	crash(t, j)

	j = openTest(t, opts, &blobFSM{})
	defer j.Close()
	if j.snap.Seq != 40 || j.replayed != 0 {
		t.Errorf("second reopen: snapshot %d, %d replayed; want a snapshot at 40 and nothing to replay", j.snap.Seq, j.replayed)
	}
}

// slowFSM's snapshots take until release is closed to serialise.
type slowFSM struct {
	countFSM
	release chan struct{}
}

func (f *slowFSM) Snapshot() SnapshotFunc {
	return func() ([]byte, error) {
		<-f.release
		return []byte("late"), nil
	}
}

func TestCloseContextAbandonsSlowSnapshot(t *testing.T) {
	tests := []struct {
		name          string
		snapshotEvery uint64 // 1: a background snapshot is in flight at Close
	}{
		{name: "final snapshot", snapshotEvery: 1000},
		{name: "background snapshot in flight", snapshotEvery: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fsm := &slowFSM{release: make(chan struct{})}
			j := openTest(t, Options{Dir: dir, SnapshotEvery: tt.snapshotEvery}, fsm)
			for range 3 {
				if _, _, err := j.Append(context.Background(), []byte("x"), nil); err != nil {
					t.Fatalf("Append: %v", err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			// Close returns although the snapshot never finishes serialising.
			if err := j.CloseContext(ctx); err != nil {
				t.Fatalf("CloseContext: %v", err)
			}
			if _, has := j.storedSnapshot(); has {
				t.Error("a snapshot was stored")
			}
			close(fsm.release) // the abandoned serialiser finishes, and writes nothing
			j.snapWG.Wait()
			again := &countFSM{}
			j = openTest(t, Options{Dir: dir}, again)
			defer j.Close()
			if again.n != 3 || j.LastSeq() != 3 {
				t.Errorf("reopen replayed %d records to seq %d, want all 3", again.n, j.LastSeq())
			}
		})
	}
}

// BenchmarkSpaceCheck is the statfs made before every commit, alone.
func BenchmarkSpaceCheck(b *testing.B) {
	g := newSpaceGuard(b.TempDir(), 1<<20)
	for b.Loop() {
		if err := g.check(4096); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSpaceCheck appends one record per commit, the worst case
// for the per-commit check, with the real statfs and with none.
func BenchmarkAppendSpaceCheck(b *testing.B) {
	for _, bc := range []struct {
		name string
		stat func(string) (fsSpace, error)
	}{
		{"statfs", statfs},
		{"none", func(string) (fsSpace, error) { return fsSpace{free: 1 << 50}, nil }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			j := openTest(b, Options{Dir: b.TempDir()}, &countFSM{})
			defer j.Close()
			j.space.setStat(bc.stat)
			data := bytes.Repeat([]byte("a"), 512)
			for b.Loop() {
				if _, _, err := j.Append(context.Background(), data, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
