package journal

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// ReadDir calls fn for every record stored in the journal directory dir with
// Seq >= from, in order, without applying anything. It opens the store the
// way Klaxon does (so that it can finish a crashed store's log), which badger
// only allows while no Klaxon has the directory open: use a stopped
// instance's data or a copy of a running one's.
func ReadDir(dir string, from uint64, fn func(Record) error) error {
	opts, err := withDefaults(Options{Dir: dir, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	db, err := badger.Open(badgerOptions(opts))
	if err != nil {
		return fmt.Errorf("open journal %s (stop Klaxon or copy the directory first): %w", dir, err)
	}
	defer db.Close()
	return db.View(func(txn *badger.Txn) error { return scanRecords(txn, from, fn) })
}
