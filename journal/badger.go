package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/pageout"
)

// Defaults applied by OpenBadger to zero Options fields.
const (
	DefaultMemTableSize   = 16 << 20
	DefaultBlockCacheSize = 16 << 20
	DefaultIndexCacheSize = 8 << 20
	DefaultSnapshotEvery  = 50_000
	DefaultMaxBatch       = 1024

	DefaultValueLogFileSize = 64 << 20
	DefaultRetention        = 14 * 24 * time.Hour
	DefaultArchiveRetention = 400 * 24 * time.Hour
)

const (
	// minMemTableSize keeps badger's per-transaction limit (15% of a memtable)
	// above valueThreshold, which badger requires.
	minMemTableSize = 1 << 20
	// valueThreshold sends values of at least this many bytes (most records,
	// every snapshot chunk) to the value log, keeping the LSM tree small.
	valueThreshold = 1 << 10
	// maxBatchBytes caps the payload bytes taken into one group commit.
	maxBatchBytes = 8 << 20
	// pageOutEvery is how many payload bytes the committer writes between
	// requests to page out the store's mapped files. Every page written
	// stays resident until then: at 32 MiB the value log's pages were a
	// quarter of the peak RSS at 100,000 alerts, at 4 MiB still 2.5-3 MiB
	// of it; a page-out costs one read of /proc/self/maps, some 20 a second
	// at 60,000 alerts/s.
	pageOutEvery = 1 << 20
	// gcInterval is how often the value log is garbage-collected.
	gcInterval = 5 * time.Minute
	// gcDiscardRatio is the share of a value log file that must be garbage
	// before badger rewrites it.
	gcDiscardRatio = 0.5
	// storeMagic tags the badger directory as a Klaxon journal (format 1).
	storeMagic = 0x4b31
)

// MaxRecordSize is the largest payload Append accepts with the default
// value log file size; a smaller ValueLogFileSize lowers it.
const MaxRecordSize = DefaultValueLogFileSize - timeLen

// ErrTooLarge is returned by Append for a payload over the record size limit
// (MaxRecordSize with the default value log file size).
var ErrTooLarge = errors.New("journal record too large")

// Options configures the embedded badger journal.
type Options struct {
	Dir            string                // data directory
	MemTableSize   int64                 // badger memtable size; default 16 MiB
	BlockCacheSize int64                 // badger block cache; default 16 MiB
	IndexCacheSize int64                 // badger index cache; default 8 MiB
	SnapshotEvery  uint64                // FSM snapshot every N applied records; 0 means 50,000
	MaxBatch       int                   // max records per group commit; default 1024
	MinFreeBytes   int64                 // free space kept in reserve on Dir's filesystem; 0 derives it from MemTableSize
	Clock          func() time.Time      // source of record times; default time.Now
	Logger         *zap.Logger           // default zap.NewNop(); receives badger's warnings and errors
	Registerer     prometheus.Registerer // where metrics are registered; may be nil

	ValueLogFileSize int64         // size at which badger starts a new value log file, 1 MiB to 2 GiB; default 64 MiB
	Retention        time.Duration // how long records stay once a snapshot covers them, by record time; default 14 days
	ArchiveRetention time.Duration // how long archived items stay, by item time; default 400 days

	// SizeHint, if set, is called once at the start of recovery, before
	// the snapshot is restored, with the size the FSM (a Sizer) last
	// reached, so that the process can make ready the memory recovery will
	// take. Not called when no size is stored.
	SizeHint func(n int)
}

// Badger is the single-machine Journal: records are group-committed to an
// embedded badger store with fsync and applied in order to an FSM.
type Badger struct {
	opts    Options
	db      *badger.DB
	fsm     FSM
	log     *zap.Logger
	metrics *metrics

	frames sync.Pool // *[]byte: buffers AppendFramed is done with, for Frame

	// commitTxn makes a transaction durable; tests replace it to inject failures.
	commitTxn func(*badger.Txn) error
	space     *spaceGuard // refuses writes the filesystem has no room for

	reqs    chan *request
	pageOut chan struct{}   // asks maintain to page out mapped store files
	mapDir  string          // resolved Dir with a trailing separator, as /proc/self/maps shows it
	ctx     context.Context // cancelled by Close to stop the goroutines below
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the committer and maintain goroutines
	snapWG  sync.WaitGroup // background snapshots

	// storeMu is held shared by a background snapshot while it writes, and
	// exclusively by a Close that gives up waiting for snapshots, which sets
	// abandoned so that none writes once the store is closing.
	storeMu   sync.RWMutex
	abandoned bool
	lastSeq   atomic.Uint64 // mirror of seq for LastSeq

	// mu guards closed; Read holds it shared so Close waits for open reads.
	mu     sync.RWMutex
	closed bool

	closeOnce sync.Once
	closeErr  error

	// Owned by the maintain goroutine.
	noPageOut bool // paging out failed once; do not retry

	// Owned by the committer goroutine.
	written        int    // payload bytes committed since the last page-out request
	storedSize     int64  // the size hint the store holds (size.go)
	committed      uint64 // last durable record
	committedNanos int64  // time of the last durable record

	// Owned by the applier goroutine (and by Close once it has stopped).
	seq       uint64       // last applied record, durable
	nanos     int64        // time of the last applied record
	snapMu    sync.Mutex   // guards snap and hasSnap, which a background snapshot sets
	snap      snapshotMeta // the stored snapshot, if hasSnap
	hasSnap   bool
	snapping  atomic.Bool // a snapshot is being serialised and stored
	snapTry   uint64      // seq of the last snapshot attempt
	sinceSnap int64       // payload bytes committed since the last snapshot attempt
	replayed  int         // records applied by recovery

	sizer Sizer        // the FSM, if it is a Sizer (size.go)
	size  atomic.Int64 // its size after the last applied batch

	retention // truncation and the archive (retention.go, archive.go)
}

var (
	_ Journal = (*Badger)(nil)
	_ Framer  = (*Badger)(nil)
)

// request is one pending Append, answered on done.
type request struct {
	value   []byte // timestamp placeholder followed by the payload
	decoded any
	done    chan result
}

// result is the answer to one request.
type result struct {
	rec Record
	res any
	err error
}

// OpenBadger opens (or creates) the journal in opts.Dir, restores fsm from
// the newest snapshot and the records after it, and starts committing.
func OpenBadger(opts Options, fsm FSM) (*Badger, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	if fsm == nil {
		return nil, errors.New("open journal: nil FSM")
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	space := newSpaceGuard(opts.Dir, opts.MinFreeBytes)
	if err := checkBeforeOpen(opts.Dir, opts.ValueLogFileSize, space); err != nil {
		return nil, err
	}
	db, err := badger.Open(badgerOptions(opts))
	if err != nil {
		return nil, fmt.Errorf("open journal store %s: %w", opts.Dir, err)
	}
	mapDir, err := resolveDir(opts.Dir)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	b := &Badger{
		opts:      opts,
		db:        db,
		fsm:       fsm,
		log:       opts.Logger,
		metrics:   m,
		commitTxn: (*badger.Txn).Commit,
		space:     space,
		reqs:      make(chan *request),
		pageOut:   make(chan struct{}, 1),
		mapDir:    mapDir,
	}
	b.sizer, _ = fsm.(Sizer)
	start := time.Now()
	if err := b.recover(); err != nil {
		return nil, errors.Join(fmt.Errorf("recover journal %s: %w", opts.Dir, err), db.Close())
	}
	if err := b.openRetention(); err != nil {
		return nil, errors.Join(fmt.Errorf("open journal %s: %w", opts.Dir, err), db.Close())
	}
	b.lastSeq.Store(b.seq)
	m.lastSeq.Set(float64(b.seq))
	b.log.Info("journal recovered",
		zap.String("dir", opts.Dir),
		zap.Bool("snapshot", b.hasSnap),
		zap.Uint64("snapshot_seq", b.snap.Seq),
		zap.Int("replayed", b.replayed),
		zap.Uint64("last_seq", b.seq),
		zap.Int64("size_hint", b.storedSize),
		zap.Duration("took", time.Since(start)))

	b.requestPageOut() // recovery read the snapshot and the records after it
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.committed, b.committedNanos = b.seq, b.nanos
	b.wg.Add(2)
	go b.run(b.ctx)
	go b.maintain(b.ctx)
	return b, nil
}

// resolveDir returns dir as an absolute path without symlinks and with a
// trailing separator, the form in which /proc/self/maps names its files.
func resolveDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return "", fmt.Errorf("resolve journal directory %s: %w", dir, err)
	}
	return abs + string(filepath.Separator), nil
}

// withDefaults validates opts and fills in its zero fields.
func withDefaults(opts Options) (Options, error) {
	if opts.Dir == "" {
		return opts, errors.New("open journal: no directory")
	}
	for _, f := range []struct {
		name string
		v    *int64
		def  int64
	}{
		{"memtable size", &opts.MemTableSize, DefaultMemTableSize},
		{"block cache size", &opts.BlockCacheSize, DefaultBlockCacheSize},
		{"index cache size", &opts.IndexCacheSize, DefaultIndexCacheSize},
	} {
		switch {
		case *f.v < 0:
			return opts, fmt.Errorf("open journal: negative %s %d", f.name, *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	if opts.MemTableSize < minMemTableSize {
		return opts, fmt.Errorf("open journal: memtable size %d is below the %d-byte minimum", opts.MemTableSize, minMemTableSize)
	}
	if opts.SnapshotEvery == 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	switch {
	case opts.MaxBatch < 0:
		return opts, fmt.Errorf("open journal: negative max batch %d", opts.MaxBatch)
	case opts.MaxBatch == 0:
		opts.MaxBatch = DefaultMaxBatch
	}
	switch {
	case opts.MinFreeBytes < 0:
		return opts, fmt.Errorf("open journal: negative minimum free bytes %d", opts.MinFreeBytes)
	case opts.MinFreeBytes == 0:
		opts.MinFreeBytes = defaultMinFree(opts.MemTableSize)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return retentionDefaults(opts)
}

// badgerOptions returns fsync'd, memory-lean badger settings for opts.
func badgerOptions(opts Options) badger.Options {
	return badger.DefaultOptions(opts.Dir).
		WithLogger(badgerLogger{log: opts.Logger.Named("badger")}).
		WithSyncWrites(true).
		WithMemTableSize(opts.MemTableSize).
		WithNumMemtables(2).
		WithBlockCacheSize(opts.BlockCacheSize).
		WithIndexCacheSize(opts.IndexCacheSize).
		WithValueThreshold(valueThreshold).
		WithValueLogFileSize(cmp.Or(opts.ValueLogFileSize, DefaultValueLogFileSize)).
		WithNumVersionsToKeep(1).
		WithCompression(options.None).
		WithDetectConflicts(false).
		WithNumCompactors(2).
		WithMetricsEnabled(false).
		WithExternalMagic(storeMagic)
}

// Append stores data as the next record once it is fsync'd and applied, and
// returns it with the FSM's result. A cancelled ctx abandons the append only
// while it is still waiting to be taken into a commit.
func (b *Badger) Append(ctx context.Context, data []byte, decoded any) (Record, any, error) {
	if err := b.admit(ctx, len(data)); err != nil {
		return Record{}, nil, err
	}
	return b.append(ctx, newRecordValue(data), decoded)
}

// Headroom is the record header's size: the timestamp (Framer).
func (b *Badger) Headroom() int { return timeLen }

// maxFrame is the largest buffer AppendFramed keeps for Frame to return.
const maxFrame = 1 << 20

// Frame returns a buffer for AppendFramed (Framer): one that an
// AppendFramed is done with, if there is one. Encoding an entry into a new
// buffer for every commit was a fifth of the bytes allocated per alert.
func (b *Badger) Frame() []byte {
	if p, ok := b.frames.Get().(*[]byte); ok {
		return (*p)[:timeLen]
	}
	return make([]byte, timeLen, 4<<10)
}

// AppendFramed is Append for the data behind framed's first Headroom
// bytes, which become the record's header: the data is not copied. Once
// the record is committed and applied, framed serves Frame again, so the
// Record returned has no Data.
func (b *Badger) AppendFramed(ctx context.Context, framed []byte, decoded any) (Record, any, error) {
	if len(framed) < timeLen {
		return Record{}, nil, fmt.Errorf("journal: a framed record of %d bytes has no room for its %d-byte header", len(framed), timeLen)
	}
	if err := b.admit(ctx, len(framed)-timeLen); err != nil {
		return Record{}, nil, err
	}
	rec, res, err := b.append(ctx, framed, decoded)
	rec.Data = nil
	if cap(framed) <= maxFrame {
		b.frames.Put(&framed)
	}
	return rec, res, err
}

// admit refuses an append of n bytes of data before it is queued: ctx is
// done, the journal is closed, or the data is over the record size limit.
func (b *Badger) admit(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.ctx.Err() != nil {
		return ErrClosed
	}
	if limit := b.opts.ValueLogFileSize - timeLen; int64(n) > limit {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, limit)
	}
	return nil
}

// append queues the record value (header room, then data) for a commit
// and waits for its result.
func (b *Badger) append(ctx context.Context, value []byte, decoded any) (Record, any, error) {
	req := &request{value: value, decoded: decoded, done: make(chan result, 1)}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		return Record{}, nil, ctx.Err()
	case <-b.ctx.Done():
		return Record{}, nil, ErrClosed
	}
	r := <-req.done
	return r.rec, r.res, r.err
}

// Read calls fn for every stored record with Seq >= from, in order, and stops
// at the first error fn returns, which it returns unchanged. The Data passed
// to fn belongs to fn.
func (b *Badger) Read(from uint64, fn func(Record) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	defer b.requestPageOut() // the scan mapped the records it read
	return b.db.View(func(txn *badger.Txn) error {
		return scanRecords(txn, from, fn)
	})
}

// LastSeq is the sequence number of the last durable record (0 if none).
func (b *Badger) LastSeq() uint64 {
	return b.lastSeq.Load()
}

// Close stops accepting appends, finishes those already taken, writes a
// final snapshot and closes the store. Later calls return the first result.
func (b *Badger) Close() error {
	return b.CloseContext(context.Background())
}

// stop ends the committer and garbage-collection goroutines and waits for
// in-progress reads and snapshots; afterwards the store is only touched by
// the caller.
func (b *Badger) stop() {
	_ = b.stopWithin(context.Background())
}

// maintain truncates the journal, ages out the archive and runs badger's
// value log GC every gcInterval and when asked, and pages out the store's
// mapped files when asked, until ctx ends.
func (b *Badger) maintain(ctx context.Context) {
	defer b.wg.Done()
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.retain(ctx)
		case <-b.trim:
			b.retain(ctx)
		case <-b.pageOut:
		}
		b.pageOutStore()
	}
}

// collectGarbage rewrites value log files while at least gcDiscardRatio of
// one is garbage (old snapshot chunks, truncated records, aged-out items).
func (b *Badger) collectGarbage(ctx context.Context) {
	for ctx.Err() == nil {
		if err := b.space.check(gcRewriteBytes(b.opts.ValueLogFileSize)); err != nil {
			b.log.Warn("journal value log GC skipped", zap.Error(err))
			return
		}
		err := b.db.RunValueLogGC(gcDiscardRatio)
		if err == nil {
			continue
		}
		if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
			b.log.Warn("journal value log GC failed", zap.Error(err))
		}
		return
	}
}

// requestPageOut asks maintain to page out the store's mapped files soon.
func (b *Badger) requestPageOut() {
	select {
	case b.pageOut <- struct{}{}:
	default:
	}
}

// pageOutStore releases the pages of badger's memory-mapped files (value
// log, memtable logs, tables: every byte written or read would stay
// resident until the kernel is pressed for memory) from this process's
// RSS; on the first failure it warns and stops trying.
func (b *Badger) pageOutStore() {
	if b.noPageOut {
		return
	}
	if err := pageout.Files(b.mapDir); err != nil {
		b.noPageOut = true
		b.log.Warn("journal cannot page out its mapped files; RSS will include store pages the kernel has not reclaimed", zap.Error(err))
	}
}
