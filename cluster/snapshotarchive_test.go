package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/klaxonhq/klaxon/journal"
)

// openArchive opens an archive journal in a temporary directory.
func openArchive(t testing.TB) *journal.Badger {
	t.Helper()
	a, err := journal.OpenBadger(journal.Options{Dir: t.TempDir()}, nopFSM{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// fillArchive stores n items of size bytes each, keyed INC-0 …
func fillArchive(t testing.TB, a *journal.Badger, n, size int, at time.Time) {
	t.Helper()
	var batch []journal.ArchiveItem
	for i := range n {
		data := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		batch = append(batch, journal.ArchiveItem{Key: fmt.Sprintf("INC-%d", i), Time: at.Add(time.Duration(i) * time.Second), Data: data})
		if len(batch) == 1000 || i == n-1 {
			if err := a.PutArchive(at, batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
}

// sentSnapshot is what a leader with archive sends for a snapshot of fsm
// at lastSeq: the snapshot as Persist writes it, then the archive section.
func sentSnapshot(t testing.TB, fsm *testFSM, lastSeq uint64, archive *journal.Badger) []byte {
	t.Helper()
	var buf bytes.Buffer
	snap := &snapshot{lastSeq: lastSeq, nanos: 1, members: map[string]string{"n0": "http://n0"}, serialise: fsm.Snapshot()}
	if err := snap.write(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	out[flagsOffset] |= flagArchive
	var section bytes.Buffer
	if _, err := writeArchiveSection(&section, archive); err != nil {
		t.Fatal(err)
	}
	return append(out, section.Bytes()...)
}

// receiver is a follower's FSM with an empty archive of its own.
func receiver(t *testing.T) (*fsm, *testFSM, *journal.Badger) {
	t.Helper()
	inner := &testFSM{}
	archive := openArchive(t)
	f := newFSM(inner, archive, zaptest.NewLogger(t), prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x"}))
	f.markPath = filepath.Join(t.TempDir(), archiveMarkFile)
	return f, inner, archive
}

// cutReader fails after n bytes, as a connection that drops or a process that dies.
type cutReader struct {
	r io.Reader
	n int
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errors.New("connection cut")
	}
	p = p[:min(len(p), c.n)]
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func countArchive(t *testing.T, a *journal.Badger) int {
	t.Helper()
	n := 0
	if err := a.ScanArchive("", func(journal.ArchiveItem) (bool, error) { n++; return true, nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRestoreStoresTheSnapshotsArchive(t *testing.T) {
	leaderArchive := openArchive(t)
	fillArchive(t, leaderArchive, 3000, 300, time.Unix(1e9, 0))
	sent := sentSnapshot(t, &testFSM{recs: []journal.Record{{Seq: 7, Data: []byte("x")}}}, 7, leaderArchive)
	headLen := len(sent) - mustSectionLen(t, leaderArchive)

	tests := []struct {
		name string
		cut  int // bytes the first attempt reads before it is cut; 0 = no first attempt
	}{
		{"whole", 0},
		{"cut in the header", 10},
		{"cut in the archive", headLen + (len(sent)-headLen)/2},
		{"cut before the end", len(sent) - 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, inner, archive := receiver(t)
			if tc.cut > 0 {
				err := f.Restore(io.NopCloser(&cutReader{r: bytes.NewReader(sent), n: tc.cut}))
				if err == nil {
					t.Fatalf("a snapshot cut after %d of %d bytes restored", tc.cut, len(sent))
				}
				if inner.restored() != 0 {
					t.Fatalf("a cut snapshot replaced the state")
				}
				if mark, _ := readArchiveMark(f.markPath); mark != 0 {
					t.Fatalf("a cut snapshot moved the archive mark to %d", mark)
				}
			}
			// The next start restores the same snapshot again, whole.
			if err := f.Restore(io.NopCloser(bytes.NewReader(sent))); err != nil {
				t.Fatal(err)
			}
			if got := countArchive(t, archive); got != 3000 {
				t.Errorf("archive holds %d items, want 3000", got)
			}
			item, ok, err := archive.Archived("INC-2999")
			if err != nil || !ok || !bytes.Equal(item.Data, bytes.Repeat([]byte{byte('a' + 2999%26)}, 300)) {
				t.Errorf("INC-2999: %v %v %d bytes", ok, err, len(item.Data))
			}
			if inner.restored() != 1 || len(inner.records()) != 1 {
				t.Errorf("state restored %d times with %d records", inner.restored(), len(inner.records()))
			}
			if mark, _ := readArchiveMark(f.markPath); mark != 7 {
				t.Errorf("archive mark %d, want 7", mark)
			}
		})
	}
}

func mustSectionLen(t *testing.T, a *journal.Badger) int {
	t.Helper()
	n, err := writeArchiveSection(io.Discard, a)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestRestoreSkipsAnArchiveItHolds(t *testing.T) {
	leaderArchive := openArchive(t)
	fillArchive(t, leaderArchive, 10, 10, time.Unix(1e9, 0))
	sent := sentSnapshot(t, &testFSM{}, 9, leaderArchive)
	f, inner, _ := receiver(t)
	if err := writeArchiveMark(f.markPath, 9); err != nil {
		t.Fatal(err)
	}
	// Reading past the state would fail: a restart after a whole restore
	// does not store the archive again.
	headLen := len(sent) - mustSectionLen(t, leaderArchive)
	if err := f.Restore(io.NopCloser(&cutReader{r: bytes.NewReader(sent), n: headLen})); err != nil {
		t.Fatalf("restore of a snapshot whose archive the mark covers: %v", err)
	}
	if inner.restored() != 1 {
		t.Errorf("state restored %d times", inner.restored())
	}
}

func TestRestoreRefusesABadArchiveSection(t *testing.T) {
	leaderArchive := openArchive(t)
	fillArchive(t, leaderArchive, 3, 10, time.Unix(1e9, 0))
	sent := sentSnapshot(t, &testFSM{}, 4, leaderArchive)
	tests := []struct {
		name   string
		mangle func([]byte) []byte
	}{
		{"count too high", func(b []byte) []byte { b[len(b)-1]++; return b }},
		{"unknown tag", func(b []byte) []byte {
			i := len(b) - mustSectionLen(t, leaderArchive)
			b[i] = 'x'
			return b
		}},
		{"no end", func(b []byte) []byte { return b[:len(b)-9] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, inner, _ := receiver(t)
			err := f.Restore(io.NopCloser(bytes.NewReader(tc.mangle(bytes.Clone(sent)))))
			if !errors.Is(err, errBadCommand) {
				t.Errorf("restore: %v, want errBadCommand", err)
			}
			if inner.restored() != 0 {
				t.Errorf("a bad archive section let the state be replaced")
			}
		})
	}
}

func TestRestoreReadsVersion1Snapshots(t *testing.T) {
	f, inner, _ := receiver(t)
	state := []byte(`[{"Seq":3,"Data":"eA=="}]`)
	members := []byte(`{"n0":"http://n0"}`)
	v1 := append([]byte("KXR\x01"), make([]byte, 20)...)
	v1[11] = 3
	v1[23] = byte(len(members))
	v1 = append(append(v1, members...), state...)
	if err := f.Restore(io.NopCloser(bytes.NewReader(v1))); err != nil {
		t.Fatal(err)
	}
	if inner.restored() != 1 || f.lastSeq.Load() != 3 {
		t.Errorf("restored %d times, last seq %d", inner.restored(), f.lastSeq.Load())
	}
	if u, ok := f.memberURL("n0"); !ok || u != "http://n0" {
		t.Errorf("member n0: %q %v", u, ok)
	}
}

// BenchmarkSnapshotArchive measures what a snapshot sent to a follower
// costs for a realistic archive: 40,000 incidents of 6,700 bytes each (an
// incident of five alerts and six timeline notes, as triage archives it),
// staged on the sender and stored on the receiver.
func BenchmarkSnapshotArchive(b *testing.B) {
	const items, size = 40000, 6700
	sender := openArchive(b)
	fillArchive(b, sender, items, size, time.Unix(1e9, 0))
	dir := b.TempDir()
	var section int64
	b.Run("stage", func(b *testing.B) {
		for b.Loop() {
			f, n, err := stageArchive(dir, sender)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
			section = n
		}
		b.ReportMetric(float64(section)/(1<<20), "MiB/section")
	})
	f, _, err := stageArchive(dir, sender)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			receiver := openArchive(b)
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			n, err := restoreArchive(bufio.NewReaderSize(f, 1<<20), receiver, time.Unix(1e9, 0))
			if err != nil || n != items {
				b.Fatalf("stored %d items: %v", n, err)
			}
		}
	})
}

// TestSnapshotStoreAppendsTheArchiveWhenSending: a snapshot of this node's
// own is opened as stored while raft starts (to restore this node), and
// with the archive appended, its size grown to match, once raft runs; one
// received with an archive is opened as stored either way.
func TestSnapshotStoreAppendsTheArchiveWhenSending(t *testing.T) {
	dir := t.TempDir()
	files, err := raft.NewFileSnapshotStore(dir, 2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	archive := openArchive(t)
	fillArchive(t, archive, 5, 100, time.Unix(1e9, 0))
	store := &snapshotStore{FileSnapshotStore: files, archive: archive, dir: dir}
	own := sentSnapshot(t, &testFSM{}, 3, archive)
	section := mustSectionLen(t, archive)
	own = own[:len(own)-section]
	own[flagsOffset] = 0
	received := sentSnapshot(t, &testFSM{}, 4, archive)
	ids := map[string][]byte{}
	for i, data := range [][]byte{own, received} {
		sink, err := store.Create(raft.SnapshotVersionMax, uint64(10+i), 1, raft.Configuration{}, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sink.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		ids[sink.ID()] = data
	}
	for _, sending := range []bool{false, true} {
		store.sending.Store(sending)
		for id, stored := range ids {
			meta, rc, err := store.Open(id)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			want := stored
			if sending && stored[flagsOffset]&flagArchive == 0 {
				var section bytes.Buffer
				if _, err := writeArchiveSection(&section, archive); err != nil {
					t.Fatal(err)
				}
				want = append(bytes.Clone(stored), section.Bytes()...)
				want[flagsOffset] |= flagArchive
			}
			if !bytes.Equal(got, want) || meta.Size != int64(len(got)) {
				t.Errorf("sending %v, snapshot with flags %d: read %d bytes, size %d; want %d bytes", sending, stored[flagsOffset], len(got), meta.Size, len(want))
			}
		}
	}
}
