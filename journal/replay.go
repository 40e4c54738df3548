package journal

import (
	"runtime"
	"sync"
)

// Decoder is implemented by FSMs that can decode a record's payload apart
// from applying it. Recovery then decodes records on several goroutines
// while it applies them, in order, on one: decoding is most of the work.
type Decoder interface {
	// Decode returns what Apply would decode Data into, to be passed as
	// Record.Decoded; it must not touch the FSM's state.
	Decode(data []byte) any
}

// replayer applies records in order, decoding them ahead in parallel when
// the FSM is a Decoder.
type replayer struct {
	apply   func(Record)
	decoder Decoder
	jobs    chan *replayJob // to the decoders
	order   chan *replayJob // to the applier, in sequence order
	wg      sync.WaitGroup
}

type replayJob struct {
	rec     Record
	decoded chan struct{}
}

func newReplayer(fsm FSM, apply func(Record)) *replayer {
	r := &replayer{apply: apply}
	d, ok := fsm.(Decoder)
	if !ok {
		return r
	}
	r.decoder = d
	workers := max(1, runtime.GOMAXPROCS(0)-1)
	r.jobs = make(chan *replayJob, 64*workers)
	r.order = make(chan *replayJob, 64*workers)
	for range workers {
		r.wg.Go(func() {
			for j := range r.jobs {
				j.rec.Decoded = d.Decode(j.rec.Data)
				close(j.decoded)
			}
		})
	}
	r.wg.Go(func() {
		for j := range r.order {
			<-j.decoded
			r.apply(j.rec)
		}
	})
	return r
}

// add queues rec to be applied after every record added before it.
func (r *replayer) add(rec Record) {
	if r.decoder == nil {
		r.apply(rec)
		return
	}
	j := &replayJob{rec: rec, decoded: make(chan struct{})}
	r.order <- j
	r.jobs <- j
}

// wait returns once every added record is applied.
func (r *replayer) wait() {
	if r.decoder == nil {
		return
	}
	close(r.jobs)
	close(r.order)
	r.wg.Wait()
}
