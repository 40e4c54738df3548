package journal

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Memory is a Journal held in memory, for tests of what sits above the
// journal (engine, API, HTTP handlers): appends are sequenced, timed by an
// injected clock and applied in order, with none of a store's I/O, so tests
// run fast and under testing/synctest.
type Memory struct {
	fsm   FSM
	clock func() time.Time

	mu      sync.Mutex // serialises appends, as a group commit's single applier does
	records []Record   // every appended record, oldest first
	archive map[string]ArchiveItem
	closed  bool
}

var _ Journal = (*Memory)(nil)

// NewMemory returns an empty in-memory journal that applies to fsm and
// takes record times from clock (time.Now if nil).
func NewMemory(fsm FSM, clock func() time.Time) *Memory {
	if clock == nil {
		clock = time.Now
	}
	return &Memory{fsm: fsm, clock: clock, archive: make(map[string]ArchiveItem)}
}

// Reopen returns a new journal holding m's records, applied to fsm in
// order: what recovery after a restart does, without a snapshot. It works
// on a closed journal too.
func (m *Memory) Reopen(fsm FSM) *Memory {
	m.mu.Lock()
	recs := slices.Clone(m.records)
	m.mu.Unlock()
	n := &Memory{fsm: fsm, clock: m.clock, records: recs, archive: make(map[string]ArchiveItem)}
	for _, rec := range recs {
		fsm.Apply(rec)
	}
	n.takeArchive()
	return n
}

// takeArchive keeps what the FSM archived, as the badger journal stores it.
func (m *Memory) takeArchive() {
	a, ok := m.fsm.(Archiver)
	if !ok {
		return
	}
	for _, item := range a.TakeArchive() {
		item.Data = slices.Clone(item.Data)
		m.archive[item.Key] = item
	}
}

// Append stores data as the next record, applies it and returns the FSM's
// result. Record times never go backwards, whatever the clock does.
func (m *Memory) Append(ctx context.Context, data []byte, decoded any) (Record, any, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, nil, err
	}
	if len(data) > MaxRecordSize {
		return Record{}, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxRecordSize)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Record{}, nil, ErrClosed
	}
	rec := Record{Seq: uint64(len(m.records)) + 1, Time: m.clock(), Data: slices.Clone(data)}
	if n := len(m.records); n > 0 && rec.Time.Before(m.records[n-1].Time) {
		rec.Time = m.records[n-1].Time
	}
	m.records = append(m.records, rec)
	rec.Decoded = decoded
	res := m.fsm.Apply(rec)
	m.takeArchive()
	rec.Decoded = nil
	return rec, res, nil
}

// Read calls fn for every record with Seq >= from, in order, and stops at
// the first error fn returns, which it returns unchanged.
func (m *Memory) Read(from uint64, fn func(Record) error) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	recs := m.records[min(uint64(len(m.records)), max(from, 1)-1):]
	m.mu.Unlock()
	for _, rec := range recs {
		rec.Data = slices.Clone(rec.Data)
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// LastSeq is the sequence number of the last record (0 if none).
func (m *Memory) LastSeq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.records))
}

// Close makes later appends and reads fail with ErrClosed; the records stay
// for Reopen.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// FirstSeq is 1 once anything was appended: Memory never truncates.
func (m *Memory) FirstSeq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return min(uint64(len(m.records)), 1)
}

// Archived returns the archived item stored under key.
func (m *Memory) Archived(key string) (ArchiveItem, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	item, ok := m.archive[key]
	item.Data = slices.Clone(item.Data)
	return item, ok, nil
}

// ScanArchive calls fn for archived items newest first (by Time, then Key,
// both descending, as the badger journal orders them), starting after the
// item under after ("" = the newest), until fn returns false or an error.
func (m *Memory) ScanArchive(after string, fn func(ArchiveItem) (bool, error)) error {
	m.mu.Lock()
	items := slices.Collect(maps.Values(m.archive))
	m.mu.Unlock()
	slices.SortFunc(items, func(a, b ArchiveItem) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.Key, a.Key))
	})
	if after != "" {
		i := slices.IndexFunc(items, func(it ArchiveItem) bool { return it.Key == after })
		if i < 0 {
			return ErrUnknownCursor
		}
		items = items[i+1:]
	}
	for _, item := range items {
		item.Data = slices.Clone(item.Data)
		if more, err := fn(item); err != nil || !more {
			return err
		}
	}
	return nil
}
