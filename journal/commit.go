package journal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// run is the committer: it takes pending appends in batches, commits each
// batch and snapshots the FSM between batches, until ctx is cancelled.
func (b *Badger) run(ctx context.Context) {
	defer b.wg.Done()
	batch := make([]*request, 0, b.opts.MaxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-b.reqs:
			batch = append(batch[:0], req)
			size := len(req.value)
		drain:
			for len(batch) < b.opts.MaxBatch && size < maxBatchBytes {
				select {
				case req := <-b.reqs:
					batch = append(batch, req)
					size += len(req.value)
				default:
					break drain
				}
			}
			b.commit(batch)
			clear(batch)
			b.storeArchive()
			if b.written += size; b.written >= pageOutEvery {
				b.written = 0
				b.requestPageOut()
			}
			b.sinceSnap += int64(size)
			if b.snapshotDue() {
				b.snapshotInBackground()
			}
		}
	}
}

// snapshotDue says whether to snapshot now: after SnapshotEvery records, and
// only once at least as many bytes were journaled as the last snapshot took,
// so snapshots of a large state cost at most as much again as the journal
// writes themselves, and recovery replays at most about one snapshot's worth.
func (b *Badger) snapshotDue() bool {
	snap, _ := b.storedSnapshot()
	return b.seq-b.snapTry >= b.opts.SnapshotEvery && uint64(b.sinceSnap) >= snap.Size
}

// commit makes batch durable and applies it. It writes one badger
// transaction, or several in order when badger's transaction limit splits
// the batch; each transaction is applied and answered once fsync'd. A failed
// transaction fails the rest of the batch with ErrUnavailable, applies
// nothing of it and leaves the sequence where it was.
func (b *Badger) commit(batch []*request) {
	nanos := b.opts.Clock().UnixNano()
	if nanos < b.nanos {
		nanos = b.nanos
	}
	keys := make([]byte, recordKeyLen*len(batch))
	for i, req := range batch {
		setRecordTime(req.value, nanos)
		putRecordKey(keys[i*recordKeyLen:(i+1)*recordKeyLen], b.seq+1+uint64(i))
	}
	for len(batch) > 0 {
		n, err := b.writeIfRoom(batch, keys)
		if err != nil {
			b.metrics.commitFailures.Inc()
			err = fmt.Errorf("%w: commit records %d-%d: %w", ErrUnavailable, b.seq+1, b.seq+uint64(len(batch)), err)
			b.log.Error("journal commit failed", zap.Error(err))
			for _, req := range batch {
				req.done <- result{err: err}
			}
			return
		}
		b.seq += uint64(n)
		b.nanos = nanos
		b.lastSeq.Store(b.seq)
		b.lastNanos.Store(nanos)
		b.metrics.lastSeq.Set(float64(b.seq))
		first := b.seq - uint64(n) + 1
		results := make([]result, n)
		for i, req := range batch[:n] {
			rec := Record{Seq: first + uint64(i), Time: recordTime(nanos), Data: req.value[timeLen:], Decoded: req.decoded}
			results[i] = result{rec: rec, res: b.fsm.Apply(rec)}
		}
		b.takeArchive() // before answering: what the records archived is readable once Append returns
		for i, req := range batch[:n] {
			req.done <- results[i]
		}
		batch, keys = batch[n:], keys[n*recordKeyLen:]
	}
}

// write commits a prefix of batch (all of it unless it exceeds badger's
// transaction limit) in one fsync'd transaction and returns its length.
func (b *Badger) write(batch []*request, keys []byte) (int, error) {
	txn := b.db.NewTransaction(true)
	defer txn.Discard()
	n := 0
	for ; n < len(batch); n++ {
		key := keys[n*recordKeyLen : (n+1)*recordKeyLen : (n+1)*recordKeyLen]
		err := txn.SetEntry(badger.NewEntry(key, batch[n].value))
		if errors.Is(err, badger.ErrTxnTooBig) && n > 0 {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	start := time.Now()
	if err := b.commitTxn(txn); err != nil {
		return 0, err
	}
	b.metrics.commitDuration.Observe(time.Since(start).Seconds())
	b.metrics.commitRecords.Observe(float64(n))
	return n, nil
}
