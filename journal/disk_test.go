package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// churnFSM models a state that stays the same size while records flow
// through it: it keeps the data of the last churnKeep records, and every
// tenth record archives an item under a new key.
type churnFSM struct {
	mu      sync.Mutex
	applied uint64
	ring    [][]byte
	taken   []ArchiveItem
}

const churnKeep = 64

func (f *churnFSM) Apply(r Record) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied++
	if f.ring == nil {
		f.ring = make([][]byte, churnKeep)
	}
	f.ring[f.applied%churnKeep] = r.Data
	if r.Seq%10 == 0 {
		f.taken = append(f.taken, ArchiveItem{Key: fmt.Sprintf("INC-%d", r.Seq), Time: r.Time, Data: r.Data[:512]})
	}
	return nil
}

func (f *churnFSM) TakeArchive() []ArchiveItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	return takeItems(&f.taken)
}

func (f *churnFSM) Snapshot() SnapshotFunc {
	f.mu.Lock()
	defer f.mu.Unlock()
	data := binary.BigEndian.AppendUint64(nil, f.applied)
	for _, d := range f.ring {
		data = append(data, d...)
	}
	return func() ([]byte, error) { return data, nil }
}

func (f *churnFSM) Restore(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = binary.BigEndian.Uint64(b)
	return nil
}

// allocatedBytes is the disk space the files under dir take (badger's
// files are sparse, so their sizes overstate it).
func allocatedBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			return err
		}
		total += st.Blocks * 512
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// churn appends n records of size bytes from several goroutines.
func churn(t *testing.T, j *Badger, n, size int) {
	t.Helper()
	const writers = 16
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte('a' + w)}, size)
			for range n / writers {
				if _, _, err := j.Append(context.Background(), data, nil); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// reclaim brings the store to what retention leaves of it: it waits for a
// snapshot in flight, truncates, and then has badger compact (which is when
// it counts deleted values as garbage) and collect its value log. Badger
// compacts on its own as memtables fill; the test forces it so that the
// figures do not depend on when that happens.
func reclaim(t *testing.T, j *Badger) {
	t.Helper()
	waitUntil(t, "the background snapshot is stored", func() bool { return !j.snapping.Load() })
	j.retain(context.Background())
	// DropPrefix flushes the memtables; a marker key gives it something to drop.
	marker := []byte("x/flush")
	if err := j.db.Update(func(txn *badger.Txn) error { return txn.Set(marker, nil) }); err != nil {
		t.Fatal(err)
	}
	if err := j.db.DropPrefix(marker); err != nil {
		t.Fatal(err)
	}
	if err := j.db.Flatten(1); err != nil {
		t.Fatal(err)
	}
	j.retain(context.Background())
}

// TestDiskUseIsBounded runs steady churn through many snapshot cycles and
// checks that the data directory stops growing once the retention window
// is full, rather than growing with the number of records written.
func TestDiskUseIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes about 100 MiB")
	}
	const (
		size    = 2 << 10 // bytes per record: above the value threshold, so in the value log
		perStep = 4000    // records between measurements: 8 snapshot cycles
		steps   = 6
		// vlogSize is the value log file size: small, so that GC has whole files to reclaim.
		vlogSize = 1 << 20
	)
	dir := t.TempDir()
	clock := newStepClock(100 * time.Millisecond)
	j := openTest(t, Options{
		Dir:              dir,
		MemTableSize:     minMemTableSize,
		BlockCacheSize:   1 << 20,
		IndexCacheSize:   1 << 20,
		ValueLogFileSize: vlogSize,
		SnapshotEvery:    500,
		Retention:        time.Second,
		ArchiveRetention: 2 * time.Second,
		Clock:            clock.Now,
	}, &churnFSM{})
	defer j.Close()

	var sizes []int64
	for step := range steps {
		churn(t, j, perStep, size)
		reclaim(t, j)
		sizes = append(sizes, allocatedBytes(t, dir))
		items, _ := archiveKeyCount(t, j)
		t.Logf("after %6d records (%3d MiB written): %7d KiB allocated; records %d-%d stored; %d archived items",
			(step+1)*perStep, (step+1)*perStep*size>>20, sizes[step]>>10, j.FirstSeq(), j.LastSeq(), items)
	}
	// The first two steps fill the window and reach steady state. Later
	// ones may differ by where the last snapshot fell and by value log
	// files that are less than half garbage (GC leaves those, and the head
	// file), but must not grow with the records written.
	warm := max(sizes[0], sizes[1])
	bound := 2*warm + 2*vlogSize
	for i, s := range sizes[2:] {
		if s > bound {
			t.Errorf("after %d records %d KiB allocated, more than the %d KiB bound (after warm-up: %d KiB)",
				(i+3)*perStep, s>>10, bound>>10, warm>>10)
		}
	}
	written := int64(steps * perStep * size)
	if last := sizes[steps-1]; last > written/8 {
		t.Errorf("%d KiB allocated after writing %d KiB: the journal is not truncated", last>>10, written>>10)
	}
}
