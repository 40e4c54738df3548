package journal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/zap"
)

// run is the committer: it takes pending appends in batches and commits
// each batch, until ctx is cancelled. A committed batch goes to the applier
// (applyLoop), which applies and answers it while the next batch is being
// written and fsync'd: applying no longer holds up the disk, and no answer
// leaves before its records are durable.
func (b *Badger) run(ctx context.Context) {
	defer b.wg.Done()
	jobs := make(chan applyJob, 1)
	b.wg.Add(1)
	go b.applyLoop(jobs)
	defer close(jobs) // the applier applies what was committed, then stops
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
			b.commit(batch, jobs)
			clear(batch)
			if b.written += size; b.written >= pageOutEvery {
				b.written = 0
				b.requestPageOut()
			}
		}
	}
}

// applyJob is a committed (durable) run of records waiting to be applied
// and answered.
type applyJob struct {
	reqs  []*request
	first uint64 // sequence number of reqs[0]
	nanos int64  // the records' time
}

// applyLoop is the applier: it applies and answers committed batches in
// order, stores what they archived and snapshots the FSM between batches,
// until jobs is closed and drained.
func (b *Badger) applyLoop(jobs <-chan applyJob) {
	defer b.wg.Done()
	for job := range jobs {
		b.apply(job)
		b.storeArchive()
		for _, req := range job.reqs {
			b.sinceSnap += int64(len(req.value))
		}
		if b.snapshotDue() {
			b.snapshotInBackground()
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

// commit makes batch durable and hands it to the applier. It writes one
// badger transaction, or several in order when badger's transaction limit
// splits the batch; each is handed over once fsync'd. A failed transaction
// fails the rest of the batch with ErrUnavailable, applies nothing of it
// and leaves the sequence where it was.
func (b *Badger) commit(batch []*request, jobs chan<- applyJob) {
	nanos := b.opts.Clock().UnixNano()
	if nanos < b.committedNanos {
		nanos = b.committedNanos
	}
	keys := make([]byte, recordKeyLen*len(batch))
	for i, req := range batch {
		setRecordTime(req.value, nanos)
		putRecordKey(keys[i*recordKeyLen:(i+1)*recordKeyLen], b.committed+1+uint64(i))
	}
	for len(batch) > 0 {
		n, err := b.writeIfRoom(batch, keys)
		if err != nil {
			b.metrics.commitFailures.Inc()
			err = fmt.Errorf("%w: commit records %d-%d: %w", ErrUnavailable, b.committed+1, b.committed+uint64(len(batch)), err)
			b.log.Error("journal commit failed", zap.Error(err))
			for _, req := range batch {
				req.done <- result{err: err}
			}
			return
		}
		jobs <- applyJob{reqs: slices.Clone(batch[:n]), first: b.committed + 1, nanos: nanos}
		b.committed += uint64(n)
		b.committedNanos = nanos
		batch, keys = batch[n:], keys[n*recordKeyLen:]
	}
}

// apply applies a committed job's records in order and answers them.
func (b *Badger) apply(job applyJob) {
	n := uint64(len(job.reqs))
	b.seq = job.first + n - 1
	b.nanos = job.nanos
	b.lastSeq.Store(b.seq)
	b.lastNanos.Store(job.nanos)
	b.metrics.lastSeq.Set(float64(b.seq))
	results := make([]result, n)
	for i, req := range job.reqs {
		rec := Record{Seq: job.first + uint64(i), Time: recordTime(job.nanos), Data: req.value[timeLen:], Decoded: req.decoded}
		results[i] = result{rec: rec, res: b.fsm.Apply(rec)}
	}
	b.takeArchive() // before answering: what the records archived is readable once Append returns
	b.noteSize()    // before answering too: the next Append's commit stores it
	for i, req := range job.reqs {
		req.done <- results[i]
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
	size, storeSize := b.sizeToStore()
	if storeSize {
		var err error
		if storeSize, err = setSize(txn, size); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	if err := b.commitTxn(txn); err != nil {
		return 0, err
	}
	if storeSize {
		b.storedSize = size
	}
	b.metrics.commitDuration.Observe(time.Since(start).Seconds())
	b.metrics.commitRecords.Observe(float64(n))
	return n, nil
}
