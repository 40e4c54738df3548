// Package engine runs the triage state machine over the journal: it turns
// signals, human actions, rule changes and due timers into journal entries,
// and reports what applying them did.
package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// ErrUnavailable is returned, wrapped, when the journal cannot make an
// entry durable now (disk full, read-only, shutting down): callers answer
// 503 with Retry-After so that senders retry.
var ErrUnavailable = journal.ErrUnavailable

// ErrOverloaded is returned, wrapped, when Submit refuses a batch because
// the alerts it would add would pass a limit on active alerts: callers
// answer 429 with Retry-After. Nothing of the batch is stored.
var ErrOverloaded = errors.New("too many active alerts")

// Options configures an Engine; every field may be left at its zero value.
type Options struct {
	// Clock tells the time for timers; time.Now if nil.
	Clock func() time.Time
	// Logger receives the engine's logs; nothing is logged if nil.
	Logger *zap.Logger
	// Registerer is where the engine's metrics are registered; none if nil.
	Registerer prometheus.Registerer
	// Limits bounds the alerts the state may hold.
	Limits Limits
}

// Engine appends entries to the journal, whose FSM is the triage state, and
// owns the timer loop that appends a Tick whenever a timer comes due.
type Engine struct {
	journal   journal.Journal
	state     *triage.State
	clock     func() time.Time
	log       *zap.Logger
	wake      chan struct{}
	metrics   *metrics
	limits    Limits
	throttled throttleLog
	applied   []func() // called after each appended entry is applied (OnApplied)
}

// New returns an engine over a journal that already feeds state.
func New(j journal.Journal, state *triage.State, opts Options) *Engine {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Engine{
		journal: j, state: state, clock: opts.Clock, log: opts.Logger,
		wake:    make(chan struct{}, 1),
		metrics: newMetrics(opts.Registerer, state),
		limits:  opts.Limits,
	}
}

// State is the triage state the engine feeds, for queries.
func (e *Engine) State() *triage.State { return e.state }

// Result is what Submit did with a batch of signals.
type Result struct {
	// Accepted is how many signals were new and stored.
	Accepted int
	// Duplicates is how many repeated a delivery already stored.
	Duplicates int
}

// Submit journals a batch of signals and returns once it is durable and
// applied. It refuses, with ErrOverloaded, a batch whose new alerts would
// pass a limit (see Limits); resolves and re-sends of alerts already held
// always pass. A failure to store wraps ErrUnavailable.
func (e *Engine) Submit(ctx context.Context, sigs []signal.Signal) (Result, error) {
	if err := e.admit(sigs); err != nil {
		return Result{}, err
	}
	res, err := e.append(ctx, &triage.Entry{Signals: sigs})
	if err != nil {
		return Result{}, err
	}
	return Result{Accepted: res.Accepted, Duplicates: res.Duplicates}, nil
}

// Act journals a human action; the error wraps triage.ErrNotFound,
// ErrConflict or ErrInvalid when the state refuses it.
func (e *Engine) Act(ctx context.Context, act triage.Action) error {
	res, err := e.append(ctx, &triage.Entry{Action: &act})
	if err != nil {
		return err
	}
	return res.Err
}

// SetRules journals a rule change, unless files are what is in force. Rules
// that do not compile are refused before anything is journaled.
func (e *Engine) SetRules(ctx context.Context, files []rules.File) (changed bool, err error) {
	if slices.EqualFunc(files, e.state.RuleFiles(), sameFile) {
		return false, nil
	}
	rc, err := triage.NewRulesChange(files)
	if err != nil {
		return false, fmt.Errorf("%w: %w", triage.ErrInvalid, err)
	}
	res, err := e.append(ctx, &triage.Entry{Rules: rc})
	if err != nil {
		return false, err
	}
	return res.Err == nil, res.Err
}

func sameFile(a, b rules.File) bool { return a.Name == b.Name && string(a.Data) == string(b.Data) }

// appendEntry encodes entry and appends it to the journal, straight
// into the record's buffer when the journal is a journal.Framer.
func (e *Engine) appendEntry(ctx context.Context, entry *triage.Entry) (any, error) {
	f, framed := e.journal.(journal.Framer)
	var room []byte
	if framed {
		room = f.Frame()
	}
	data, err := triage.AppendEncoded(room, entry)
	if err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	if framed {
		_, out, err := f.AppendFramed(ctx, data, entry)
		return out, err
	}
	_, out, err := e.journal.Append(ctx, data, entry)
	return out, err
}

func (e *Engine) append(ctx context.Context, entry *triage.Entry) (*triage.Result, error) {
	out, err := e.appendEntry(ctx, entry)
	if err != nil {
		return nil, fmt.Errorf("append to journal: %w", err)
	}
	res, ok := out.(*triage.Result)
	if !ok {
		return nil, fmt.Errorf("journal returned %T, not a triage result", out)
	}
	e.metrics.observe(res)
	e.logEvents(res)
	e.poke()
	for _, fn := range e.applied {
		fn()
	}
	return res, nil
}

// poke tells the timer loop that the next due time may have moved.
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run appends a Tick entry whenever a timer comes due, until ctx is done.
func (e *Engine) Run(ctx context.Context) {
	const retry = time.Second
	for {
		wait := time.Hour
		if due, ok := e.state.NextDue(); ok {
			wait = due.Sub(e.clock())
			if wait <= 0 {
				if _, err := e.append(ctx, &triage.Entry{Tick: &triage.Tick{Due: due}}); err != nil {
					if errors.Is(err, context.Canceled) || errors.Is(err, journal.ErrClosed) {
						return
					}
					e.log.Warn("appending a due timer failed; retrying", zap.Error(err))
					wait = retry
				} else {
					continue
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.wake:
		case <-t.C:
		}
		t.Stop()
	}
}
