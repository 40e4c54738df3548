package journal

import (
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// chunkSize is the size of the pieces a snapshot is stored in; each lands in
// the value log, so the LSM tree only holds pointers to them.
const chunkSize = 1 << 20

// snapshot captures the FSM's state at the current sequence and stores it,
// replacing the previous snapshot, unless that one is already at this
// sequence. It runs after the committer has stopped (Close).
func (b *Badger) snapshot() error {
	if err := b.storePending(); err != nil {
		return fmt.Errorf("snapshot journal state at %d: %w", b.seq, err)
	}
	if b.snapshotCurrent() {
		return nil
	}
	b.snapTry, b.sinceSnap = b.seq, 0
	return b.persistSnapshot(b.seq, b.nanos, b.fsm.Snapshot())
}

// snapshotInBackground captures the FSM's state on the committer goroutine
// (quick) and serialises and stores it on another, so that appends go on
// meanwhile. At most one snapshot is in flight; a due one waits for it.
func (b *Badger) snapshotInBackground() {
	if b.snapshotCurrent() || b.storePending() != nil || !b.snapping.CompareAndSwap(false, true) {
		return
	}
	b.snapTry, b.sinceSnap = b.seq, 0
	seq, nanos, serialise := b.seq, b.nanos, b.fsm.Snapshot()
	b.snapWG.Add(1)
	go func() {
		defer b.snapWG.Done()
		defer b.snapping.Store(false)
		guarded, done := b.guardSnapshot(serialise)
		err := b.persistSnapshot(seq, nanos, guarded)
		done()
		switch {
		case errors.Is(err, errAbandoned):
			b.log.Warn("journal snapshot abandoned: the journal closed first", zap.Uint64("seq", seq))
		case err != nil:
			b.log.Error("journal snapshot failed", zap.Error(err))
		}
	}()
}

// snapshotCurrent reports whether the stored snapshot is at the current
// sequence (or there is nothing to snapshot).
func (b *Badger) snapshotCurrent() bool {
	snap, has := b.storedSnapshot()
	return has && snap.Seq == b.seq || !has && b.seq == 0
}

// storedSnapshot returns the stored snapshot's metadata.
func (b *Badger) storedSnapshot() (snapshotMeta, bool) {
	b.snapMu.Lock()
	defer b.snapMu.Unlock()
	return b.snap, b.hasSnap
}

// persistSnapshot serialises a captured state at seq and stores it in one
// transaction with its metadata, deleting the previous snapshot's chunks.
func (b *Badger) persistSnapshot(seq uint64, nanos int64, serialise SnapshotFunc) error {
	start := time.Now()
	data, err := serialise()
	if err != nil {
		return fmt.Errorf("snapshot journal state at %d: %w", seq, err)
	}
	if uint64(len(data)) > maxSnapshotSize {
		return fmt.Errorf("snapshot journal state at %d: %d bytes exceed the %d-byte limit", seq, len(data), uint64(maxSnapshotSize))
	}
	meta := snapshotMeta{
		Seq:    seq,
		Nanos:  nanos,
		Chunks: uint32((len(data) + chunkSize - 1) / chunkSize),
		Size:   uint64(len(data)),
		CRC:    crc32.Checksum(data, castagnoli),
	}
	release, err := b.space.reserve(int64(len(data)) + int64(meta.Chunks+2)*recordOverhead)
	if err != nil {
		return fmt.Errorf("snapshot journal state at %d: %w", seq, err)
	}
	defer release()
	prev, hadPrev := b.storedSnapshot()
	txn := b.db.NewTransaction(true)
	defer txn.Discard()
	for i := range meta.Chunks {
		chunk := data[int(i)*chunkSize : min(int(i+1)*chunkSize, len(data))]
		if err := txn.Set(chunkKey(meta.Seq, i), chunk); err != nil {
			return fmt.Errorf("snapshot journal state at %d: chunk %d: %w", seq, i, err)
		}
	}
	if hadPrev {
		for i := range prev.Chunks {
			if err := txn.Delete(chunkKey(prev.Seq, i)); err != nil {
				return fmt.Errorf("snapshot journal state at %d: drop old chunk %d: %w", seq, i, err)
			}
		}
	}
	if err := txn.Set(snapMetaKey, meta.encode()); err != nil {
		return fmt.Errorf("snapshot journal state at %d: %w", seq, err)
	}
	if err := b.commitTxn(txn); err != nil {
		return fmt.Errorf("snapshot journal state at %d: %w", seq, err)
	}
	b.snapMu.Lock()
	b.snap, b.hasSnap = meta, true
	b.snapMu.Unlock()
	b.metrics.snapshotDuration.Observe(time.Since(start).Seconds())
	b.requestPageOut()
	b.requestTrim()
	return nil
}

// recover restores the FSM from the stored snapshot, if any, and applies
// every record after it, leaving b.seq and b.nanos at the last record.
func (b *Badger) recover() error {
	return b.db.View(func(txn *badger.Txn) error {
		b.readHint(txn)
		if err := b.restore(txn); err != nil {
			return err
		}
		b.reserve()
		replay := newReplayer(b.fsm, func(rec Record) {
			b.fsm.Apply(rec)
			b.seq, b.nanos = rec.Seq, rec.Time.UnixNano()
			b.replayed++
			// The snapshot gate counts from the stored snapshot, not
			// from this process's start: see snapshotDue.
			b.sinceSnap += int64(timeLen + len(rec.Data))
		})
		next := b.seq + 1
		err := scanValues(txn, next, replay.buffer, func(rec Record, value []byte) error {
			if rec.Seq != next {
				return fmt.Errorf("%w: record %d follows record %d", errCorrupt, rec.Seq, next-1)
			}
			next++
			replay.add(rec, value)
			return nil
		})
		err = errors.Join(err, replay.wait())
		b.noteSize()
		return err
	})
}

// prefaultSize is the snapshot size from which restore prefaults its buffer.
const prefaultSize = 64 << 20

// restore loads the stored snapshot, if there is one, into the FSM.
func (b *Badger) restore(txn *badger.Txn) error {
	item, err := txn.Get(snapMetaKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read snapshot metadata: %w", err)
	}
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("read snapshot metadata: %w", err)
	}
	meta, err := decodeSnapshotMeta(raw)
	if err != nil {
		return err
	}
	data := make([]byte, 0, meta.Size)
	if meta.Size >= prefaultSize {
		prefault(data[:cap(data)])
	}
	for i := range meta.Chunks {
		item, err := txn.Get(chunkKey(meta.Seq, i))
		if err != nil {
			return fmt.Errorf("read snapshot %d chunk %d: %w", meta.Seq, i, err)
		}
		if err := item.Value(func(v []byte) error {
			if uint64(len(data)+len(v)) > meta.Size {
				return fmt.Errorf("%w: snapshot %d is longer than its %d bytes", errCorrupt, meta.Seq, meta.Size)
			}
			data = append(data, v...)
			return nil
		}); err != nil {
			return fmt.Errorf("read snapshot %d chunk %d: %w", meta.Seq, i, err)
		}
	}
	if uint64(len(data)) != meta.Size {
		return fmt.Errorf("%w: snapshot %d has %d bytes, want %d", errCorrupt, meta.Seq, len(data), meta.Size)
	}
	if crc := crc32.Checksum(data, castagnoli); crc != meta.CRC {
		return fmt.Errorf("%w: snapshot %d checksum %08x, want %08x", errCorrupt, meta.Seq, crc, meta.CRC)
	}
	if err := b.fsm.Restore(data); err != nil {
		return fmt.Errorf("restore snapshot %d: %w", meta.Seq, err)
	}
	b.snap, b.hasSnap, b.snapTry = meta, true, meta.Seq
	b.seq, b.nanos = meta.Seq, meta.Nanos
	return nil
}

// scanRecords calls fn for every record in txn with Seq >= from, in order,
// with Data it may keep.
func scanRecords(txn *badger.Txn, from uint64, fn func(Record) error) error {
	return scanValues(txn, from, nil, func(rec Record, _ []byte) error { return fn(rec) })
}

// scanValues is scanRecords reading each record's stored value into
// buffer() (a new buffer when buffer is nil) and passing it along with the
// record, whose Data is part of it.
func scanValues(txn *badger.Txn, from uint64, buffer func() []byte, fn func(Record, []byte) error) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = recordPrefix
	opts.PrefetchValues = false // ValueCopy copies each value once; prefetching would copy it twice
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Seek(recordKey(from)); it.ValidForPrefix(recordPrefix); it.Next() {
		item := it.Item()
		seq, err := decodeRecordKey(item.Key())
		if err != nil {
			return err
		}
		var buf []byte
		if buffer != nil {
			buf = buffer()
		}
		v, err := item.ValueCopy(buf)
		if err != nil {
			return fmt.Errorf("read record %d: %w", seq, err)
		}
		rec, err := decodeRecord(seq, v)
		if err != nil {
			return err
		}
		if err := fn(rec, v); err != nil {
			return err
		}
	}
	return nil
}
