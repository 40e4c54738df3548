package journal

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// Archive key layout: "a/k/" + key holds the item (its time in big-endian
// Unix nanoseconds, then its data); "a/t/" + time + key indexes it by time,
// the time's sign bit flipped so that byte order is time order.
var (
	archiveItemPrefix = []byte("a/k/")
	archiveTimePrefix = []byte("a/t/")
	// archiveTimeEnd sorts after every key under archiveTimePrefix.
	archiveTimeEnd = []byte("a/t0")
)

// maxArchiveKey is the longest archive key the journal stores.
const maxArchiveKey = 1 << 10

// ErrUnknownCursor is returned by ScanArchive when no item is stored under
// its after key (it aged out, or never was).
var ErrUnknownCursor = errors.New("no archived item under the cursor key")

// Times an archived item may carry: those whose Unix nanoseconds fit an int64.
var (
	minArchiveTime = time.Unix(0, math.MinInt64)
	maxArchiveTime = time.Unix(0, math.MaxInt64)
)

// archiveItemKey returns the key an item stored under key is kept at.
func archiveItemKey(key string) []byte {
	return append(bytes.Clone(archiveItemPrefix), key...)
}

// archiveTimeKey returns the index key of an item stored under key at nanos.
func archiveTimeKey(nanos int64, key string) []byte {
	k := make([]byte, len(archiveTimePrefix)+8, len(archiveTimePrefix)+8+len(key))
	copy(k, archiveTimePrefix)
	binary.BigEndian.PutUint64(k[len(archiveTimePrefix):], uint64(nanos)^1<<63)
	return append(k, key...)
}

// decodeArchiveTimeKey returns the time and key an index key names.
func decodeArchiveTimeKey(k []byte) (int64, string, error) {
	if len(k) <= len(archiveTimePrefix)+8 || !bytes.HasPrefix(k, archiveTimePrefix) {
		return 0, "", fmt.Errorf("%w: bad archive index key %x", errCorrupt, k)
	}
	nanos := int64(binary.BigEndian.Uint64(k[len(archiveTimePrefix):]) ^ 1<<63)
	return nanos, string(k[len(archiveTimePrefix)+8:]), nil
}

// encodeArchiveValue returns the stored form of an item's time and data.
func encodeArchiveValue(item ArchiveItem) []byte {
	v := make([]byte, timeLen+len(item.Data))
	binary.BigEndian.PutUint64(v, uint64(item.Time.UnixNano()))
	copy(v[timeLen:], item.Data)
	return v
}

// decodeArchiveValue rebuilds the item stored under key from its value; Data aliases v.
func decodeArchiveValue(key string, v []byte) (ArchiveItem, error) {
	if len(v) < timeLen {
		return ArchiveItem{}, fmt.Errorf("%w: archived item %q: value of %d bytes is shorter than its %d-byte time",
			errCorrupt, key, len(v), timeLen)
	}
	nanos := int64(binary.BigEndian.Uint64(v))
	return ArchiveItem{Key: key, Time: recordTime(nanos), Data: v[timeLen:]}, nil
}

// newer orders items newest first: by time, then by key, both descending.
func newer(a, b ArchiveItem) int {
	if c := cmp.Compare(b.Time.UnixNano(), a.Time.UnixNano()); c != 0 {
		return c
	}
	return cmp.Compare(b.Key, a.Key)
}

// checkArchiveItem says why the journal cannot store item, or returns nil.
func (b *Badger) checkArchiveItem(item ArchiveItem) error {
	switch {
	case item.Key == "":
		return errors.New("empty key")
	case len(item.Key) > maxArchiveKey:
		return fmt.Errorf("key of %d bytes exceeds %d", len(item.Key), maxArchiveKey)
	case item.Time.Before(minArchiveTime) || item.Time.After(maxArchiveTime):
		return fmt.Errorf("time %s is outside %s to %s", item.Time, minArchiveTime.UTC(), maxArchiveTime.UTC())
	case int64(len(item.Data)) > b.opts.ValueLogFileSize-timeLen:
		return fmt.Errorf("%d bytes of data exceed %d", len(item.Data), b.opts.ValueLogFileSize-timeLen)
	}
	return nil
}

// takeArchive takes what the FSM moved out of its state since the last call
// into pending, where Archived and ScanArchive already find it. Runs on the
// goroutine that applies.
func (b *Badger) takeArchive() {
	if b.archiver == nil {
		return
	}
	// Holding archMu across TakeArchive, a reader that no longer finds an
	// item in the FSM finds it pending.
	b.archMu.Lock()
	b.addPending(b.archiver.TakeArchive())
	b.archMu.Unlock()
}

// addPending copies items into pending, dropping (and logging) those the
// journal cannot store. The caller holds archMu.
func (b *Badger) addPending(items []ArchiveItem) {
	if len(items) == 0 {
		return
	}
	if b.pending == nil {
		b.pending = make(map[string]ArchiveItem)
	}
	for _, item := range items {
		if err := b.checkArchiveItem(item); err != nil {
			b.log.Error("journal cannot archive an item; dropping it", zap.String("key", item.Key), zap.Error(err))
			continue
		}
		item.Time = recordTime(item.Time.UnixNano())
		item.Data = bytes.Clone(item.Data)
		b.pending[item.Key] = item
	}
}

// PutArchive stores items in the archive, fsync'd, and takes now as the
// newest record's time for aging the archive out. It is for a journal kept
// only as an archive, whose records live elsewhere (a replicated log); the
// caller serialises calls. Items that fail to store stay readable and are
// retried by the next call.
func (b *Badger) PutArchive(now time.Time, items []ArchiveItem) error {
	if nanos := now.UnixNano(); nanos > b.lastNanos.Load() {
		b.lastNanos.Store(nanos)
	}
	b.archMu.Lock()
	b.addPending(items)
	b.archMu.Unlock()
	return b.storePending()
}

// storeArchive stores the pending items; on failure they stay pending (and
// readable) and no snapshot is taken until they are stored.
func (b *Badger) storeArchive() {
	if err := b.storePending(); err != nil {
		b.log.Error("journal archive write failed; snapshots wait until it succeeds", zap.Error(err))
	}
}

// storePending stores every pending archived item, in as few fsync'd
// transactions as badger's size limit allows, and forgets each once stored.
// Like takeArchive, it runs on the goroutine that applies (or after it stopped).
func (b *Badger) storePending() error {
	b.archMu.Lock()
	items := make([]ArchiveItem, 0, len(b.pending))
	for _, item := range b.pending {
		items = append(items, item)
	}
	b.archMu.Unlock()
	slices.SortFunc(items, func(a, b ArchiveItem) int { return cmp.Compare(a.Key, b.Key) })
	for len(items) > 0 {
		n, err := b.writeArchive(items)
		if err != nil {
			return fmt.Errorf("%w: store %d archived items: %w", ErrUnavailable, len(items), err)
		}
		b.archMu.Lock()
		for _, item := range items[:n] {
			delete(b.pending, item.Key)
		}
		b.archMu.Unlock()
		items = items[n:]
	}
	return nil
}

// writeArchive stores a prefix of items (all unless that exceeds badger's
// transaction limit) in one fsync'd transaction and returns its length.
func (b *Badger) writeArchive(items []ArchiveItem) (int, error) {
	b.archWrite.Lock()
	defer b.archWrite.Unlock()
	for {
		n, err := b.tryWriteArchive(items)
		if errors.Is(err, badger.ErrTxnTooBig) && n > 0 {
			items = items[:n] // the first n fit one transaction
			continue
		}
		return n, err
	}
}

// tryWriteArchive stores items in one fsync'd transaction. If they do not
// all fit, it stores nothing and returns badger.ErrTxnTooBig with how many did.
func (b *Badger) tryWriteArchive(items []ArchiveItem) (int, error) {
	txn := b.db.NewTransaction(true)
	defer txn.Discard()
	for i, item := range items {
		if err := putArchiveItem(txn, item); err != nil {
			return i, fmt.Errorf("archive %q: %w", item.Key, err)
		}
	}
	if err := b.commitArchive(txn); err != nil {
		return 0, err
	}
	return len(items), nil
}

// putArchiveItem sets item and its index entry in txn, dropping the index
// entry of the item it replaces.
func putArchiveItem(txn *badger.Txn, item ArchiveItem) error {
	nanos := item.Time.UnixNano()
	prev, found, err := getArchived(txn, item.Key)
	if err != nil {
		return err
	}
	if found && prev.Time.UnixNano() != nanos {
		if err := txn.Delete(archiveTimeKey(prev.Time.UnixNano(), item.Key)); err != nil {
			return err
		}
	}
	if err := txn.Set(archiveItemKey(item.Key), encodeArchiveValue(item)); err != nil {
		return err
	}
	return txn.Set(archiveTimeKey(nanos, item.Key), nil)
}

// getArchived reads the item stored under key in txn, with Data it may keep.
func getArchived(txn *badger.Txn, key string) (ArchiveItem, bool, error) {
	stored, err := txn.Get(archiveItemKey(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ArchiveItem{}, false, nil
	}
	if err != nil {
		return ArchiveItem{}, false, fmt.Errorf("read archived item %q: %w", key, err)
	}
	v, err := stored.ValueCopy(nil)
	if err != nil {
		return ArchiveItem{}, false, fmt.Errorf("read archived item %q: %w", key, err)
	}
	item, err := decodeArchiveValue(key, v)
	return item, err == nil, err
}

// pendingItem returns a copy of the item pending under key, if any.
func (b *Badger) pendingItem(key string) (ArchiveItem, bool) {
	b.archMu.Lock()
	defer b.archMu.Unlock()
	item, ok := b.pending[key]
	item.Data = bytes.Clone(item.Data)
	return item, ok
}

// pendingItems returns copies of the pending items, newest first.
func (b *Badger) pendingItems() []ArchiveItem {
	b.archMu.Lock()
	items := make([]ArchiveItem, 0, len(b.pending))
	for _, item := range b.pending {
		item.Data = bytes.Clone(item.Data)
		items = append(items, item)
	}
	b.archMu.Unlock()
	slices.SortFunc(items, newer)
	return items
}

// Archived returns the archived item stored under key; ok is false if there
// is none. An item is readable here from the moment TakeArchive returns it,
// so a reader that looks in the FSM first and then here never misses one.
// The item's Data belongs to the caller.
func (b *Badger) Archived(key string) (item ArchiveItem, ok bool, err error) {
	// Pending first: an item leaves pending only once it is stored.
	if item, ok := b.pendingItem(key); ok {
		return item, true, nil
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ArchiveItem{}, false, ErrClosed
	}
	err = b.db.View(func(txn *badger.Txn) error {
		item, ok, err = getArchived(txn, key)
		return err
	})
	return item, ok, err
}

// ScanArchive calls fn for archived items, newest first (by Time, then Key),
// starting with the first item older than the one stored under after ("" =
// the newest), until fn returns false or an error, which it returns. An
// after under which nothing is stored gives ErrUnknownCursor. The Data
// passed to fn belongs to fn.
func (b *Badger) ScanArchive(after string, fn func(ArchiveItem) (bool, error)) error {
	pending := b.pendingItems()
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	return b.db.View(func(txn *badger.Txn) error {
		s := &archiveScan{txn: txn, pending: pending, fn: fn, more: true}
		return s.run(after)
	})
}

// archiveScan merges the stored archive index with the pending items, which
// replace stored items under the same keys.
type archiveScan struct {
	txn     *badger.Txn
	pending []ArchiveItem // not yet passed to fn, newest first
	fn      func(ArchiveItem) (bool, error)
	more    bool // fn has not asked to stop
}

// run calls fn for the items older than the one under after, newest first.
func (s *archiveScan) run(after string) error {
	replaced := make(map[string]bool, len(s.pending))
	for _, item := range s.pending {
		replaced[item.Key] = true
	}
	seek, skip := archiveTimeEnd, []byte(nil)
	if after != "" {
		cursor, err := s.cursor(after)
		if err != nil {
			return err
		}
		seek = archiveTimeKey(cursor.Time.UnixNano(), after)
		skip = seek
		s.pending = s.pending[pendingNotOlder(s.pending, cursor):]
	}
	opts := badger.DefaultIteratorOptions
	opts.Prefix = archiveTimePrefix
	opts.PrefetchValues = false
	opts.Reverse = true
	it := s.txn.NewIterator(opts)
	defer it.Close()
	for it.Seek(seek); s.more && it.ValidForPrefix(archiveTimePrefix); it.Next() {
		nanos, key, err := decodeArchiveTimeKey(it.Item().Key())
		if err != nil {
			return err
		}
		if replaced[key] || bytes.Equal(it.Item().Key(), skip) {
			continue
		}
		stored := ArchiveItem{Key: key, Time: recordTime(nanos)}
		if err := s.emitPending(&stored); err != nil || !s.more {
			return err
		}
		if err := s.emitStored(key); err != nil {
			return err
		}
	}
	return s.emitPending(nil)
}

// cursor returns the item, pending or stored, under the cursor key after.
func (s *archiveScan) cursor(after string) (ArchiveItem, error) {
	for _, item := range s.pending {
		if item.Key == after {
			return item, nil
		}
	}
	item, ok, err := getArchived(s.txn, after)
	if err == nil && !ok {
		err = fmt.Errorf("%w %q", ErrUnknownCursor, after)
	}
	return item, err
}

// pendingNotOlder returns how many of pending (newest first) are not older than cursor.
func pendingNotOlder(pending []ArchiveItem, cursor ArchiveItem) int {
	i, found := slices.BinarySearchFunc(pending, cursor, newer)
	if found {
		i++
	}
	return i
}

// emitPending calls fn for the pending items newer than bound (all of them if bound is nil).
func (s *archiveScan) emitPending(bound *ArchiveItem) error {
	for s.more && len(s.pending) > 0 && (bound == nil || newer(s.pending[0], *bound) < 0) {
		item := s.pending[0]
		s.pending = s.pending[1:]
		more, err := s.fn(item)
		if err != nil {
			return err
		}
		s.more = more
	}
	return nil
}

// emitStored reads the item stored under key and calls fn with it.
func (s *archiveScan) emitStored(key string) error {
	item, ok, err := getArchived(s.txn, key)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: archive index names %q, which is not stored", errCorrupt, key)
	}
	s.more, err = s.fn(item)
	return err
}

// ageOutArchive deletes, oldest first and in batches, the archived items
// older than ArchiveRetention before the newest record.
func (b *Badger) ageOutArchive(ctx context.Context) error {
	cutoff := olderThan(b.lastNanos.Load(), b.opts.ArchiveRetention)
	total := 0
	defer func() {
		if total > 0 {
			b.log.Info("journal archive aged out", zap.Int("items", total), zap.Time("before", recordTime(cutoff)))
		}
	}()
	for ctx.Err() == nil {
		n, err := b.ageOutBatch(cutoff)
		total += n
		if err != nil || n == 0 {
			return err
		}
	}
	return nil
}

// ageOutBatch deletes up to trimBatch items archived before cutoff (Unix
// nanoseconds) in one transaction and returns how many it deleted.
func (b *Badger) ageOutBatch(cutoff int64) (int, error) {
	b.archWrite.Lock()
	defer b.archWrite.Unlock()
	for limit := trimBatch; ; {
		n, err := b.deleteOldItems(cutoff, limit)
		if errors.Is(err, badger.ErrTxnTooBig) && n > 0 {
			limit = n // an item was half deleted: retry with the whole ones
			continue
		}
		return n, err
	}
}

// deleteOldItems deletes up to limit items archived before cutoff, oldest
// first, in one transaction, and returns how many. If an item does not fit
// the transaction, it deletes nothing and returns badger.ErrTxnTooBig with
// the number of items that did.
func (b *Badger) deleteOldItems(cutoff int64, limit int) (int, error) {
	txn := b.db.NewTransaction(true)
	defer txn.Discard()
	opts := badger.DefaultIteratorOptions
	opts.Prefix = archiveTimePrefix
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	n := 0
	var err error
	for it.Rewind(); err == nil && n < limit && it.ValidForPrefix(archiveTimePrefix); it.Next() {
		var nanos int64
		var key string
		if nanos, key, err = decodeArchiveTimeKey(it.Item().Key()); err != nil || nanos >= cutoff {
			break
		}
		if err = txn.Delete(it.Item().KeyCopy(nil)); err == nil {
			err = txn.Delete(archiveItemKey(key))
		}
		if err == nil {
			n++
		}
	}
	it.Close()
	if err != nil {
		return n, fmt.Errorf("age out archived items: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := txn.Commit(); err != nil {
		return 0, fmt.Errorf("age out %d archived items: %w", n, err)
	}
	return n, nil
}
