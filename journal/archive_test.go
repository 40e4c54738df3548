package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// archFSM archives: a record "archive K1 K2 ..." moves items K1, K2, ...
// out of its state at the record's time, with data "K@seq". Its state is
// the number of records applied.
type archFSM struct {
	mu        sync.Mutex
	applied   uint64
	taken     []ArchiveItem
	lastTaken []ArchiveItem // what TakeArchive last returned
	scribble  bool          // Apply overwrites the data TakeArchive last returned, as an FSM reusing buffers might
	withhold  bool          // TakeArchive forgets the items without returning them, as a process dying before the journal stores them would
}

func (f *archFSM) Apply(r Record) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied++
	for _, item := range f.lastTaken {
		if f.scribble {
			copy(item.Data, "XXXXX")
		}
	}
	if keys, ok := strings.CutPrefix(string(r.Data), "archive "); ok {
		for _, k := range strings.Fields(keys) {
			f.taken = append(f.taken, ArchiveItem{Key: k, Time: r.Time, Data: fmt.Appendf(nil, "%s@%d", k, r.Seq)})
		}
	}
	return nil
}

func (f *archFSM) TakeArchive() []ArchiveItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	items := takeItems(&f.taken)
	if f.withhold || len(items) == 0 {
		return nil
	}
	f.lastTaken = items
	return items
}

// takeItems returns the items *taken holds and empties it.
func takeItems(taken *[]ArchiveItem) []ArchiveItem {
	items := *taken
	*taken = nil
	return items
}

func (f *archFSM) Snapshot() SnapshotFunc {
	f.mu.Lock()
	defer f.mu.Unlock()
	data := binary.BigEndian.AppendUint64(nil, f.applied)
	return func() ([]byte, error) { return data, nil }
}

func (f *archFSM) Restore(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(b) != 8 {
		return fmt.Errorf("state of %d bytes", len(b))
	}
	f.applied, f.taken = binary.BigEndian.Uint64(b), nil
	return nil
}

// archiveFixture is the clock start and the records TestArchive appends,
// one second apart: record i+1 at start+i+1 seconds.
var archiveFixture = []string{"archive INC-1", "archive INC-2", "archive INC-3", "archive B A", "plain"}

// openArchive opens a journal on dir with an archFSM and appends records.
func openArchive(t *testing.T, opts Options, records ...string) (*Badger, *archFSM) {
	t.Helper()
	fsm := &archFSM{}
	j := openTest(t, opts, fsm)
	appendRecords(t, j, records...)
	return j, fsm
}

// scanKeys returns the keys ScanArchive(after) passes, stopping after limit (0: all).
func scanKeys(j *Badger, after string, limit int) ([]string, error) {
	keys := []string{}
	err := j.ScanArchive(after, func(item ArchiveItem) (bool, error) {
		keys = append(keys, item.Key)
		return limit == 0 || len(keys) < limit, nil
	})
	return keys, err
}

// archiveKeyCount counts the stored item and index keys of j.
func archiveKeyCount(t *testing.T, j *Badger) (items, index int) {
	t.Helper()
	count := func(txn *badger.Txn, prefix []byte) int {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return n
	}
	if err := j.db.View(func(txn *badger.Txn) error {
		items, index = count(txn, archiveItemPrefix), count(txn, archiveTimePrefix)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return items, index
}

func TestArchive(t *testing.T) {
	dir := t.TempDir()
	clock := newStepClock(time.Second)
	start := clock.now
	opts := Options{Dir: dir, Clock: clock.Now}
	j, _ := openArchive(t, opts, archiveFixture...)

	check := func(t *testing.T, j *Badger) {
		t.Helper()
		item, ok, err := j.Archived("INC-2")
		if err != nil || !ok {
			t.Fatalf("Archived(INC-2) = %v, %v", ok, err)
		}
		if string(item.Data) != "INC-2@2" || !item.Time.Equal(start.Add(2*time.Second)) || item.Key != "INC-2" {
			t.Errorf("Archived(INC-2) = {%s %s %q}", item.Key, item.Time, item.Data)
		}
		if _, ok, err := j.Archived("INC-9"); ok || err != nil {
			t.Errorf("Archived(INC-9) = %v, %v; want none", ok, err)
		}
		for _, tc := range []struct {
			after string
			limit int
			want  []string
		}{
			{"", 0, []string{"B", "A", "INC-3", "INC-2", "INC-1"}},
			{"", 2, []string{"B", "A"}},
			{"B", 0, []string{"A", "INC-3", "INC-2", "INC-1"}},
			{"A", 2, []string{"INC-3", "INC-2"}},
			{"INC-2", 0, []string{"INC-1"}},
			{"INC-1", 0, []string{}},
		} {
			got, err := scanKeys(j, tc.after, tc.limit)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("ScanArchive(%q) limit %d = %q, %v; want %q", tc.after, tc.limit, got, err, tc.want)
			}
		}
		if _, err := scanKeys(j, "INC-9", 0); !errors.Is(err, ErrUnknownCursor) {
			t.Errorf("ScanArchive(INC-9) error %v, want ErrUnknownCursor", err)
		}
		stop := errors.New("stop")
		if err := j.ScanArchive("", func(ArchiveItem) (bool, error) { return true, stop }); !errors.Is(err, stop) {
			t.Errorf("ScanArchive returned %v, want fn's error", err)
		}
	}
	t.Run("live", func(t *testing.T) { check(t, j) })
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, _ = openArchive(t, opts)
	defer j.Close()
	t.Run("reopened", func(t *testing.T) { check(t, j) })

	// Archiving INC-2 again replaces it, index entry included.
	appendRecords(t, j, "archive INC-2", "plain") // the second waits for the first's archive write
	item, ok, err := j.Archived("INC-2")
	if err != nil || !ok || string(item.Data) != "INC-2@6" || !item.Time.Equal(start.Add(6*time.Second)) {
		t.Errorf("replaced INC-2 = {%s %q}, %v, %v", item.Time, item.Data, ok, err)
	}
	got, err := scanKeys(j, "", 0)
	if want := []string{"INC-2", "B", "A", "INC-3", "INC-1"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("after replacing INC-2, ScanArchive = %q, %v; want %q", got, err, want)
	}
	if items, index := archiveKeyCount(t, j); items != 5 || index != 5 {
		t.Errorf("stored %d items and %d index keys, want 5 and 5", items, index)
	}
}

// TestArchiveScanMergesPending checks that items not yet stored (a failed
// write) are read as if they were: they interleave by time and replace
// stored items under the same key.
func TestArchiveScanMergesPending(t *testing.T) {
	clock := newStepClock(time.Second)
	start := clock.now
	j, _ := openArchive(t, Options{Dir: t.TempDir(), Clock: clock.Now}, archiveFixture...)
	defer j.Close()
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	j.archMu.Lock()
	j.pending = map[string]ArchiveItem{
		"INC-2": {Key: "INC-2", Time: at(9), Data: []byte("new")}, // replaces stored INC-2 at 2
		"C":     {Key: "C", Time: at(2), Data: []byte("c")},       // between INC-3 and INC-1
		"AA":    {Key: "AA", Time: at(4), Data: []byte("aa")},     // between B and A
	}
	j.archMu.Unlock()
	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 0, []string{"INC-2", "B", "AA", "A", "INC-3", "C", "INC-1"}},
		{"INC-2", 0, []string{"B", "AA", "A", "INC-3", "C", "INC-1"}},
		{"AA", 0, []string{"A", "INC-3", "C", "INC-1"}},
		{"INC-3", 1, []string{"C"}},
		{"C", 0, []string{"INC-1"}},
		{"B", 2, []string{"AA", "A"}},
	} {
		got, err := scanKeys(j, tc.after, tc.limit)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ScanArchive(%q) limit %d = %q, %v; want %q", tc.after, tc.limit, got, err, tc.want)
		}
	}
	if item, ok, err := j.Archived("INC-2"); err != nil || !ok || string(item.Data) != "new" {
		t.Errorf("Archived(INC-2) = %q, %v, %v; want the pending item", item.Data, ok, err)
	}
	if err := j.storePending(); err != nil {
		t.Fatal(err)
	}
	got, err := scanKeys(j, "", 0)
	if want := []string{"INC-2", "B", "AA", "A", "INC-3", "C", "INC-1"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("once stored, ScanArchive = %q, %v; want %q", got, err, want)
	}
}

func TestArchiveAgeOut(t *testing.T) {
	clock := newStepClock(time.Second)
	j, _ := openArchive(t, Options{Dir: t.TempDir(), Clock: clock.Now, ArchiveRetention: 3 * time.Second}, archiveFixture...)
	defer j.Close()
	for _, tc := range []struct {
		more []string // records appended first, one second apart
		want []string
	}{
		// Newest record at 5s: items before 2s go.
		{nil, []string{"B", "A", "INC-3", "INC-2"}},
		// At 7s: before 4s.
		{[]string{"plain", "plain"}, []string{"B", "A"}},
		// At 9s, with a new item at 8s: before 6s.
		{[]string{"archive D", "plain"}, []string{"D"}},
	} {
		for _, r := range tc.more {
			if _, _, err := j.Append(context.Background(), []byte(r), nil); err != nil {
				t.Fatal(err)
			}
		}
		j.retain(context.Background())
		got, err := scanKeys(j, "", 0)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("after %q: ScanArchive = %q, %v; want %q", tc.more, got, err, tc.want)
		}
		if items, index := archiveKeyCount(t, j); items != len(tc.want) || index != len(tc.want) {
			t.Errorf("after %q: stored %d items and %d index keys, want %d", tc.more, items, index, len(tc.want))
		}
	}
	if _, ok, err := j.Archived("INC-1"); ok || err != nil {
		t.Errorf("Archived(INC-1) after age-out = %v, %v; want none", ok, err)
	}
}

// TestArchiveInBatches archives, and then ages out, more items than one
// badger transaction holds (a small memtable makes the limit small).
func TestArchiveInBatches(t *testing.T) {
	clock := newStepClock(time.Second)
	fsm := &archFSM{}
	j := openTest(t, Options{Dir: t.TempDir(), Clock: clock.Now, MemTableSize: minMemTableSize, ArchiveRetention: time.Second}, fsm)
	defer j.Close()
	var commits atomic.Int64
	commit := j.commitArchive
	j.commitArchive = func(txn *badger.Txn) error {
		commits.Add(1)
		return commit(txn)
	}
	n := int(j.db.MaxBatchCount()) // each item takes two entries
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("K%05d", i)
	}
	appendRecords(t, j, "archive "+strings.Join(keys, " "), "plain") // the second waits for the first's archive write
	if c := commits.Load(); c < 2 {
		t.Errorf("%d items stored in %d transaction(s), want them split", n, c)
	}
	got, err := scanKeys(j, "", 0)
	slices.Reverse(keys)
	if err != nil || !slices.Equal(got, keys) {
		t.Errorf("ScanArchive found %d items, %v; want %d", len(got), err, n)
	}

	appendRecords(t, j, "plain", "plain")
	j.retain(context.Background())
	if items, index := archiveKeyCount(t, j); items != 0 || index != 0 {
		t.Errorf("stored %d items and %d index keys after age-out, want none", items, index)
	}
}

// TestArchiveRecoveredAfterCrash: an item the FSM handed over but the
// journal never stored (the process died first) is archived again when
// recovery replays the record that archived it.
func TestArchiveRecoveredAfterCrash(t *testing.T) {
	dir := t.TempDir()
	clock := newStepClock(time.Second)
	opts := Options{Dir: dir, Clock: clock.Now, SnapshotEvery: 1 << 40}
	fsm := &archFSM{withhold: true}
	j := openTest(t, opts, fsm)
	appendRecords(t, j, "plain", "archive INC-7", "plain")
	if _, ok, _ := j.Archived("INC-7"); ok {
		t.Fatal("withheld item is archived")
	}
	crash(t, j)

	j, _ = openArchive(t, opts)
	item, ok, err := j.Archived("INC-7")
	if err != nil || !ok || string(item.Data) != "INC-7@2" {
		t.Fatalf("after recovery Archived(INC-7) = %q, %v, %v", item.Data, ok, err)
	}
	if n := len(j.pendingItems()); n != 0 {
		t.Errorf("%d items still pending after recovery", n)
	}
	crash(t, j)
	j, _ = openArchive(t, Options{Dir: dir})
	defer j.Close()
	if _, ok, err := j.Archived("INC-7"); err != nil || !ok {
		t.Errorf("recovery did not store INC-7: %v, %v", ok, err)
	}
}

// TestArchiveWriteFailure: while an archive write fails the item stays
// readable and no snapshot is taken, so a restart archives it again.
func TestArchiveWriteFailure(t *testing.T) {
	dir := t.TempDir()
	j, _ := openArchive(t, Options{Dir: dir}, "plain")
	if err := j.Close(); err != nil { // snapshot at 1
		t.Fatal(err)
	}
	opts := Options{Dir: dir, SnapshotEvery: 1}
	j, fsm := openArchive(t, opts)
	j.commitArchive = func(*badger.Txn) error { return errInjected }
	fsm.scribble = true // The FSM reusing its buffers does not change what the journal keeps.
	appendRecords(t, j, "archive INC-8", "plain")
	if item, ok, err := j.Archived("INC-8"); err != nil || !ok || string(item.Data) != "INC-8@2" {
		t.Errorf("pending Archived(INC-8) = %q, %v, %v", item.Data, ok, err)
	}
	if got, err := scanKeys(j, "", 0); err != nil || !slices.Equal(got, []string{"INC-8"}) {
		t.Errorf("pending ScanArchive = %q, %v", got, err)
	}
	if err := j.Close(); !errors.Is(err, errInjected) {
		t.Errorf("Close = %v, want the archive write's failure", err)
	}
	if snap, _ := j.storedSnapshot(); snap.Seq != 1 {
		t.Errorf("snapshot taken at %d with an archived item unstored", snap.Seq)
	}

	j, _ = openArchive(t, opts)
	defer j.Close()
	if item, ok, err := j.Archived("INC-8"); err != nil || !ok || string(item.Data) != "INC-8@2" {
		t.Errorf("after restart Archived(INC-8) = %q, %v, %v", item.Data, ok, err)
	}
	if n := len(j.pendingItems()); n != 0 {
		t.Errorf("%d items still pending after recovery", n)
	}
}

// TestArchiveDropsBadItems: an item the journal cannot store is dropped
// with an error rather than holding up snapshots for ever.
func TestArchiveDropsBadItems(t *testing.T) {
	j := openTest(t, Options{Dir: t.TempDir(), ValueLogFileSize: 1 << 20}, &testFSM{})
	defer j.Close()
	big := make([]byte, 1<<20)
	for _, item := range []ArchiveItem{
		{Key: "", Time: time.Unix(1, 0)},
		{Key: strings.Repeat("k", maxArchiveKey+1), Time: time.Unix(1, 0)},
		{Key: "zero-time"},
		{Key: "big", Time: time.Unix(1, 0), Data: big},
	} {
		if err := j.checkArchiveItem(item); err == nil {
			t.Errorf("item %.20q accepted", item.Key)
		}
	}
	if err := j.checkArchiveItem(ArchiveItem{Key: "ok", Time: time.Unix(1, 0), Data: big[:1<<19]}); err != nil {
		t.Errorf("good item refused: %v", err)
	}
}

// appendRecords appends each of records and fails the test on error.
func appendRecords(t *testing.T, j *Badger, records ...string) {
	t.Helper()
	for _, r := range records {
		if _, _, err := j.Append(context.Background(), []byte(r), nil); err != nil {
			t.Fatalf("Append %q: %v", r, err)
		}
	}
}

// TestArchivedOnceAppendReturns: what a record archives is readable as soon
// as its Append returns, stored or not yet.
func TestArchivedOnceAppendReturns(t *testing.T) {
	j, _ := openArchive(t, Options{Dir: t.TempDir()})
	defer j.Close()
	for i := range 20 {
		key := fmt.Sprintf("INC-%d", i)
		appendRecords(t, j, "archive "+key)
		if _, ok, err := j.Archived(key); !ok || err != nil {
			t.Fatalf("Archived(%s) right after its Append = %v, %v", key, ok, err)
		}
	}
}
