package journal

import (
	"errors"
	"fmt"
	"sync/atomic"

	"go.uber.org/zap"
)

// ErrNoSpace is returned, wrapped together with ErrUnavailable, when the
// data directory's filesystem has less free space than a write needs on top
// of the reserve (Options.MinFreeBytes).
var ErrNoSpace = errors.New("no space left for the journal")

// ErrReadOnly is returned, wrapped together with ErrUnavailable, when the
// data directory's filesystem is mounted (or was remounted) read-only.
var ErrReadOnly = errors.New("journal filesystem is read-only")

// fsSpace is what statfs says of a filesystem.
type fsSpace struct {
	free     int64 // bytes available to unprivileged users
	readOnly bool
}

// Badger writes its value log, memtable logs and tables through memory
// mappings of files it first extends sparsely with ftruncate. A store
// write that lands in a hole when the filesystem is full faults with SIGBUS
// and kills the process; no error is ever returned. So the journal checks the
// free space itself before every write it starts and keeps a reserve for
// the writes badger starts on its own (memtable flushes and compactions).
const (
	// recordOverhead bounds what badger adds to one record: value log entry
	// header, key with its version, checksum, and the memtable log entry of
	// the value pointer.
	recordOverhead = 128
	// fixedReserve covers badger's small writes: value log and memtable log
	// headers of new files, the discard stats file doubling, MANIFEST
	// rewrites and the key registry.
	fixedReserve = 4 << 20
)

// gcRewriteBytes is the most one value log GC pass writes: the live part of
// one value log file, which is at most (1-gcDiscardRatio) of it.
func gcRewriteBytes(vlogSize int64) int64 { return int64((1 - gcDiscardRatio) * float64(vlogSize)) }

// defaultMinFree is the reserve for a memtable size: badger's two memtables
// flushed to level 0 (a table holds at most its memtable's contents), plus a
// level 0 compaction (every level 0 table, NumLevelZeroTables of them, merged
// with the base level's tables, whose target size is BaseLevelSize), whose new
// tables are written before the old ones are deleted, plus fixedReserve.
// Group commits, snapshots and value log GC are checked on top of it with
// their own size.
func defaultMinFree(memTable int64) int64 {
	bo := badgerOptions(Options{Dir: ".", MemTableSize: memTable, Logger: zap.NewNop()})
	flushes := int64(bo.NumMemtables) * memTable
	compaction := int64(bo.NumLevelZeroTables)*memTable + bo.BaseLevelSize
	return flushes + compaction + fixedReserve
}

// spaceGuard refuses writes that would leave the data directory's
// filesystem with less than min free bytes.
type spaceGuard struct {
	dir string
	min int64
	// pending is what writes checked but not yet finished (a snapshot
	// being stored) will still take; every check counts it.
	pending atomic.Int64
	// statFn describes dir's filesystem (statfs); tests replace it with
	// setStat while the journal's goroutines run.
	statFn atomic.Pointer[func(dir string) (fsSpace, error)]
}

// newSpaceGuard returns a guard for dir keeping min bytes free.
func newSpaceGuard(dir string, min int64) *spaceGuard {
	g := &spaceGuard{dir: dir, min: min}
	g.setStat(statfs)
	return g
}

// setStat replaces how the guard reads its filesystem's free space.
func (g *spaceGuard) setStat(fn func(dir string) (fsSpace, error)) { g.statFn.Store(&fn) }

func (g *spaceGuard) stat(dir string) (fsSpace, error) { return (*g.statFn.Load())(dir) }

// check returns an error wrapping ErrUnavailable and ErrNoSpace unless the
// filesystem has room for need more bytes on top of the reserve and of
// the writes already under way, or ErrReadOnly if it cannot be written
// at all (a write through a mapping would fault there too).
func (g *spaceGuard) check(need int64) error {
	st, err := g.stat(g.dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if st.readOnly {
		return fmt.Errorf("%w: %w: %s", ErrUnavailable, ErrReadOnly, g.dir)
	}
	free, want := st.free, g.min+g.pending.Load()+need
	if free < want {
		return fmt.Errorf("%w: %w: %s has %d bytes free, below the %d needed (%d for this write, %d in reserve: storage.min_free_bytes)",
			ErrUnavailable, ErrNoSpace, g.dir, free, want, need, g.min)
	}
	return nil
}

// reserve checks room for need bytes like check and, if there is, counts
// them as pending until the returned release is called.
func (g *spaceGuard) reserve(need int64) (release func(), err error) {
	if err := g.check(need); err != nil {
		return nil, err
	}
	g.pending.Add(need)
	return func() { g.pending.Add(-need) }, nil
}

// batchBytes is what committing batch writes to the store, at most.
func batchBytes(batch []*request) int64 {
	n := int64(len(batch)) * recordOverhead
	for _, req := range batch {
		n += int64(len(req.value))
	}
	return n
}

// writeIfRoom is write, refused with ErrNoSpace while the filesystem has
// no room for the batch on top of the reserve. It is checked per
// transaction, so space that returns is used by the next commit.
func (b *Badger) writeIfRoom(batch []*request, keys []byte) (int, error) {
	if err := b.space.check(batchBytes(batch)); err != nil {
		return 0, err
	}
	return b.write(batch, keys)
}

// checkOpenSpace refuses to open the store while its filesystem has less
// than the reserve free: badger writes file headers through mappings as it
// opens, which would fault on a full disk.
func checkOpenSpace(space *spaceGuard) error {
	if err := space.check(0); err != nil {
		return fmt.Errorf("open journal store %s: %w", space.dir, err)
	}
	return nil
}
