package journal

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// ReadDir calls fn for every record stored in the journal directory dir with
// Seq >= from, in order, opening the store read-only. Badger locks the
// directory, so this works on a stopped Klaxon's data or on a copy of it.
func ReadDir(dir string, from uint64, fn func(Record) error) error {
	opts := badgerOptions(Options{Dir: dir, MemTableSize: minMemTableSize, BlockCacheSize: DefaultBlockCacheSize,
		IndexCacheSize: DefaultIndexCacheSize, Logger: zap.NewNop()}).WithReadOnly(true)
	db, err := badger.Open(opts)
	if err != nil {
		return fmt.Errorf("open journal %s read-only (stop Klaxon or copy the directory first): %w", dir, err)
	}
	defer db.Close()
	return db.View(func(txn *badger.Txn) error { return scanRecords(txn, from, fn) })
}
