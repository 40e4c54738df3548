// Package journal is Klaxon's ordered, durable log of entries, and the seam
// behind which a replicated log can later replace the embedded one.
package journal

import (
	"context"
	"errors"
	"time"
)

// Record is one journaled entry: its position in the log, the time it was
// accepted, and its opaque payload (an encoded triage entry).
type Record struct {
	Seq  uint64
	Time time.Time
	Data []byte
	// Decoded is the appender's own decoding of Data, handed to Apply with
	// live appends so the FSM need not decode again; nil when a record is
	// read back from the store. It is never stored.
	Decoded any
}

// FSM is the state machine a journal feeds, in the shape of hashicorp/raft's
// FSM so that replication can later slot in underneath without a rewrite.
//
// Apply is called exactly once per record, in sequence order, from a single
// goroutine, only after the record is durable. Its result is handed back to
// the caller of Append. Snapshot is called on that same goroutine between
// Apply calls: it captures the state quickly and returns the function that
// serialises the capture, which may run on another goroutine while Apply
// goes on (as raft's FSMSnapshot.Persist does). Restore replaces the whole
// state with a serialised one.
type FSM interface {
	Apply(Record) any
	Snapshot() SnapshotFunc
	Restore([]byte) error
}

// SnapshotFunc serialises a state captured by FSM.Snapshot.
type SnapshotFunc func() ([]byte, error)

// ArchiveItem is cold state that an FSM moved out of memory and the journal keeps on disk.
type ArchiveItem struct {
	Key  string    // unique in the archive, e.g. "INC-42"; an item stored again under the same key replaces it
	Time time.Time // when it was archived; it ages out ArchiveRetention later
	Data []byte
}

// Archiver is implemented by FSMs that move finished state out of memory.
type Archiver interface {
	// TakeArchive returns what the records applied since the last call moved
	// out of the state, and forgets it. Called on the goroutine that applies.
	TakeArchive() []ArchiveItem
}

// Framer is a Journal that stores a record behind a header of its own
// and can take the record's data already behind room for that header,
// instead of copying it into a new buffer (a large entry's bytes are the
// most a busy server allocates).
type Framer interface {
	// Headroom is how many bytes AppendFramed wants in front of the data.
	Headroom() int
	// Frame returns a buffer for AppendFramed: Headroom bytes long, with
	// room for data after them, and perhaps one an AppendFramed before
	// is done with.
	Frame() []byte
	// AppendFramed is Append for the data in framed[Headroom():]. It takes
	// framed over: the caller must not use it again, nor the Data of the
	// Record it returns, and the FSM must not keep the Data it applies.
	AppendFramed(ctx context.Context, framed []byte, decoded any) (Record, any, error)
}

// Journal appends entries durably and applies them, in order, to an FSM.
type Journal interface {
	// Append stores data as the next record and returns once it is durable
	// (fsync'd) and applied, with the FSM's result. decoded, if not nil, is
	// what data decodes to, passed on as Record.Decoded. Concurrent Appends
	// share commits. A storage failure returns an error wrapping
	// ErrUnavailable.
	Append(ctx context.Context, data []byte, decoded any) (Record, any, error)
	// Read calls fn for every stored record with Seq >= from, in order,
	// without applying it (for replay tools). Records before FirstSeq were
	// truncated: a smaller from starts at FirstSeq.
	Read(from uint64, fn func(Record) error) error
	// LastSeq is the sequence number of the last durable record.
	LastSeq() uint64
	// FirstSeq is the sequence number of the oldest record still stored (0 if none).
	FirstSeq() uint64
	// Archived returns the archived item stored under key; ok is false if there is none.
	Archived(key string) (item ArchiveItem, ok bool, err error)
	// ScanArchive calls fn for archived items, newest first (by Time, then Key), starting with the
	// first item older than the one stored under after ("" = the newest), until fn returns false or an error.
	ScanArchive(after string, fn func(ArchiveItem) (bool, error)) error
	// Close stops accepting appends, finishes those in flight, writes a
	// snapshot and closes the store.
	Close() error
}

// ErrUnavailable is returned when the store cannot make an entry durable
// (disk full, read-only, closed). Callers answer 503 so senders retry.
var ErrUnavailable = errors.New("journal unavailable")

// ErrClosed is returned by Append after Close. It wraps ErrUnavailable.
var ErrClosed = errors.Join(ErrUnavailable, errors.New("journal closed"))
