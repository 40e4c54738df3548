package journal

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// CloseContext is Close within ctx's deadline: if the snapshots in flight
// or the final snapshot's serialisation would outlast ctx, they are
// abandoned (and logged) and the store is closed without them. Nothing
// acknowledged is lost: every record is durable before it is answered, and
// recovery replays the records after the stored snapshot. Later calls
// return the first result.
func (b *Badger) CloseContext(ctx context.Context) error {
	b.closeOnce.Do(func() {
		var errs []error
		if err := b.stopWithin(ctx); err != nil {
			b.log.Warn("journal closing without waiting for a snapshot in flight; recovery will replay the records after the stored one", zap.Error(err))
		} else if err := b.finalSnapshot(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := b.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close journal store: %w", err))
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}

// stopWithin ends the committer and maintain goroutines, waits for
// in-progress reads, and waits for background snapshots until ctx ends;
// then it abandons those still serialising, which then write nothing.
func (b *Badger) stopWithin(ctx context.Context) error {
	b.cancel()
	b.wg.Wait()
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.snapWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		b.abandonSnapshots()
		return fmt.Errorf("background snapshot abandoned: %w", ctx.Err())
	}
}

// abandonSnapshots waits for a snapshot write under way and stops later ones.
func (b *Badger) abandonSnapshots() {
	b.storeMu.Lock()
	b.abandoned = true
	b.storeMu.Unlock()
}

// errAbandoned is what a background snapshot's serialisation returns when
// the journal closed without waiting for it.
var errAbandoned = errors.New("snapshot abandoned")

// guardSnapshot wraps a background snapshot's serialisation so that, once
// serialised, the snapshot is stored only if Close has not abandoned it, and
// holds storeMu shared from then on; done releases it after storing.
func (b *Badger) guardSnapshot(serialise SnapshotFunc) (guarded SnapshotFunc, done func()) {
	locked := false
	guarded = func() ([]byte, error) {
		data, err := serialise()
		b.storeMu.RLock()
		if b.abandoned {
			b.storeMu.RUnlock()
			return nil, errAbandoned
		}
		locked = true
		return data, err
	}
	done = func() {
		if locked {
			b.storeMu.RUnlock()
		}
	}
	return guarded, done
}

// finalSnapshot is snapshot, abandoned if serialising outlasts ctx.
func (b *Badger) finalSnapshot(ctx context.Context) error {
	if b.snapshotCurrent() {
		return nil
	}
	if ctx.Done() == nil {
		return b.snapshot()
	}
	type serialised struct {
		data []byte
		err  error
	}
	serialise := b.fsm.Snapshot()
	out := make(chan serialised, 1) // the serialiser never blocks, even when abandoned
	go func() {
		data, err := serialise()
		out <- serialised{data, err}
	}()
	select {
	case s := <-out:
		b.snapTry, b.sinceSnap = b.seq, 0
		return b.persistSnapshot(b.seq, b.nanos, func() ([]byte, error) { return s.data, s.err })
	case <-ctx.Done():
		b.log.Warn("journal final snapshot abandoned: serialising it would overrun the shutdown deadline; recovery will replay the records after the stored snapshot",
			zap.Uint64("seq", b.seq), zap.Error(ctx.Err()))
		return nil
	}
}
