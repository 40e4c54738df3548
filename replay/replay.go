// Package replay re-runs journaled signals through candidate rules and
// reports which incidents and severities would have differed, so a rule
// change can be judged on real traffic before it goes live.
package replay

import (
	"fmt"
	"io"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/triage"
)

// Reader reads journal records from a sequence number on, in order.
type Reader func(from uint64, fn func(journal.Record) error) error

// Options selects the time range and the candidate rules.
type Options struct {
	From, To  time.Time
	Candidate []rules.File
}

// Outcome is one incident as a run produced it.
type Outcome struct {
	Key      string
	Opened   time.Time
	Opener   string // ID of the signal that opened it
	Severity string
	Rule     string
	Status   triage.Status
	Services []string
	Alerts   int
}

// Report is the comparison of the recorded rules with the candidate.
type Report struct {
	Entries   int
	Actual    []Outcome
	Candidate []Outcome
	// Warnings say what limits the comparison, such as entries already
	// past the journal's retention.
	Warnings []string
}

// Run replays the entries between From and To twice, from an empty state:
// once under the rules that were in force then (rule changes included) and
// once under the candidate rules. Human actions (acknowledge, resolve,
// severity overrides) are left out of both: they name incidents by key, and
// the runs number incidents differently from the recorded history and from
// each other, so the comparison is of what the rules alone decide.
func Run(read Reader, opts Options) (*Report, error) {
	cand, err := rules.Compile(opts.Candidate)
	if err != nil {
		return nil, fmt.Errorf("candidate rules: %w", err)
	}
	var inForce []rules.File
	var actual, candidate *run
	rep := &Report{}
	first, sawRules := uint64(0), false
	err = read(1, func(rec journal.Record) error {
		if first == 0 {
			first = rec.Seq
			if first > 1 && !rec.Time.Before(opts.From) {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("the journal keeps entries from %s (record %d) on; older ones are past storage.retention", rec.Time.Format(time.RFC3339), first))
			}
		}
		if !opts.To.IsZero() && rec.Time.After(opts.To) {
			return errStop
		}
		e, err := triage.Decode(rec.Data)
		if err != nil {
			return fmt.Errorf("record %d: %w", rec.Seq, err)
		}
		if rec.Time.Before(opts.From) {
			if e.Rules != nil {
				inForce, sawRules = e.Rules.Files, true
			}
			return nil
		}
		if actual == nil {
			if first > 1 && !sawRules {
				rep.Warnings = append(rep.Warnings, "the rules in force at the start were recorded before the oldest kept entry: the recorded run uses the built-in defaults until the first rule change it sees")
			}
			rs, err := rules.Compile(inForce)
			if err != nil {
				return fmt.Errorf("rules in force at %s: %w", opts.From, err)
			}
			actual, candidate = newRun(rs), newRun(cand)
		}
		if e.Action != nil || e.Delivery != nil || e.Silence != nil {
			// Human actions name incidents by key, silences by an ID
			// from the live sequence; deliveries answer live intents.
			return nil
		}
		rep.Entries++
		if err := actual.feed(rec.Time, e); err != nil {
			return fmt.Errorf("record %d under the rules in force: %w", rec.Seq, err)
		}
		if e.Rules == nil {
			if err := candidate.feed(rec.Time, e); err != nil {
				return fmt.Errorf("record %d under the candidate rules: %w", rec.Seq, err)
			}
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	if actual == nil {
		return rep, nil
	}
	end := opts.To
	if end.IsZero() {
		end = actual.d.Now()
	}
	if err := actual.d.Advance(end); err != nil {
		return nil, fmt.Errorf("timers under the rules in force: %w", err)
	}
	if err := candidate.d.Advance(end); err != nil {
		return nil, fmt.Errorf("timers under the candidate rules: %w", err)
	}
	rep.Actual, rep.Candidate = actual.outcomes(), candidate.outcomes()
	return rep, nil
}

var errStop = fmt.Errorf("stop")

// run is one replay: a fresh state fed entries with its own timers.
type run struct {
	d *triage.Driver
}

func newRun(rs *rules.Set) *run { return &run{d: triage.NewDriver(triage.New(rs))} }

// feed applies a recorded entry, after the timers due before it. Recorded
// ticks are skipped: each run keeps its own timers.
func (r *run) feed(at time.Time, e *triage.Entry) error {
	if e.Tick != nil {
		return nil
	}
	_, err := r.d.Feed(at, e)
	return err
}

func (r *run) outcomes() []Outcome {
	var out []Outcome
	var before uint64
	for {
		page, next := r.d.State().List(triage.Filter{Limit: 1000, Before: before})
		for _, s := range page {
			d, _ := r.d.State().Get(s.Key, 0, 1)
			o := Outcome{Key: s.Key, Opened: s.OpenedAt, Severity: s.Severity, Rule: s.Rule,
				Status: s.Status, Services: s.Services, Alerts: s.Alerts.Total}
			if len(d.Signals) > 0 {
				o.Opener = d.Signals[0].ID()
			}
			out = append(out, o)
		}
		if next == 0 {
			return out
		}
		before = next
	}
}

// identity pairs the same incident across runs: opened at the same moment
// by the same signal.
func (o Outcome) identity() string { return o.Opened.Format(time.RFC3339Nano) + " " + o.Opener }

// Differences lists, oldest first, every incident that differs between the
// runs; it writes nothing when the candidate changes nothing.
func (rep *Report) Differences(w io.Writer) int {
	cand := make(map[string]Outcome, len(rep.Candidate))
	for _, o := range rep.Candidate {
		cand[o.identity()] = o
	}
	n := 0
	for i := len(rep.Actual) - 1; i >= 0; i-- {
		a := rep.Actual[i]
		c, ok := cand[a.identity()]
		delete(cand, a.identity())
		switch {
		case !ok:
			fmt.Fprintf(w, "- %s %s %s (%d alerts): would not open; its signals join another incident\n", a.Key, a.Severity, a.Opener, a.Alerts)
		case a.Severity != c.Severity || a.Rule != c.Rule || a.Alerts != c.Alerts || a.Status != c.Status:
			fmt.Fprintf(w, "~ %s: %s (rule %q, %d alerts, %s) -> %s (rule %q, %d alerts, %s)\n",
				a.Key, a.Severity, a.Rule, a.Alerts, a.Status, c.Severity, c.Rule, c.Alerts, c.Status)
		default:
			continue
		}
		n++
	}
	for i := len(rep.Candidate) - 1; i >= 0; i-- {
		c := rep.Candidate[i]
		if _, left := cand[c.identity()]; left {
			fmt.Fprintf(w, "+ new incident %s (%d alerts, opened by %s at %s)\n", c.Severity, c.Alerts, c.Opener, c.Opened.Format(time.RFC3339))
			n++
		}
	}
	return n
}
