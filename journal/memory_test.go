package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestMemoryAppendsInOrder checks that concurrent appends get consecutive
// sequence numbers, times from the clock that never go backwards, and the
// FSM's result; that Read starts where asked; and that Close refuses more.
func TestMemoryAppendsInOrder(t *testing.T) {
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	ticks := 0
	clock := func() time.Time { // goes backwards every third call
		mu.Lock()
		defer mu.Unlock()
		ticks++
		if ticks%3 == 0 {
			return base
		}
		return base.Add(time.Duration(ticks) * time.Second)
	}
	fsm := &testFSM{}
	m := NewMemory(fsm, clock)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			rec, res, err := m.Append(ctx, fmt.Appendf(nil, "r%d", i), nil)
			if err != nil || res != rec.Seq {
				t.Errorf("append: %v, %v, %v", rec, res, err)
			}
		})
	}
	wg.Wait()
	if fsm.err != nil {
		t.Fatal(fsm.err)
	}
	if got := m.LastSeq(); got != 20 {
		t.Fatalf("LastSeq = %d, want 20", got)
	}
	for _, tc := range []struct{ from, want uint64 }{{0, 20}, {1, 20}, {15, 6}, {20, 1}, {21, 0}, {99, 0}} {
		var n uint64
		if err := m.Read(tc.from, func(r Record) error {
			if r.Seq != tc.from+n && !(tc.from == 0 && r.Seq == n+1) {
				return fmt.Errorf("record %d out of place", r.Seq)
			}
			n++
			return nil
		}); err != nil || n != tc.want {
			t.Errorf("Read(%d) = %d records, %v; want %d", tc.from, n, err, tc.want)
		}
	}
	stop := errors.New("stop")
	if err := m.Read(1, func(Record) error { return stop }); err != stop {
		t.Errorf("Read passed on %v, want fn's error", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Append(ctx, []byte("late"), nil); !errors.Is(err, ErrClosed) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("append after close = %v", err)
	}
	if err := m.Read(1, func(Record) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("read after close = %v", err)
	}
}

// TestMemoryReopen checks that a reopened journal applies the old records
// to the new FSM and goes on numbering after them.
func TestMemoryReopen(t *testing.T) {
	m := NewMemory(&testFSM{}, nil)
	ctx := context.Background()
	for i := range 3 {
		if _, _, err := m.Append(ctx, []byte{byte(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	_ = m.Close()
	fsm := &testFSM{}
	m2 := m.Reopen(fsm)
	if fsm.applied != 3 || m2.LastSeq() != 3 {
		t.Fatalf("reopened: %d applied, LastSeq %d", fsm.applied, m2.LastSeq())
	}
	rec, _, err := m2.Append(ctx, []byte("next"), nil)
	if err != nil || rec.Seq != 4 || fsm.err != nil {
		t.Fatalf("append after reopen: %v, %v, %v", rec, err, fsm.err)
	}
}

// TestMemoryRefuses checks the errors an append can meet before storing.
func TestMemoryRefuses(t *testing.T) {
	m := NewMemory(&testFSM{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := m.Append(ctx, []byte("x"), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled append = %v", err)
	}
	if _, _, err := m.Append(context.Background(), make([]byte, MaxRecordSize+1), nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized append = %v", err)
	}
	if m.LastSeq() != 0 {
		t.Error("a refused append was stored")
	}
}
