package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/klaxonhq/klaxon/journal"
)

// MaxRecordSize is the largest payload Append accepts.
const MaxRecordSize = 16 << 20

// ErrNotLeader is returned, wrapping journal.ErrUnavailable, by Append on a
// node that is not the leader: its HTTP requests are forwarded instead, and
// its own loops (timers, workers) run only while it leads.
var ErrNotLeader = fmt.Errorf("%w: not the raft leader", journal.ErrUnavailable)

// Append proposes data as the next record and returns once a majority has
// it durably and this node, the leader, has applied it, with the FSM's
// result. The leader stamps the record's time before proposing, so every
// replica applies the same record; its sequence is its raft log index. On a
// follower, during an election, or without quorum the error wraps
// journal.ErrUnavailable. A ctx that ends while waiting gives up waiting:
// the record may still commit, and a retry is then a duplicate that
// triage's idempotency absorbs.
func (n *Node) Append(ctx context.Context, data []byte, decoded any) (journal.Record, any, error) {
	cmd := make([]byte, recordHeaderLen+len(data))
	copy(cmd[recordHeaderLen:], data)
	return n.AppendFramed(ctx, cmd, decoded)
}

// Headroom is a record command's header size (journal.Framer).
func (n *Node) Headroom() int { return recordHeaderLen }

// Frame returns a new buffer for AppendFramed (journal.Framer): raft keeps
// what it is given.
func (n *Node) Frame() []byte { return make([]byte, recordHeaderLen) }

// AppendFramed is Append for the data behind framed's first Headroom
// bytes, which become the record command's header: the data is proposed
// without a copy.
func (n *Node) AppendFramed(ctx context.Context, framed []byte, decoded any) (journal.Record, any, error) {
	if len(framed) < recordHeaderLen {
		return journal.Record{}, nil, fmt.Errorf("cluster: a framed record of %d bytes has no room for its %d-byte header", len(framed), recordHeaderLen)
	}
	data := framed[recordHeaderLen:]
	if err := ctx.Err(); err != nil {
		return journal.Record{}, nil, err
	}
	if n.closing.Load() {
		return journal.Record{}, nil, journal.ErrClosed
	}
	if len(data) > MaxRecordSize {
		return journal.Record{}, nil, fmt.Errorf("%w: %d bytes, limit %d", journal.ErrTooLarge, len(data), MaxRecordSize)
	}
	if n.raft.State() != raft.Leader {
		return journal.Record{}, nil, ErrNotLeader
	}
	start := time.Now()
	token := n.token.Add(1)
	if decoded != nil {
		n.fsm.decoded.Store(token, proposal{data: data, decoded: decoded})
		defer n.fsm.decoded.Delete(token) // if the record never applies here
	}
	putRecordHeader(framed, n.stampTime(), token)
	f := n.raft.Apply(framed, 0)
	if err := wait(ctx, f); err != nil {
		return journal.Record{}, nil, n.unavailable(err)
	}
	r, ok := f.Response().(result)
	if !ok {
		return journal.Record{}, nil, fmt.Errorf("raft applied %T, not a record", f.Response())
	}
	if r.err != nil {
		return journal.Record{}, nil, r.err
	}
	n.metrics.apply.Observe(time.Since(start).Seconds())
	return r.rec, r.res, nil
}

// stampTime returns the time for the next record: now, but never before a
// record this node stamped or applied.
func (n *Node) stampTime() int64 {
	n.stampMu.Lock()
	defer n.stampMu.Unlock()
	n.stamp = max(n.opts.Clock().UnixNano(), n.stamp, n.fsm.nanos.Load())
	return n.stamp
}

// wait waits for f, or for ctx to end.
func wait(ctx context.Context, f raft.Future) error {
	if ctx.Done() == nil {
		return f.Error()
	}
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unavailable wraps a raft failure in journal.ErrUnavailable, so that the
// caller answers 503 and the sender retries.
func (n *Node) unavailable(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", journal.ErrClosed, err)
	default:
		return fmt.Errorf("%w: raft: %w", journal.ErrUnavailable, err)
	}
}

// Read calls fn for every applied record in this node's raft log with Seq
// >= from, in order, without applying it (for replay tools). Raft compacts
// its log behind snapshots, keeping TrailingLogs entries.
func (n *Node) Read(from uint64, fn func(journal.Record) error) error {
	return readLog(n.logs, max(from, 1), n.fsm.applied.Load(), fn)
}

// readLog calls fn for the records in store from index from to to.
func readLog(store raft.LogStore, from, to uint64, fn func(journal.Record) error) error {
	first, err := store.FirstIndex()
	if err != nil {
		return fmt.Errorf("read raft log: %w", err)
	}
	var l raft.Log
	for i := max(from, first); i <= to && i > 0; i++ {
		err := store.GetLog(i, &l)
		if errors.Is(err, raft.ErrLogNotFound) {
			continue // compacted meanwhile
		}
		if err != nil {
			return fmt.Errorf("read raft log entry %d: %w", i, err)
		}
		if l.Type != raft.LogCommand || len(l.Data) == 0 || l.Data[0] != kindRecord {
			continue
		}
		d, err := decodeRecord(l.Data)
		if err != nil {
			return fmt.Errorf("raft log entry %d: %w", i, err)
		}
		if err := fn(journal.Record{Seq: i, Time: recordTime(d.nanos), Data: d.data}); err != nil {
			return err
		}
	}
	return nil
}

// LastSeq is the sequence number (raft index) of the last record applied here.
func (n *Node) LastSeq() uint64 { return n.fsm.lastSeq.Load() }

// FirstSeq is the first index still in this node's raft log (0 if none).
func (n *Node) FirstSeq() uint64 {
	first, err := n.logs.FirstIndex()
	if err != nil {
		return 0
	}
	return first
}

// Archived returns the item this replica archived under key.
func (n *Node) Archived(key string) (journal.ArchiveItem, bool, error) {
	return n.archive.Archived(key)
}

// ScanArchive scans this replica's archive (see journal.Journal).
func (n *Node) ScanArchive(after string, fn func(journal.ArchiveItem) (bool, error)) error {
	return n.archive.ScanArchive(after, fn)
}

// OnApplied registers fn to run after each batch of entries this replica
// applies, wherever they were proposed (followers apply what the leader
// proposed): for views rendered from the state, such as the status page.
func (n *Node) OnApplied(fn func()) { n.fsm.onApplied(fn) }
