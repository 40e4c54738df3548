package journal

import (
	"fmt"
	"runtime"
	"sync"
)

// Decoder is implemented by FSMs that can decode a record's payload apart
// from applying it. Recovery then decodes records on several goroutines
// while it applies them, in order, on one: decoding is most of the work.
// It also lets recovery refuse a record the FSM cannot read (a newer format,
// damage) instead of applying it as nothing.
//
// Neither Decode nor an Apply of a record with Decoded set may keep the
// record's Data: recovery reads the next records into the buffers of those
// applied, rather than leaving a copy of every record as garbage (hundreds
// of megabytes for a million alerts).
type Decoder interface {
	// Decode returns what Apply would decode Data into, to be passed as
	// Record.Decoded, or why it cannot; it must not touch the FSM's state.
	Decode(data []byte) (any, error)
}

// Reuser is implemented by Decoders that can decode a record into what an
// earlier record was decoded into once that one is applied: recovery then
// hands the decoders the Decoded of applied records, so that the same room
// serves the whole replay. An Apply of a record with Decoded set must not
// keep Decoded, or any room DecodeReusing may decode into again, when the
// FSM is a Reuser.
type Reuser interface {
	// DecodeReusing is Decode, into the room of applied (a Decoded value
	// already applied, or nil).
	DecodeReusing(data []byte, applied any) (any, error)
}

// replayer applies records in order, decoding them ahead in parallel when
// the FSM is a Decoder. The first record that does not decode stops it:
// neither it nor anything after it is applied.
type replayer struct {
	apply   func(Record)
	decoder Decoder
	jobs    chan *replayJob // to the decoders
	order   chan *replayJob // to the applier, in sequence order
	free    spares[[]byte]  // buffers of applied records, for the next
	spent   spares[any]     // Decoded values of applied records, for a Reuser
	wg      sync.WaitGroup
	err     error // the first decoding failure; set by the applier
}

type replayJob struct {
	rec     Record
	value   []byte // the stored value rec.Data is part of
	err     error
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
	r.free = make(spares[[]byte], 2*cap(r.order)+workers)
	decode := func(data []byte) (any, error) { return d.Decode(data) }
	if ru, ok := fsm.(Reuser); ok {
		r.spent = make(spares[any], cap(r.free))
		decode = func(data []byte) (any, error) { return ru.DecodeReusing(data, r.spent.take()) }
	}
	for range workers {
		r.wg.Go(func() {
			for j := range r.jobs {
				j.rec.Decoded, j.err = decode(j.rec.Data)
				close(j.decoded)
			}
		})
	}
	r.wg.Go(func() {
		for j := range r.order {
			<-j.decoded
			if r.err == nil && j.err != nil {
				r.err = fmt.Errorf("record %d: %w", j.rec.Seq, j.err)
			}
			if r.err == nil {
				r.apply(j.rec)
				r.spent.keep(j.rec.Decoded)
			}
			r.free.keep(j.value[:0])
		}
	})
	return r
}

// buffer returns an applied record's buffer to read the next record into,
// or nil for a new one: always nil when records are applied as they come,
// since the FSM may then keep Data.
func (r *replayer) buffer() []byte { return r.free.take() }

// spares holds values that applied records are done with, for the records
// after them; a nil spares holds none.
type spares[T any] chan T

// take returns a kept value, or the zero T if there is none.
func (s spares[T]) take() (v T) {
	select {
	case v = <-s:
	default:
	}
	return v
}

// keep keeps v for take, unless s is full (or nil).
func (s spares[T]) keep(v T) {
	select {
	case s <- v:
	default:
	}
}

// add queues rec, read as value, to be applied after every record added
// before it.
func (r *replayer) add(rec Record, value []byte) {
	if r.decoder == nil {
		r.apply(rec)
		return
	}
	j := &replayJob{rec: rec, value: value, decoded: make(chan struct{})}
	r.order <- j
	r.jobs <- j
}

// wait returns once every added record is applied or refused, with the
// first record that could not be decoded.
func (r *replayer) wait() error {
	if r.decoder == nil {
		return nil
	}
	close(r.jobs)
	close(r.order)
	r.wg.Wait()
	return r.err
}
