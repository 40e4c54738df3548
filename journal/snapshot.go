package journal

import (
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// chunkSize is the size of the pieces a snapshot is stored in; each lands in
// the value log, so the LSM tree only holds pointers to them.
const chunkSize = 1 << 20

// snapshot stores the FSM's state at the current sequence, replacing the
// previous snapshot, unless that one is already at this sequence. It must run
// on the committer goroutine (or after it has stopped).
func (b *Badger) snapshot() error {
	if b.hasSnap && b.snap.Seq == b.seq || !b.hasSnap && b.seq == 0 {
		return nil
	}
	b.snapTry, b.sinceSnap = b.seq, 0
	start := time.Now()
	data, err := b.fsm.Snapshot()
	if err != nil {
		return fmt.Errorf("snapshot journal state at %d: %w", b.seq, err)
	}
	if uint64(len(data)) > maxSnapshotSize {
		return fmt.Errorf("snapshot journal state at %d: %d bytes exceed the %d-byte limit", b.seq, len(data), uint64(maxSnapshotSize))
	}
	meta := snapshotMeta{
		Seq:    b.seq,
		Nanos:  b.nanos,
		Chunks: uint32((len(data) + chunkSize - 1) / chunkSize),
		Size:   uint64(len(data)),
		CRC:    crc32.Checksum(data, castagnoli),
	}
	txn := b.db.NewTransaction(true)
	defer txn.Discard()
	for i := range meta.Chunks {
		chunk := data[int(i)*chunkSize : min(int(i+1)*chunkSize, len(data))]
		if err := txn.Set(chunkKey(meta.Seq, i), chunk); err != nil {
			return fmt.Errorf("snapshot journal state at %d: chunk %d: %w", b.seq, i, err)
		}
	}
	if b.hasSnap {
		for i := range b.snap.Chunks {
			if err := txn.Delete(chunkKey(b.snap.Seq, i)); err != nil {
				return fmt.Errorf("snapshot journal state at %d: drop old chunk %d: %w", b.seq, i, err)
			}
		}
	}
	if err := txn.Set(snapMetaKey, meta.encode()); err != nil {
		return fmt.Errorf("snapshot journal state at %d: %w", b.seq, err)
	}
	if err := b.commitTxn(txn); err != nil {
		return fmt.Errorf("snapshot journal state at %d: %w", b.seq, err)
	}
	b.snap, b.hasSnap = meta, true
	b.metrics.snapshotDuration.Observe(time.Since(start).Seconds())
	b.requestPageOut()
	return nil
}

// recover restores the FSM from the stored snapshot, if any, and applies
// every record after it, leaving b.seq and b.nanos at the last record.
func (b *Badger) recover() error {
	return b.db.View(func(txn *badger.Txn) error {
		if err := b.restore(txn); err != nil {
			return err
		}
		return scanRecords(txn, b.seq+1, func(rec Record) error {
			if rec.Seq != b.seq+1 {
				return fmt.Errorf("%w: record %d follows record %d", errCorrupt, rec.Seq, b.seq)
			}
			b.fsm.Apply(rec)
			b.seq, b.nanos = rec.Seq, rec.Time.UnixNano()
			b.replayed++
			return nil
		})
	})
}

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
	opts := badger.DefaultIteratorOptions
	opts.Prefix = recordPrefix
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Seek(recordKey(from)); it.ValidForPrefix(recordPrefix); it.Next() {
		item := it.Item()
		seq, err := decodeRecordKey(item.Key())
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("read record %d: %w", seq, err)
		}
		rec, err := decodeRecord(seq, v)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}
