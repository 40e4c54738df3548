package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/acklink"
	"github.com/klaxonhq/klaxon/triage"
)

// Source lists the pending intents of the applied triage state; *triage.State
// implements it.
type Source interface {
	// DueIntents returns up to limit pending intents due at or before now,
	// ordered by due time and then ID.
	DueIntents(now time.Time, limit int) []triage.Intent
	// NextIntentDue is when the earliest pending intent is due, if any.
	NextIntentDue() (time.Time, bool)
}

var _ Source = (*triage.State)(nil)

// Recorder journals a delivery report and applies it; an error means the
// report is not stored and must be made again (the worker retries it with
// backoff, holding its receiver's slot, and never sends the page again).
type Recorder interface {
	Deliver(ctx context.Context, d triage.Delivery) error
}

// Defaults for the zero values of Options.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultWorkers     = 2
	DefaultQueueSize   = 64
	DefaultBatch       = 256
	DefaultSweep       = 30 * time.Second
	DefaultReportRetry = time.Second
	DefaultAckTTL      = 24 * time.Hour
	maxReportRetry     = 30 * time.Second
)

// Options configure a Dispatcher; a zero field takes its default.
type Options struct {
	// Receivers are the contact methods and fallback receivers by name,
	// written as in alertmanager.yml; an intent names one in Receiver.
	Receivers map[string]*config.Receiver
	// Templates are globs of Alertmanager template files added to the
	// default templates.
	Templates []string
	// ExternalURL is Klaxon's own address, for incident and ack links.
	ExternalURL *url.URL
	// AckSigner signs the ack link put in every page; nil leaves it out.
	AckSigner *acklink.Signer
	// AckTTL is how long an ack link works (default 24h).
	AckTTL time.Duration
	// Clock is the time pages are stamped with (default time.Now).
	Clock func() time.Time
	// Timeout bounds one integration's attempt (default 10s); running out is
	// a failure worth retrying.
	Timeout time.Duration
	// Workers is how many pages one receiver sends at once (default 2).
	Workers int
	// QueueSize is how many due pages wait for one receiver's workers
	// (default 64); more wait in the state.
	QueueSize int
	// Batch is how many intents a scan takes beyond those in flight
	// (default 256).
	Batch int
	// Sweep is the longest wait between scans, a safety net behind Wake
	// (default 30s).
	Sweep time.Duration
	// ReportRetry is the first wait before journaling a report again after
	// the store failed (default 1s, doubling up to 30s).
	ReportRetry time.Duration
	// Registerer takes the notification metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger logs failed deliveries and reports (default: none).
	Logger *zap.Logger
	// IntegrationLogger is handed to Alertmanager's notifiers (default: none).
	IntegrationLogger *slog.Logger
	// Unreported carries the deliveries whose reports were cut off from
	// one dispatcher to the next; nil keeps none, and such pages are sent
	// again by the next dispatcher.
	Unreported *Unreported
	// FinalText words a final-message intent (triage.IntentFinal): its
	// title and body become the alert's summary and description. Nil
	// sends the incident's title and explanation instead.
	FinalText func(triage.Intent) (title, body string, err error)
}

func (o Options) withDefaults() Options {
	o.AckTTL = cmp.Or(o.AckTTL, DefaultAckTTL)
	o.Timeout = cmp.Or(o.Timeout, DefaultTimeout)
	o.Workers = cmp.Or(o.Workers, DefaultWorkers)
	o.QueueSize = cmp.Or(o.QueueSize, DefaultQueueSize)
	o.Batch = cmp.Or(o.Batch, DefaultBatch)
	o.Sweep = cmp.Or(o.Sweep, DefaultSweep)
	o.ReportRetry = cmp.Or(o.ReportRetry, DefaultReportRetry)
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.IntegrationLogger == nil {
		o.IntegrationLogger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Dispatcher carries out due page intents through Alertmanager's receiver
// integrations and reports each attempt to the Recorder. Every receiver has
// its own queue and workers, so one that hangs delays only its own pages.
type Dispatcher struct {
	src     Source
	rec     Recorder
	opts    Options
	log     *zap.Logger
	metrics *metrics
	lanes   map[string]*lane
	unknown *lane // for intents naming a receiver nobody configured
	wake    chan struct{}

	drainOnce sync.Once
	draining  chan struct{} // closed by Drain

	mu       sync.Mutex
	inflight map[string]*flight // by intent ID
}

// flight is an intent attempt taken from the state and not yet seen settled.
type flight struct {
	attempt  int
	due      time.Time
	reported bool // its delivery is journaled
}

// New returns a dispatcher over src that reports to rec. It builds every
// receiver's integrations now, so a receiver that cannot be built is an
// error here rather than a failed page later.
func New(src Source, rec Recorder, opts Options) (*Dispatcher, error) {
	if src == nil || rec == nil {
		return nil, errors.New("notify: a dispatcher needs a source and a recorder")
	}
	opts = opts.withDefaults()
	lanes, err := buildLanes(opts)
	if err != nil {
		return nil, err
	}
	return &Dispatcher{
		src: src, rec: rec, opts: opts, log: opts.Logger,
		metrics:  newMetrics(opts.Registerer),
		lanes:    lanes,
		unknown:  &lane{unknown: true, jobs: make(chan triage.Intent, opts.QueueSize)},
		wake:     make(chan struct{}, 1),
		draining: make(chan struct{}),
		inflight: make(map[string]*flight),
	}, nil
}

// Wake makes the dispatcher look for due intents now; the engine calls it
// after applying entries. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends, then waits for its workers to stop. It
// first stores the reports of Options.Unreported, holding their intents in
// flight meanwhile. An attempt cut short by ctx is not reported: the intent
// goes out again under the same deduplication key, unless it was delivered,
// in which case it is kept in Options.Unreported.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, del := range d.opts.Unreported.take() {
		d.mu.Lock()
		d.inflight[del.Intent] = &flight{attempt: del.Attempt}
		d.mu.Unlock()
		wg.Go(func() { d.settle(ctx, del) })
	}
	for _, l := range d.allLanes() {
		for range l.workers(d.opts.Workers) {
			wg.Go(func() { d.work(ctx, l) })
		}
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.draining:
			return
		case <-d.wake:
		case <-timer.C:
		}
		timer.Reset(d.scan())
	}
}

// Drain makes Run take no more intents and return once the attempts under
// way are delivered and reported, so that pages in flight are neither cut
// off nor sent again by the next dispatcher; ctx still stops everything at
// once. The pager drains a dispatcher whose receivers changed.
func (d *Dispatcher) Drain() {
	d.drainOnce.Do(func() { close(d.draining) })
}

func (d *Dispatcher) isDraining() bool {
	select {
	case <-d.draining:
		return true
	default:
		return false
	}
}

func (d *Dispatcher) allLanes() []*lane {
	names := slices.Sorted(maps.Keys(d.lanes))
	all := []*lane{d.unknown}
	for _, n := range names {
		all = append(all, d.lanes[n])
	}
	return all
}

// scan hands the due intents that are not in flight to their receivers'
// queues and returns how long to wait before the next scan.
func (d *Dispatcher) scan() time.Duration {
	if _, ok := d.src.NextIntentDue(); !ok {
		d.prune(nil, true)
		return d.opts.Sweep
	}
	now := d.opts.Clock()
	d.mu.Lock()
	limit := len(d.inflight) + d.opts.Batch // in-flight intents never crowd out new ones
	d.mu.Unlock()
	for {
		list := d.src.DueIntents(now.Add(d.opts.Sweep), limit)
		complete := len(list) < limit
		d.prune(list, complete)
		taken, blocked, next := d.takeDue(list, now)
		switch {
		case next > 0:
			return next
		case complete || (taken == 0 && blocked == 0):
			return d.opts.Sweep
		case taken > 0:
			return 0 // more are due behind the batch
		}
		limit += blocked // look past the intents waiting for a full queue
	}
}

// takeDue takes the due intents of list, counting those taken and those
// left for a full queue, up to the first one not yet due, whose wait it
// returns (0 if none).
func (d *Dispatcher) takeDue(list []triage.Intent, now time.Time) (taken, blocked int, next time.Duration) {
	for _, in := range list {
		if in.Due.After(now) {
			return taken, blocked, in.Due.Sub(now) // none is in flight: it was never due
		}
		switch d.take(in) {
		case queued:
			taken++
		case full:
			blocked++
		}
	}
	return taken, blocked, 0
}

// take queues one due intent unless this attempt is in flight already. A
// full queue leaves it in the state; a worker's Wake brings it back.
func (d *Dispatcher) take(in triage.Intent) takeResult {
	attempt := in.Attempts + 1
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, ok := d.inflight[in.ID]; ok && f.attempt >= attempt {
		return flying
	}
	l := d.lanes[in.Receiver]
	if l == nil {
		l = d.unknown
	}
	select {
	case l.jobs <- in:
		d.inflight[in.ID] = &flight{attempt: attempt, due: in.Due}
		return queued
	default:
		return full
	}
}

// takeResult is what take did with an intent.
type takeResult int

const (
	queued takeResult = iota // handed to its receiver's queue
	flying                   // this attempt is in flight already
	full                     // its receiver's queue is full
)

// prune forgets the reported flights that the state no longer lists with
// their attempt. list is what DueIntents returned in (due, ID) order;
// complete says it holds every pending intent up to its horizon, otherwise
// only flights sorting before its last one can be judged.
func (d *Dispatcher) prune(list []triage.Intent, complete bool) {
	listed := make(map[string]int, len(list))
	for _, in := range list {
		listed[in.ID] = in.Attempts + 1
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, f := range d.inflight {
		if !f.reported {
			continue
		}
		if attempt, ok := listed[id]; ok {
			if attempt != f.attempt {
				delete(d.inflight, id)
			}
			continue
		}
		if complete || sortsBefore(f.due, id, list[len(list)-1]) {
			delete(d.inflight, id)
		}
	}
}

func sortsBefore(due time.Time, id string, in triage.Intent) bool {
	return cmp.Or(due.Compare(in.Due), cmp.Compare(id, in.ID)) < 0
}

// work sends the intents of one receiver's queue and reports each attempt.
func (d *Dispatcher) work(ctx context.Context, l *lane) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.draining:
			return
		case in := <-l.jobs:
			if d.isDraining() {
				return // queued, not taken: the next dispatcher takes it
			}
			d.Wake() // room in the queue: a scan may fill it
			del := d.deliver(ctx, l, in)
			if ctx.Err() != nil {
				d.opts.Unreported.keep(del)
				return
			}
			if !d.settle(ctx, del) {
				return
			}
		}
	}
}

// settle reports a delivery and marks its flight reported; false means
// ctx ended first, and a successful delivery is kept in Unreported.
func (d *Dispatcher) settle(ctx context.Context, del triage.Delivery) bool {
	if !d.report(ctx, del) {
		d.opts.Unreported.keep(del)
		return false
	}
	d.mu.Lock()
	if f := d.inflight[del.Intent]; f != nil && f.attempt == del.Attempt {
		f.reported = true
	}
	d.mu.Unlock()
	d.Wake()
	return true
}

// report journals a delivery, trying again with backoff while the store is
// unavailable; false means ctx ended first.
func (d *Dispatcher) report(ctx context.Context, del triage.Delivery) bool {
	return Report(ctx, d.rec, del, d.opts.ReportRetry, d.log)
}

// Report journals a delivery through rec, trying again after wait, doubling
// up to 30s, while the store is unavailable; false means ctx ended first.
// Every delivery worker reports this way: the report is made again, never
// the delivery.
func Report(ctx context.Context, rec Recorder, del triage.Delivery, wait time.Duration, log *zap.Logger) bool {
	for {
		err := rec.Deliver(ctx, del)
		if err == nil {
			return true
		}
		log.Warn("delivery report not stored, retrying", zap.String("intent", del.Intent), zap.Int("attempt", del.Attempt), zap.Duration("wait", wait), zap.Error(err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, maxReportRetry)
	}
}

// InFlight is how many intent attempts are taken and not yet seen settled,
// for tests and diagnostics.
func (d *Dispatcher) InFlight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.inflight)
}

func errNoReceiver(name string) string { return fmt.Sprintf("no receiver %q", name) }
