package cluster

import (
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/journal"
)

// logDir is where a replica keeps raft's log under its data directory.
func logDir(dataDir string) string { return filepath.Join(dataDir, "raft", "log") }

// IsDataDir reports whether dir is a replica's data directory (it holds a raft log).
func IsDataDir(dir string) bool {
	_, err := os.Stat(filepath.Join(logDir(dir), "MANIFEST"))
	return err == nil
}

// ReadDir calls fn for every record in the raft log of the replica data
// directory dir with Seq >= from, in order, for replay tools. It opens the
// log read-only, which badger allows only while no Klaxon has it open: use
// a stopped replica's directory or a copy. The log's tail may hold entries
// that were never committed.
func ReadDir(dir string, from uint64, fn func(journal.Record) error) error {
	s, err := openBadgerStoreWith(storeOptions(logDir(dir), zap.NewNop()).WithReadOnly(true))
	if err != nil {
		return fmt.Errorf("%w (stop Klaxon or copy the directory first)", err)
	}
	defer s.Close()
	last, err := s.LastIndex()
	if err != nil {
		return err
	}
	return readLog(s, from, last, fn)
}
