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

// Journal appends entries durably and applies them, in order, to an FSM.
type Journal interface {
	// Append stores data as the next record and returns once it is durable
	// (fsync'd) and applied, with the FSM's result. decoded, if not nil, is
	// what data decodes to, passed on as Record.Decoded. Concurrent Appends
	// share commits. A storage failure returns an error wrapping
	// ErrUnavailable.
	Append(ctx context.Context, data []byte, decoded any) (Record, any, error)
	// Read calls fn for every stored record with Seq >= from, in order,
	// without applying it (for replay tools).
	Read(from uint64, fn func(Record) error) error
	// LastSeq is the sequence number of the last durable record.
	LastSeq() uint64
	// Close stops accepting appends, finishes those in flight, writes a
	// snapshot and closes the store.
	Close() error
}

// ErrUnavailable is returned when the store cannot make an entry durable
// (disk full, read-only, closed). Callers answer 503 so senders retry.
var ErrUnavailable = errors.New("journal unavailable")

// ErrClosed is returned by Append after Close. It wraps ErrUnavailable.
var ErrClosed = errors.Join(ErrUnavailable, errors.New("journal closed"))
