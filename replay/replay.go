// Package replay re-runs journaled signals through candidate rules and
// reports which incidents and severities would have differed, so a rule
// change can be judged on real traffic before it goes live.
package replay

import (
	"errors"
	"fmt"
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
	// Key is the incident's key in its run, which numbers from INC-1.
	Key string
	// LiveKey is the key the running Klaxon gave the same incident, when the
	// journal shows it (empty otherwise).
	LiveKey  string
	Opened   time.Time
	Opener   string            // ID of the signal that opened it
	Labels   map[string]string // that signal's labels
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
	// Rules say where the rules the recorded run used differ from the
	// candidate: at the start of the range, and at each rule change in it.
	Rules []string
	// Oldest is the time of the oldest record kept; Newest that of the
	// newest one read (the journal's newest, or the first after To). Both
	// are zero for an empty journal.
	Oldest, Newest time.Time
}

// Run replays the entries between From and To twice, from an empty state:
// once under the rules that were in force then (rule changes included) and
// once under the candidate rules. Human actions (acknowledge, resolve,
// severity overrides) are left out of both: they name incidents by key, and
// the runs number incidents differently from the recorded history and from
// each other, so the comparison is of what the rules alone decide. When the
// journal is whole, a third run applies every record as recovery does, to
// learn the keys the running Klaxon gave the incidents opened in the range.
func Run(read Reader, opts Options) (*Report, error) {
	cand, err := rules.Compile(opts.Candidate)
	if err != nil {
		return nil, fmt.Errorf("candidate rules: %w", err)
	}
	r := &replayer{opts: opts, cand: cand, rep: &Report{}, live: newLive()}
	if err := read(1, r.record); err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return r.finish()
}

var errStop = errors.New("stop")

// replayer holds a Run's progress through the journal.
type replayer struct {
	opts              Options
	cand              *rules.Set
	rep               *Report
	first             uint64
	sawRules          bool
	inForce           []rules.File // the recorded run's rule files
	fed               bool         // whether the recorded run has applied anything but rules
	actual, candidate *run
	live              *live // nil once the journal is known to be truncated
}

// record takes one journal record.
func (r *replayer) record(rec journal.Record) error {
	if r.first == 0 {
		r.start(rec)
	}
	r.rep.Newest = rec.Time
	if !r.opts.To.IsZero() && rec.Time.After(r.opts.To) {
		return errStop
	}
	if r.live != nil {
		r.live.apply(rec, !rec.Time.Before(r.opts.From))
	}
	e, err := triage.Decode(rec.Data)
	if err != nil {
		return fmt.Errorf("record %d: %w", rec.Seq, err)
	}
	if rec.Time.Before(r.opts.From) {
		if e.Rules != nil {
			r.inForce, r.sawRules = e.Rules.Files, true
		}
		return nil
	}
	if r.actual == nil {
		if err := r.begin(); err != nil {
			return err
		}
	}
	return r.feed(rec, e)
}

// start notes the journal's oldest record, and whether older ones are gone.
func (r *replayer) start(rec journal.Record) {
	r.first, r.rep.Oldest = rec.Seq, rec.Time
	if r.first == 1 {
		return
	}
	r.live = nil
	if !rec.Time.Before(r.opts.From) {
		r.rep.Warnings = append(r.rep.Warnings, fmt.Sprintf("the journal keeps entries from %s (record %d) on; older ones are past storage.retention", rec.Time.Format(time.RFC3339), r.first))
	}
}

// begin starts both runs at the first entry in the range.
func (r *replayer) begin() error {
	if r.first > 1 && !r.sawRules {
		r.rep.Warnings = append(r.rep.Warnings, "the rules in force at the start were recorded before the oldest kept entry: the recorded run uses the built-in defaults until the first rule change it sees")
	}
	rs, err := rules.Compile(r.inForce)
	if err != nil {
		return fmt.Errorf("rules in force at %s: %w", r.opts.From, err)
	}
	r.actual, r.candidate = newRun(rs), newRun(r.cand)
	return nil
}

// feed applies an entry in the range to both runs (a rule change to the
// recorded run only).
func (r *replayer) feed(rec journal.Record, e *triage.Entry) error {
	if e.Action != nil || e.Delivery != nil || e.Silence != nil {
		// Human actions name incidents by key, silences by an ID
		// from the live sequence; deliveries answer live intents.
		return nil
	}
	r.rep.Entries++
	if e.Rules == nil && !r.fed {
		r.fed = true
		if d := diffFiles(r.inForce, r.opts.Candidate, "the recorded rules", "the candidate rules"); d != "" {
			r.rep.Rules = append(r.rep.Rules, "the recorded run starts under rules that differ from the candidate: "+d)
		}
	}
	res, err := r.actual.feed(rec.Time, e)
	if err != nil {
		return fmt.Errorf("record %d under the rules in force: %w", rec.Seq, err)
	}
	if e.Rules != nil {
		if res != nil && res.Err == nil {
			r.ruleChange(rec.Time, e.Rules.Files)
		}
		return nil
	}
	if _, err := r.candidate.feed(rec.Time, e); err != nil {
		return fmt.Errorf("record %d under the candidate rules: %w", rec.Seq, err)
	}
	return nil
}

// ruleChange says what a rule change inside the range did to the recorded
// run, against the candidate; one before anything else in the range only
// sets the rules the run starts under.
func (r *replayer) ruleChange(at time.Time, files []rules.File) {
	prev := r.inForce
	r.inForce = files
	if !r.fed {
		return
	}
	line := fmt.Sprintf("the recorded run changed its rules at %s (%s); ", at.Format(time.RFC3339), orNothing(diffFiles(prev, files, "the old rules", "the new rules")))
	if d := diffFiles(files, r.opts.Candidate, "the recorded rules", "the candidate rules"); d != "" {
		line += "they still differ from the candidate: " + d
	} else {
		line += "from then on they are the candidate's, so before then it ran under older rules than the candidate"
	}
	r.rep.Rules = append(r.rep.Rules, line)
}

func orNothing(s string) string {
	if s == "" {
		return "no file changed"
	}
	return s
}

// finish fires both runs' timers to the end of the range and collects the
// incidents.
func (r *replayer) finish() (*Report, error) {
	if r.actual == nil {
		return r.rep, nil
	}
	end := r.opts.To
	if end.IsZero() {
		end = r.actual.d.Now()
	}
	if err := r.actual.d.Advance(end); err != nil {
		return nil, fmt.Errorf("timers under the rules in force: %w", err)
	}
	if err := r.candidate.d.Advance(end); err != nil {
		return nil, fmt.Errorf("timers under the candidate rules: %w", err)
	}
	r.rep.Actual, r.rep.Candidate = r.actual.outcomes(), r.candidate.outcomes()
	if r.live != nil {
		for i := range r.rep.Actual {
			r.rep.Actual[i].LiveKey = r.live.keys[r.rep.Actual[i].identity()]
		}
	}
	return r.rep, nil
}

// run is one replay: a fresh state fed entries with its own timers.
type run struct {
	d *triage.Driver
}

func newRun(rs *rules.Set) *run { return &run{d: triage.NewDriver(triage.New(rs))} }

// feed applies a recorded entry, after the timers due before it. Recorded
// ticks are skipped: each run keeps its own timers.
func (r *run) feed(at time.Time, e *triage.Entry) (*triage.Result, error) {
	if e.Tick != nil {
		return nil, nil
	}
	return r.d.Feed(at, e)
}

func (r *run) outcomes() []Outcome {
	var out []Outcome
	var before uint64
	for {
		page, next := r.d.State().List(triage.Filter{Limit: 1000, Before: before})
		for _, s := range page {
			o := Outcome{Key: s.Key, Opened: s.OpenedAt, Severity: s.Severity, Rule: s.Rule,
				Status: s.Status, Services: s.Services, Alerts: s.Alerts.Total}
			o.Opener, o.Labels = opener(r.d.State(), s.Key)
			out = append(out, o)
		}
		if next == 0 {
			return out
		}
		before = next
	}
}

// opener returns the ID and labels of the signal that opened an incident.
func opener(s *triage.State, key string) (string, map[string]string) {
	d, _ := s.Get(key, 0, 1)
	if len(d.Signals) == 0 {
		return "", nil
	}
	return d.Signals[0].ID, d.Signals[0].Labels.Map()
}

// identity pairs the same incident across runs: opened at the same moment
// by the same signal.
func (o Outcome) identity() string { return identity(o.Opened, o.Opener) }

func identity(opened time.Time, opener string) string {
	return opened.Format(time.RFC3339Nano) + " " + opener
}

// live is the journal applied record by record as recovery applies it
// (actions, deliveries and recorded ticks included), so the incidents in it
// carry the keys the running Klaxon gave them.
type live struct {
	state *triage.State
	keys  map[string]string // identity -> key, for incidents opened in the range
}

func newLive() *live { return &live{state: triage.New(nil), keys: map[string]string{}} }

// apply applies one record and, when inRange, notes the incidents it opened.
func (l *live) apply(rec journal.Record, inRange bool) {
	res, _ := l.state.Apply(rec).(*triage.Result)
	if !inRange || res == nil {
		return
	}
	for _, ev := range res.Events {
		if ev.Kind != triage.EventOpened {
			continue
		}
		d, ok := l.state.Get(ev.Incident, 0, 1)
		if ok && len(d.Signals) > 0 {
			l.keys[identity(d.OpenedAt, d.Signals[0].ID)] = ev.Incident
		}
	}
}
