package journal

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// Sizer is an FSM that can say how large its state is, so that recovery can
// make room for it at once instead of growing into it: growing a map to a
// million alerts, table by table, costs recovery more than a second.
type Sizer interface {
	// Size is the number of items the state holds (its alerts, say).
	// Called on the goroutine that applies.
	Size() int
	// Reserve makes room for n items in all. Recovery calls it once, after
	// restoring the snapshot and before replaying the records after it.
	Reserve(n int)
}

// sizeKey holds the Sizer's latest stored size, a hint for the next
// recovery; it rides along in record commits and costs no fsync of its own.
var sizeKey = []byte("m/size")

const (
	// maxSizeHint bounds the size recovery reserves room for, so that a
	// damaged hint cannot ask for gigabytes.
	maxSizeHint = 1 << 24
	// minSizeChange is the smallest change of size that is stored; below it,
	// and below an eighth of the stored size, the stored hint is close enough.
	minSizeChange = 1024
)

// readHint reads the stored size hint at the start of recovery and passes
// it to Options.SizeHint. A missing or unreadable hint only costs speed, so
// it is logged, not returned.
func (b *Badger) readHint(txn *badger.Txn) {
	if b.sizer == nil {
		return
	}
	n, err := readSizeHint(txn)
	if err != nil {
		b.log.Warn("journal size hint unreadable; recovery grows the state as it goes", zap.Error(err))
		return
	}
	b.storedSize = n
	if n > 0 && b.opts.SizeHint != nil {
		b.opts.SizeHint(roomFor(n))
	}
}

// roomFor is the room recovery makes for a state whose stored size hint is
// n: the hint lags the size by up to an eighth (sizeMoved), and a map
// reserved too small grows, table by table, at the end of the replay.
func roomFor(n int64) int {
	return int(min(n+n/8+minSizeChange, maxSizeHint))
}

// reserve passes the stored size hint to the Sizer, once the snapshot is
// restored and before the records after it are replayed.
func (b *Badger) reserve() {
	if b.sizer != nil && b.storedSize > 0 {
		b.sizer.Reserve(roomFor(b.storedSize))
	}
}

// readSizeHint returns the stored size hint, 0 when there is none.
func readSizeHint(txn *badger.Txn) (int64, error) {
	item, err := txn.Get(sizeKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read size hint: %w", err)
	}
	var n uint64
	err = item.Value(func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%w: size hint of %d bytes, want 8", errCorrupt, len(v))
		}
		n = binary.BigEndian.Uint64(v)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n > maxSizeHint {
		return 0, fmt.Errorf("%w: size hint %d is above %d", errCorrupt, n, maxSizeHint)
	}
	return int64(n), nil
}

// noteSize records the Sizer's size after a batch was applied, for the
// committer to store. Called on the goroutine that applies.
func (b *Badger) noteSize() {
	if b.sizer != nil {
		b.size.Store(int64(b.sizer.Size()))
	}
}

// sizeToStore returns the size to store with the next commit, if it moved
// enough from the stored one to be worth a key.
func (b *Badger) sizeToStore() (int64, bool) {
	if b.sizer == nil {
		return 0, false
	}
	n := b.size.Load()
	return n, sizeMoved(b.storedSize, n)
}

// sizeMoved says whether size n is far enough from the stored size to be
// stored: by at least minSizeChange and by more than an eighth.
func sizeMoved(stored, n int64) bool {
	d := n - stored
	if d < 0 {
		d = -d
	}
	return d >= minSizeChange && d > stored/8
}

// setSize adds the size hint n to txn. A transaction already at badger's
// limit goes without it: the next commit stores it.
func setSize(txn *badger.Txn, n int64) (bool, error) {
	v := binary.BigEndian.AppendUint64(nil, uint64(n))
	err := txn.Set(sizeKey, v)
	if errors.Is(err, badger.ErrTxnTooBig) {
		return false, nil
	}
	return err == nil, err
}
