package triage

import (
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/journal"
)

// Driver feeds a State outside the engine the way the journal and the
// engine's timer loop do: it numbers entries, encodes them, applies them as
// records read back from the store (or as appended live, see Live), and
// appends a Tick for every timer that comes due. Replay and the rule-test runner use it, so that every run of
// the state machine away from the engine applies entries and fires timers
// the same way. It is not safe for concurrent use.
type Driver struct {
	state *State
	seq   uint64
	now   time.Time
	// OnRecord, when set, is called with every record the driver applies, as
	// the journal would hold it (without Decoded).
	OnRecord func(journal.Record)
	// Live applies records as the engine appends them, with the entry
	// already decoded, instead of as recovery reads them back.
	Live bool
}

// NewDriver returns a driver that continues s from its last sequence.
func NewDriver(s *State) *Driver {
	return &Driver{state: s, seq: s.LastSeq()}
}

// State returns the state the driver feeds.
func (d *Driver) State() *State { return d.state }

// Now returns the time of the latest record applied (zero before any).
func (d *Driver) Now() time.Time { return d.now }

// Feed fires the timers due by at (see Advance) and then appends e at at.
func (d *Driver) Feed(at time.Time, e *Entry) (*Result, error) {
	if err := d.Advance(at); err != nil {
		return nil, err
	}
	return d.Append(at, e)
}

// Advance appends a Tick entry for each timer due at or before until, in
// due order, each stamped with its due time (or the latest record's time,
// if that is later: journal times never go back).
func (d *Driver) Advance(until time.Time) error {
	var last time.Time
	for {
		due, ok := d.state.NextDue()
		if !ok || due.After(until) {
			return nil
		}
		if !last.IsZero() && !due.After(last) {
			return fmt.Errorf("timer due at %s did not fire", due.Format(time.RFC3339Nano))
		}
		last = due
		if _, err := d.Append(due, &Entry{Tick: &Tick{Due: due}}); err != nil {
			return err
		}
	}
}

// Append numbers and encodes e and applies it at at (or at the latest
// record's time, if that is later), with no timers fired before it. The
// result's Err says whether the state refused the entry; the error is for
// an entry that cannot be encoded.
func (d *Driver) Append(at time.Time, e *Entry) (*Result, error) {
	data, err := Encode(e)
	if err != nil {
		return nil, fmt.Errorf("encode entry at %s: %w", at.Format(time.RFC3339Nano), err)
	}
	if at.After(d.now) {
		d.now = at
	}
	d.seq++
	rec := journal.Record{Seq: d.seq, Time: d.now, Data: data}
	if d.OnRecord != nil {
		d.OnRecord(rec)
	}
	if d.Live {
		rec.Decoded = e
	}
	return d.state.Apply(rec).(*Result), nil
}
