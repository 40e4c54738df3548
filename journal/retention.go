package journal

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// trimBatch is how many records or archived items one deleting transaction
// removes at most, so that truncation never holds badger's writes for long.
const trimBatch = 1000

// Bounds of Options.ValueLogFileSize, set by badger; a snapshot chunk must fit.
const (
	minValueLogFileSize = chunkSize
	maxValueLogFileSize = 2<<30 - 1
)

// retention is the part of Badger that keeps its disk use bounded: the
// oldest stored record, and the archived items on their way to the store.
type retention struct {
	trim      chan struct{} // asks maintain to truncate and age out now
	retainMu  sync.Mutex    // one retention pass at a time
	firstSeq  atomic.Uint64 // every record from it to lastSeq is stored
	lastNanos atomic.Int64  // mirror of nanos, the newest record's time

	archiver Archiver // the FSM, if it archives
	// commitArchive makes an archive write durable; tests replace it to fail
	// archive writes alone. Archive writes bypass commitTxn so that nothing
	// meant to hold appends back can stop the snapshots that truncate.
	commitArchive func(*badger.Txn) error
	archWrite     sync.Mutex // serialises writes to the archive keyspace
	archMu        sync.Mutex // guards pending
	// pending holds items taken from the FSM and not yet stored, by key.
	pending map[string]ArchiveItem
}

// retentionDefaults validates the retention fields of opts and fills in their zero values.
func retentionDefaults(opts Options) (Options, error) {
	switch {
	case opts.ValueLogFileSize == 0:
		opts.ValueLogFileSize = DefaultValueLogFileSize
	case opts.ValueLogFileSize < minValueLogFileSize || opts.ValueLogFileSize > maxValueLogFileSize:
		return opts, fmt.Errorf("open journal: value log file size %d is outside %d to %d bytes",
			opts.ValueLogFileSize, minValueLogFileSize, maxValueLogFileSize)
	}
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"retention", &opts.Retention, DefaultRetention},
		{"archive retention", &opts.ArchiveRetention, DefaultArchiveRetention},
	} {
		switch {
		case *f.v < 0:
			return opts, fmt.Errorf("open journal: negative %s %s", f.name, *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	return opts, nil
}

// openRetention runs once recovery has replayed the journal: it finds the
// oldest stored record, stores what replay moved into the archive, and asks
// maintain for a first truncation.
func (b *Badger) openRetention() error {
	b.trim = make(chan struct{}, 1)
	b.lastNanos.Store(b.nanos)
	first, err := b.oldestRecord()
	if err != nil {
		return err
	}
	b.firstSeq.Store(first)
	b.archiver, _ = b.fsm.(Archiver)
	b.commitArchive = (*badger.Txn).Commit
	b.takeArchive()
	b.storeArchive()
	b.requestTrim()
	return nil
}

// oldestRecord returns the sequence number of the first stored record, or
// the next one to be appended if none is stored.
func (b *Badger) oldestRecord() (uint64, error) {
	first := b.seq + 1
	err := b.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = recordPrefix
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		if it.Rewind(); !it.ValidForPrefix(recordPrefix) {
			return nil
		}
		seq, err := decodeRecordKey(it.Item().Key())
		first = seq
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("find the oldest record: %w", err)
	}
	return first, nil
}

// FirstSeq is the sequence number of the oldest record still stored (0 if none).
func (b *Badger) FirstSeq() uint64 {
	first := b.firstSeq.Load()
	if first > b.lastSeq.Load() {
		return 0
	}
	return first
}

// requestTrim asks maintain to truncate the journal and age out the archive soon.
func (b *Badger) requestTrim() {
	select {
	case b.trim <- struct{}{}:
	default:
	}
}

// Retain truncates the journal behind the stored snapshot, ages out the
// archive and garbage-collects the value log now, as the background loop
// does after each snapshot and every few minutes; for tools and tests that
// need the store at its retained size.
func (b *Badger) Retain(ctx context.Context) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if !b.closed {
		b.retain(ctx)
	}
}

// retain truncates the journal behind the stored snapshot, ages out the
// archive and then garbage-collects the value log.
func (b *Badger) retain(ctx context.Context) {
	b.retainMu.Lock()
	defer b.retainMu.Unlock()
	if err := b.trimRecords(ctx); err != nil {
		b.log.Warn("journal truncation failed", zap.Error(err))
	}
	if err := b.ageOutArchive(ctx); err != nil {
		b.log.Warn("journal archive age-out failed", zap.Error(err))
	}
	b.collectGarbage(ctx)
}

// trimRecords deletes, oldest first and in batches, the records the stored
// snapshot covers that are older than Retention before the newest record.
func (b *Badger) trimRecords(ctx context.Context) error {
	snap, ok := b.storedSnapshot()
	if !ok {
		return nil
	}
	cutoff := olderThan(b.lastNanos.Load(), b.opts.Retention)
	total := 0
	defer func() {
		if total > 0 {
			b.log.Info("journal truncated", zap.Int("records", total), zap.Uint64("first_seq", b.firstSeq.Load()),
				zap.Uint64("snapshot_seq", snap.Seq))
		}
	}()
	for ctx.Err() == nil {
		n, err := b.trimBatch(snap.Seq, cutoff)
		total += n
		if err != nil || n == 0 {
			return err
		}
	}
	return nil
}

// trimBatch deletes up to trimBatch of the oldest records with seq <= upTo
// stored before cutoff (Unix nanoseconds) in one transaction, and returns
// how many it deleted.
func (b *Badger) trimBatch(upTo uint64, cutoff int64) (int, error) {
	txn := b.db.NewTransaction(true)
	defer txn.Discard()
	last, n, err := deleteOldRecords(txn, b.firstSeq.Load(), upTo, cutoff)
	if err != nil || n == 0 {
		return 0, err
	}
	if err := txn.Commit(); err != nil {
		return 0, fmt.Errorf("truncate records to %d: %w", last, err)
	}
	b.firstSeq.Store(last + 1)
	return n, nil
}

// deleteOldRecords deletes in txn, from seq first on, up to trimBatch
// records with seq <= upTo stored before cutoff, and returns the last one
// deleted and how many.
func deleteOldRecords(txn *badger.Txn, first, upTo uint64, cutoff int64) (last uint64, n int, err error) {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = recordPrefix
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Seek(recordKey(first)); it.ValidForPrefix(recordPrefix) && n < trimBatch; it.Next() {
		item := it.Item()
		seq, err := decodeRecordKey(item.Key())
		if err != nil || seq > upTo {
			return last, n, err
		}
		if old, err := storedBefore(item, seq, cutoff); err != nil || !old {
			return last, n, err
		}
		err = txn.Delete(item.KeyCopy(nil))
		if errors.Is(err, badger.ErrTxnTooBig) {
			return last, n, nil
		}
		if err != nil {
			return last, n, fmt.Errorf("truncate record %d: %w", seq, err)
		}
		last, n = seq, n+1
	}
	return last, n, nil
}

// storedBefore reports whether the record seq in item was stored before cutoff.
func storedBefore(item *badger.Item, seq uint64, cutoff int64) (bool, error) {
	var old bool
	err := item.Value(func(v []byte) error {
		rec, err := decodeRecord(seq, v)
		old = rec.Time.UnixNano() < cutoff
		return err
	})
	if err != nil {
		return false, fmt.Errorf("read record %d: %w", seq, err)
	}
	return old, nil
}

// olderThan returns nanos less d, or the smallest time if that underflows.
func olderThan(nanos int64, d time.Duration) int64 {
	if nanos < math.MinInt64+int64(d) {
		return math.MinInt64
	}
	return nanos - int64(d)
}
