package journal

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// sizedFSM is a testFSM whose size is a hundred items per record applied,
// and which records what recovery reserved.
type sizedFSM struct {
	testFSM
	reserved []int
}

func (f *sizedFSM) Size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return 100 * len(f.recs)
}

func (f *sizedFSM) Reserve(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reserved = append(f.reserved, n)
}

func TestSizeMoved(t *testing.T) {
	for _, tc := range []struct {
		stored, n int64
		want      bool
	}{
		{0, 0, false},
		{0, 1023, false},
		{0, 1024, true},
		{8192, 9216, false}, // an eighth exactly
		{8192, 9217, true},
		{1 << 20, 1<<20 + 1<<16, false},
		{1 << 20, 1 << 19, true}, // shrinking is stored too
		{2048, 1000, true},
		{2048, 1100, false},
	} {
		if got := sizeMoved(tc.stored, tc.n); got != tc.want {
			t.Errorf("sizeMoved(%d, %d) = %v, want %v", tc.stored, tc.n, got, tc.want)
		}
	}
}

// TestRecoveryReservesTheStoredSize checks that the size an FSM reached is
// stored with the records and handed to Options.SizeHint and then Reserve by
// the next recovery, before the records are replayed.
func TestRecoveryReservesTheStoredSize(t *testing.T) {
	dir := t.TempDir()
	fsm := &sizedFSM{}
	j := openTest(t, Options{Dir: dir}, fsm)
	appendN(t, j, 20, "r")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if len(fsm.reserved) != 0 {
		t.Fatalf("a new journal reserved %v", fsm.reserved)
	}

	again := &sizedFSM{}
	var hinted []int
	hint := func(n int) {
		if recs, _, _, _ := again.state(); len(recs) != 0 || len(again.reserved) != 0 {
			t.Errorf("size hint given after %d records and reservations %v", len(recs), again.reserved)
		}
		hinted = append(hinted, n)
	}
	j = openTest(t, Options{Dir: dir, SizeHint: hint}, again)
	defer j.Close()
	// Record 12's commit is the first to see a size of at least 1024 (1100,
	// after record 11); 2000 is not an eighth more and 1024 away from it.
	// Recovery makes room for the stored 1100 plus an eighth and 1024, so
	// for the 2000 the FSM reached.
	if want := []int{1100 + 1100/8 + 1024}; !slices.Equal(again.reserved, want) {
		t.Errorf("recovery reserved %v, want %v", again.reserved, want)
	}
	if want := []int{1100 + 1100/8 + 1024}; !slices.Equal(hinted, want) {
		t.Errorf("recovery hinted %v, want %v", hinted, want)
	}
	if recs, _, _, _ := again.state(); len(recs) != 20 {
		t.Errorf("recovered %d records, want 20", len(recs))
	}
}

// TestDamagedSizeHintIsIgnored checks that a size hint of the wrong length
// or out of bounds only costs recovery its reservation: the journal opens
// with every record.
func TestDamagedSizeHintIsIgnored(t *testing.T) {
	for name, value := range map[string][]byte{
		"short": {1, 2, 3},
		"huge":  binary.BigEndian.AppendUint64(nil, 1<<40),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			j := openTest(t, Options{Dir: dir}, &sizedFSM{})
			appendN(t, j, 15, "r")
			if err := j.db.Update(func(txn *badger.Txn) error { return txn.Set(sizeKey, value) }); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			fsm := &sizedFSM{}
			j = openTest(t, Options{Dir: dir}, fsm)
			defer j.Close()
			if len(fsm.reserved) != 0 {
				t.Errorf("recovery reserved %v from a damaged hint", fsm.reserved)
			}
			if recs, _, _, _ := fsm.state(); len(recs) != 15 {
				t.Errorf("recovered %d records, want 15", len(recs))
			}
		})
	}
}
