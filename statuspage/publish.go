package statuspage

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Options configure a Publisher.
type Options struct {
	Page PageOptions
	// Mapper maps incidents; its Rules are taken from the source at each
	// rendering. Narrow Mapper.Publishable to show fewer updates.
	Mapper Mapper
	// ExportDir, if set, receives every new rendering as static files.
	ExportDir string
	// Interval is the least time between two renderings (default 1s).
	Interval time.Duration
	// Refresh re-renders this often without a change, so that the history
	// moves on with the days (default 1m).
	Refresh time.Duration
	Now     func() time.Time
	Log     *zap.Logger
}

// Publisher renders the page when triage changes, serves it from memory and
// exports it.
type Publisher struct {
	opts    Options
	src     Source
	archive Archive
	handler Handler
	dirty   chan struct{}
}

// NewPublisher returns a publisher of src's incidents (and archive's,
// which may be nil).
func NewPublisher(src Source, archive Archive, opts Options) *Publisher {
	opts.Interval = cmp.Or(opts.Interval, time.Second)
	opts.Refresh = cmp.Or(opts.Refresh, time.Minute)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	return &Publisher{opts: opts, src: src, archive: archive, dirty: make(chan struct{}, 1)}
}

// Handler serves the latest rendering.
func (p *Publisher) Handler() *Handler { return &p.handler }

// Dirty says that triage changed; it never blocks (engine.OnApplied).
func (p *Publisher) Dirty() {
	select {
	case p.dirty <- struct{}{}:
	default:
	}
}

// Render renders the page now, serves it and, when it changed, exports it.
// One goroutine at a time may call it (Run, or a caller before Run).
func (p *Publisher) Render() error {
	now := p.opts.Now()
	m := p.opts.Mapper
	m.Rules = p.src.Rules()
	incidents, err := Collect(&m, p.src, p.archive, p.opts.Page.Since(now))
	if err != nil {
		return err
	}
	page := BuildPage(p.opts.Page, m.Rules, incidents, now)
	addMaintenances(page, m.Maintenances(p.src.Maintenances(), page), p.opts.Page.Since(now))
	site, err := Render(page)
	if err != nil {
		return err
	}
	if site.Equal(p.handler.Site()) {
		return nil
	}
	p.handler.Set(site)
	if p.opts.ExportDir == "" {
		return nil
	}
	if err := Export(site, p.opts.ExportDir); err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	return nil
}

// Run renders at once, then whenever Dirty was called (at most once per
// Interval) or Refresh passed, until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	refresh := time.NewTicker(p.opts.Refresh)
	defer refresh.Stop()
	for {
		if err := p.Render(); err != nil {
			p.opts.Log.Error("rendering the status page failed; the last rendering stays up", zap.Error(err))
		}
		pause := time.NewTimer(p.opts.Interval)
		select {
		case <-ctx.Done():
			pause.Stop()
			return
		case <-pause.C:
		}
		select {
		case <-ctx.Done():
			return
		case <-p.dirty:
		case <-refresh.C:
		}
	}
}
