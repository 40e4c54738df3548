package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// Key layout of the badger log store: "l/" + big-endian index holds a log
// entry, "s/" + key a stable value.
var (
	logPrefix    = []byte("l/")
	stablePrefix = []byte("s/")
)

// logHeaderLen is an encoded entry's fixed part: term, type, appended-at
// nanoseconds, extensions' length.
const logHeaderLen = 8 + 1 + 8 + 4

// storeGCInterval is how often the store's value log is garbage-collected.
const storeGCInterval = 5 * time.Minute

// errNotFound is the stable store's answer for a missing key; raft
// recognises it by this exact text.
var errNotFound = errors.New("not found")

// badgerStore is raft's log and stable store in an fsync'd badger
// directory, the storage engine Klaxon's journal already uses.
type badgerStore struct {
	db *badger.DB
}

var (
	_ raft.LogStore    = (*badgerStore)(nil)
	_ raft.StableStore = (*badgerStore)(nil)
)

// openBadgerStore opens (or creates) the store in dir.
func openBadgerStore(dir string, log *zap.Logger) (*badgerStore, error) {
	return openBadgerStoreWith(storeOptions(dir, log))
}

// openBadgerStoreWith opens the store with opts.
func openBadgerStoreWith(opts badger.Options) (*badgerStore, error) {
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open raft log store %s: %w", opts.Dir, err)
	}
	return &badgerStore{db: db}, nil
}

// storeOptions are fsync'd, memory-lean badger settings for the store in dir.
func storeOptions(dir string, log *zap.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerLog{log.Sugar()}).
		WithSyncWrites(true).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(8 << 20).
		WithIndexCacheSize(4 << 20).
		WithNumVersionsToKeep(1).
		WithCompression(options.None).
		WithDetectConflicts(false).
		WithMetricsEnabled(false)
}

// Close closes the store.
func (s *badgerStore) Close() error { return s.db.Close() }

func logKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64(bytes.Clone(logPrefix), index)
}

// FirstIndex returns the first index stored, 0 if none.
func (s *badgerStore) FirstIndex() (uint64, error) { return s.edgeIndex(false) }

// LastIndex returns the last index stored, 0 if none.
func (s *badgerStore) LastIndex() (uint64, error) { return s.edgeIndex(true) }

// edgeIndex returns the first or, reverse, the last index stored.
func (s *badgerStore) edgeIndex(reverse bool) (uint64, error) {
	var index uint64
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues, opts.Reverse = logPrefix, false, reverse
		it := txn.NewIterator(opts)
		defer it.Close()
		seek := logPrefix
		if reverse {
			seek = logKey(^uint64(0))
		}
		if it.Seek(seek); it.ValidForPrefix(logPrefix) {
			index = binary.BigEndian.Uint64(it.Item().Key()[len(logPrefix):])
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("raft log store: %w", err)
	}
	return index, nil
}

// GetLog reads the entry at index into l.
func (s *badgerStore) GetLog(index uint64, l *raft.Log) error {
	return s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(logKey(index))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return raft.ErrLogNotFound
		}
		if err != nil {
			return fmt.Errorf("raft log store: entry %d: %w", index, err)
		}
		return item.Value(func(v []byte) error { return decodeLog(index, v, l) })
	})
}

// StoreLog stores one entry.
func (s *badgerStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries durably: one fsync'd transaction, or several in
// order when badger's transaction limit splits them.
func (s *badgerStore) StoreLogs(logs []*raft.Log) error {
	for len(logs) > 0 {
		n, err := s.storePrefix(logs)
		if err != nil {
			return fmt.Errorf("raft log store: store entries %d-%d: %w", logs[0].Index, logs[len(logs)-1].Index, err)
		}
		logs = logs[n:]
	}
	return nil
}

// storePrefix stores as many of logs as fit one transaction and returns how many.
func (s *badgerStore) storePrefix(logs []*raft.Log) (int, error) {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	n := 0
	for ; n < len(logs); n++ {
		err := txn.Set(logKey(logs[n].Index), encodeLog(logs[n]))
		if errors.Is(err, badger.ErrTxnTooBig) && n > 0 {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	return n, txn.Commit()
}

// DeleteRange deletes the entries from min to max, inclusive.
func (s *badgerStore) DeleteRange(min, max uint64) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues = logPrefix, false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(logKey(min)); it.ValidForPrefix(logPrefix); it.Next() {
			if binary.BigEndian.Uint64(it.Item().Key()[len(logPrefix):]) > max {
				break
			}
			if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return fmt.Errorf("raft log store: delete entries %d-%d: %w", min, max, err)
	}
	return nil
}

// Set stores a stable value.
func (s *badgerStore) Set(key, val []byte) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(append(bytes.Clone(stablePrefix), key...), bytes.Clone(val))
	})
	if err != nil {
		return fmt.Errorf("raft stable store: set %q: %w", key, err)
	}
	return nil
}

// Get reads a stable value; a missing key is errNotFound.
func (s *badgerStore) Get(key []byte) ([]byte, error) {
	var val []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(append(bytes.Clone(stablePrefix), key...))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return errNotFound
		}
		if err != nil {
			return fmt.Errorf("raft stable store: get %q: %w", key, err)
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	return val, err
}

// SetUint64 stores a stable number.
func (s *badgerStore) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 reads a stable number; a missing key is errNotFound.
func (s *badgerStore) GetUint64(key []byte) (uint64, error) {
	val, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(val) != 8 {
		return 0, fmt.Errorf("raft stable store: %q holds %d bytes, not a number", key, len(val))
	}
	return binary.BigEndian.Uint64(val), nil
}

// collectGarbage rewrites the value log behind deleted entries every
// storeGCInterval until ctx ends.
func (s *badgerStore) collectGarbage(ctx context.Context) {
	t := time.NewTicker(storeGCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for ctx.Err() == nil && s.db.RunValueLogGC(0.5) == nil {
			}
		}
	}
}

// encodeLog is the stored form of an entry (its index is the key).
func encodeLog(l *raft.Log) []byte {
	v := make([]byte, logHeaderLen, logHeaderLen+len(l.Extensions)+len(l.Data))
	binary.BigEndian.PutUint64(v, l.Term)
	v[8] = byte(l.Type)
	var appended int64
	if !l.AppendedAt.IsZero() {
		appended = l.AppendedAt.UnixNano()
	}
	binary.BigEndian.PutUint64(v[9:], uint64(appended))
	binary.BigEndian.PutUint32(v[17:], uint32(len(l.Extensions)))
	return append(append(v, l.Extensions...), l.Data...)
}

// decodeLog rebuilds the entry at index from v into l, copying its bytes.
func decodeLog(index uint64, v []byte, l *raft.Log) error {
	if len(v) < logHeaderLen {
		return fmt.Errorf("%w: raft log entry %d of %d bytes", errBadCommand, index, len(v))
	}
	ext := int(binary.BigEndian.Uint32(v[17:]))
	if len(v) < logHeaderLen+ext {
		return fmt.Errorf("%w: raft log entry %d: extensions overrun it", errBadCommand, index)
	}
	*l = raft.Log{Index: index, Term: binary.BigEndian.Uint64(v), Type: raft.LogType(v[8])}
	if nanos := int64(binary.BigEndian.Uint64(v[9:])); nanos != 0 {
		l.AppendedAt = time.Unix(0, nanos)
	}
	if ext > 0 {
		l.Extensions = bytes.Clone(v[logHeaderLen : logHeaderLen+ext])
	}
	l.Data = bytes.Clone(v[logHeaderLen+ext:])
	return nil
}

// badgerLog passes badger's warnings and errors to zap and drops the rest.
type badgerLog struct{ *zap.SugaredLogger }

// Warningf logs a badger warning.
func (l badgerLog) Warningf(format string, args ...any) { l.Warnf(format, args...) }

// Infof drops badger's informational messages.
func (badgerLog) Infof(string, ...any) {}

// Debugf drops badger's debug messages.
func (badgerLog) Debugf(string, ...any) {}
