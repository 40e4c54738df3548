package journal

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// ReadDir calls fn for every record stored in the journal directory dir with
// Seq >= from, in order, without applying anything. It opens the store
// read-only, so a cleanly stopped store is left exactly as it was; a crashed
// store's log must be finished first, so that one is opened the way Klaxon
// does. Badger allows either only while no Klaxon has the directory open:
// use a stopped instance's data or a copy of a running one's.
func ReadDir(dir string, from uint64, fn func(Record) error) error {
	opts, err := withDefaults(Options{Dir: dir, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	db, err := badger.Open(badgerOptions(opts).WithReadOnly(true))
	if err != nil {
		// Read-only fails on a store whose log needs replaying (a crash)
		// and on one a Klaxon holds; the read-write open tells them apart.
		if db, err = badger.Open(badgerOptions(opts)); err != nil {
			return fmt.Errorf("open journal %s (stop Klaxon or copy the directory first): %w", dir, err)
		}
	}
	defer db.Close()
	return db.View(func(txn *badger.Txn) error { return scanRecords(txn, from, fn) })
}
