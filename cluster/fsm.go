package cluster

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/journal"
)

// snapshotMagic starts every snapshot this package writes (version 2);
// snapshotMagicV1 started those of version 1, which Restore still reads.
var (
	snapshotMagic   = []byte("KXR\x02")
	snapshotMagicV1 = []byte("KXR\x01")
)

// Snapshot header: the magic, the last record's sequence and time, the
// length of the members' JSON (version 1 ends here, its triage state
// running to the end), the length of the triage state, and flags.
const (
	snapshotHeaderLenV1 = 4 + 8 + 8 + 4
	snapshotHeaderLen   = snapshotHeaderLenV1 + 8 + 1
	flagsOffset         = snapshotHeaderLen - 1
	// flagArchive says the archive section follows the triage state.
	flagArchive byte = 1
)

// fsm is raft's state machine: it applies record commands, in log order, to
// the journal's FSM (triage), keeps the members' API URLs, and stores what
// the FSM archives in this replica's own archive.
type fsm struct {
	inner    journal.FSM
	archiver journal.Archiver // inner, if it archives
	archive  *journal.Badger  // this replica's archive; nil in tests without one
	markPath string           // the archive mark's file (snapshotarchive.go)
	log      *zap.Logger
	batch    prometheus.Histogram

	decoded sync.Map // proposal token → proposal, on the proposing leader

	mu      sync.RWMutex
	members map[string]string // node id → API URL, as replicated

	lastSeq atomic.Uint64 // index of the last record applied
	nanos   atomic.Int64  // time of the last record applied
	applied atomic.Uint64 // index of the last log entry applied, of any kind
	batches atomic.Uint64 // batches applied, for measuring group commit

	hooksMu sync.Mutex
	hooks   []func() // called after each applied batch
}

var _ raft.BatchingFSM = (*fsm)(nil)

// newFSM wraps inner.
func newFSM(inner journal.FSM, archive *journal.Badger, log *zap.Logger, batch prometheus.Histogram) *fsm {
	f := &fsm{inner: inner, archive: archive, log: log, batch: batch, members: map[string]string{}}
	f.archiver, _ = inner.(journal.Archiver)
	return f
}

// proposal is a record this node proposed, with its own decoding of the
// payload, so that applying it here need not decode it again.
type proposal struct {
	data    []byte
	decoded any
}

// result is what Apply hands back to the proposer through raft's future.
type result struct {
	rec journal.Record
	res any
	err error
}

// Apply applies one committed log entry.
func (f *fsm) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch applies committed log entries in order, then stores what they
// archived and runs the hooks once for the batch.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	records := 0
	for i, l := range logs {
		out[i] = f.applyOne(l)
		if _, ok := out[i].(result); ok {
			records++
		}
		f.applied.Store(l.Index)
	}
	f.batch.Observe(float64(records))
	f.batches.Add(1)
	f.storeArchive(nil)
	f.runHooks()
	return out
}

// applyOne applies one entry; only commands carry anything for the state.
func (f *fsm) applyOne(l *raft.Log) any {
	if l.Type != raft.LogCommand || len(l.Data) == 0 {
		return nil
	}
	switch l.Data[0] {
	case kindRecord:
		return f.applyRecord(l)
	case kindMember:
		m, err := decodeMember(l.Data)
		if err != nil {
			f.log.Error("skipping an unreadable member command", zap.Uint64("index", l.Index), zap.Error(err))
			return result{err: err}
		}
		f.setMember(m)
		return nil
	default:
		// Refusing to go on would stop this replica for good; the entry
		// reached a majority, so every replica skips it alike.
		f.log.Error("skipping a raft command of an unknown kind", zap.Uint64("index", l.Index), zap.Uint8("kind", l.Data[0]))
		return result{err: fmt.Errorf("%w: kind %d", errBadCommand, l.Data[0])}
	}
}

// applyRecord applies a record command to the journal's FSM as record l.Index.
func (f *fsm) applyRecord(l *raft.Log) any {
	d, err := decodeRecord(l.Data)
	if err != nil {
		f.log.Error("skipping an unreadable record", zap.Uint64("index", l.Index), zap.Error(err))
		return result{err: err}
	}
	rec := journal.Record{Seq: l.Index, Time: recordTime(d.nanos), Data: d.data}
	if p, ok := f.decoded.LoadAndDelete(d.token); ok && bytes.Equal(p.(proposal).data, d.data) {
		rec.Decoded = p.(proposal).decoded
	}
	res := f.inner.Apply(rec)
	f.lastSeq.Store(l.Index)
	if d.nanos > f.nanos.Load() {
		f.nanos.Store(d.nanos)
	}
	rec.Decoded = nil
	return result{rec: rec, res: res}
}

// storeArchive stores what the FSM archived since the last call, and items.
func (f *fsm) storeArchive(items []journal.ArchiveItem) error {
	if f.archive == nil || f.archiver == nil {
		return nil
	}
	items = append(items, f.archiver.TakeArchive()...)
	err := f.archive.PutArchive(recordTime(f.nanos.Load()), items)
	if err != nil {
		f.log.Error("archive write failed; the items stay readable and are retried", zap.Error(err))
	}
	return err
}

// onApplied registers fn to run after each applied batch.
func (f *fsm) onApplied(fn func()) {
	f.hooksMu.Lock()
	f.hooks = append(f.hooks, fn)
	f.hooksMu.Unlock()
}

func (f *fsm) runHooks() {
	f.hooksMu.Lock()
	hooks := f.hooks
	f.hooksMu.Unlock()
	for _, fn := range hooks {
		fn()
	}
}

// setMember records or removes a member's API URL.
func (f *fsm) setMember(m member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m.URL == "" {
		delete(f.members, m.ID)
		return
	}
	f.members[m.ID] = m.URL
}

// memberURL returns the replicated API URL of node id.
func (f *fsm) memberURL(id string) (string, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	u, ok := f.members[id]
	return u, ok
}

// Snapshot captures the state on raft's FSM goroutine; Persist serialises it.
// Archived items not yet stored fail the snapshot, which would otherwise
// cover records whose archive is not on disk.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if err := f.storeArchive(nil); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	f.mu.RLock()
	members := maps.Clone(f.members)
	f.mu.RUnlock()
	return &snapshot{
		lastSeq:   f.lastSeq.Load(),
		nanos:     f.nanos.Load(),
		members:   members,
		serialise: f.inner.Snapshot(),
	}, nil
}

// Restore replaces the state with a snapshot's. A snapshot that carries an
// archive (one sent by the leader) has it stored first, unless this
// replica's archive mark says it holds it already.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	r := bufio.NewReaderSize(rc, 1<<20)
	head, err := r.Peek(4)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	if bytes.Equal(head, snapshotMagicV1) {
		data, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("read snapshot: %w", err)
		}
		return f.restoreV1(data)
	}
	h, err := readSnapshotHead(r)
	if err != nil {
		return err
	}
	if h.flags&flagArchive != 0 {
		if err := f.restoreArchive(r, h); err != nil {
			return fmt.Errorf("restore snapshot at %d: %w", h.lastSeq, err)
		}
	}
	return f.restoreState(h)
}

// snapshotHead is a version 2 snapshot up to its archive section.
type snapshotHead struct {
	lastSeq uint64
	nanos   int64
	members map[string]string
	state   []byte
	flags   byte
}

// readSnapshotHead reads a version 2 snapshot's header, members and state.
func readSnapshotHead(r io.Reader) (snapshotHead, error) {
	head := make([]byte, snapshotHeaderLen)
	if _, err := io.ReadFull(r, head); err != nil {
		return snapshotHead{}, fmt.Errorf("%w: snapshot header: %w", errBadCommand, err)
	}
	if !bytes.Equal(head[:4], snapshotMagic) {
		return snapshotHead{}, fmt.Errorf("%w: snapshot is not Klaxon's (version 1 or 2)", errBadCommand)
	}
	h := snapshotHead{
		lastSeq: binary.BigEndian.Uint64(head[4:]),
		nanos:   int64(binary.BigEndian.Uint64(head[12:])),
		flags:   head[flagsOffset],
	}
	membersLen := int64(binary.BigEndian.Uint32(head[20:]))
	stateLen := binary.BigEndian.Uint64(head[24:])
	if stateLen > 1<<40 {
		return h, fmt.Errorf("%w: snapshot state of %d bytes", errBadCommand, stateLen)
	}
	members, err := readN(r, membersLen)
	if err != nil {
		return h, fmt.Errorf("%w: snapshot members: %w", errBadCommand, err)
	}
	h.members = map[string]string{}
	if err := json.Unmarshal(members, &h.members); err != nil {
		return h, fmt.Errorf("%w: snapshot members: %w", errBadCommand, err)
	}
	if h.state, err = readN(r, int64(stateLen)); err != nil {
		return h, fmt.Errorf("%w: snapshot state: %w", errBadCommand, err)
	}
	return h, nil
}

// readN reads exactly n bytes, allocating as they arrive, so that a bad
// length fails at the end of the stream rather than in one allocation.
func readN(r io.Reader, n int64) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, n); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// restoreArchive stores a snapshot's archive section, then moves the
// archive mark to the snapshot; it skips a section the mark covers.
func (f *fsm) restoreArchive(r *bufio.Reader, h snapshotHead) error {
	if f.archive == nil {
		return nil
	}
	mark, err := readArchiveMark(f.markPath)
	if err != nil {
		return err
	}
	if mark >= h.lastSeq {
		f.log.Info("snapshot's archive is stored already", zap.Uint64("snapshot", h.lastSeq), zap.Uint64("mark", mark))
		return nil
	}
	n, err := restoreArchive(r, f.archive, recordTime(h.nanos))
	if err != nil {
		return err
	}
	if err := writeArchiveMark(f.markPath, h.lastSeq); err != nil {
		return err
	}
	f.log.Info("stored the archive the snapshot carried", zap.Uint64("snapshot", h.lastSeq), zap.Int("items", n))
	return nil
}

// restoreV1 restores a version 1 snapshot: no archive, state to the end.
func (f *fsm) restoreV1(data []byte) error {
	if len(data) < snapshotHeaderLenV1 {
		return fmt.Errorf("%w: snapshot is not Klaxon's (version 1)", errBadCommand)
	}
	h := snapshotHead{
		lastSeq: binary.BigEndian.Uint64(data[4:]),
		nanos:   int64(binary.BigEndian.Uint64(data[12:])),
		members: map[string]string{},
	}
	n := int(binary.BigEndian.Uint32(data[20:]))
	if len(data) < snapshotHeaderLenV1+n {
		return fmt.Errorf("%w: snapshot members of %d bytes overrun it", errBadCommand, n)
	}
	if err := json.Unmarshal(data[snapshotHeaderLenV1:snapshotHeaderLenV1+n], &h.members); err != nil {
		return fmt.Errorf("%w: snapshot members: %w", errBadCommand, err)
	}
	h.state = data[snapshotHeaderLenV1+n:]
	return f.restoreState(h)
}

// restoreState replaces the triage state and the members with h's.
func (f *fsm) restoreState(h snapshotHead) error {
	if err := f.inner.Restore(h.state); err != nil {
		return fmt.Errorf("restore snapshot at %d: %w", h.lastSeq, err)
	}
	f.mu.Lock()
	f.members = h.members
	f.mu.Unlock()
	f.lastSeq.Store(h.lastSeq)
	f.nanos.Store(h.nanos)
	f.storeArchive(nil) //nolint:errcheck // logged; retried with the next batch
	f.runHooks()
	return nil
}

// snapshot is a captured state, serialised by Persist.
type snapshot struct {
	lastSeq   uint64
	nanos     int64
	members   map[string]string
	serialise journal.SnapshotFunc
}

// Persist writes the snapshot to sink.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	err := s.write(sink)
	if err != nil {
		return fmt.Errorf("persist snapshot at %d: %w", s.lastSeq, errors.Join(err, sink.Cancel()))
	}
	return sink.Close()
}

func (s *snapshot) write(w io.Writer) error {
	data, err := s.serialise()
	if err != nil {
		return err
	}
	members, err := json.Marshal(s.members)
	if err != nil {
		return err
	}
	head := make([]byte, snapshotHeaderLen, snapshotHeaderLen+len(members))
	copy(head, snapshotMagic)
	binary.BigEndian.PutUint64(head[4:], s.lastSeq)
	binary.BigEndian.PutUint64(head[12:], uint64(s.nanos))
	binary.BigEndian.PutUint32(head[20:], uint32(len(members)))
	binary.BigEndian.PutUint64(head[24:], uint64(len(data)))
	// The flags stay 0: the archive is appended when raft sends the snapshot.
	for _, b := range [][]byte{append(head, members...), data} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Release is called when raft is done with the snapshot.
func (s *snapshot) Release() {}
