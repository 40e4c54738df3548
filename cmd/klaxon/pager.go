package main

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"reflect"
	"sync"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/acklink"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/resolution"
)

// pager runs the delivery workers over the receivers of the on-call files
// in force, and builds them anew when those files change.
type pager struct {
	eng     *engine.Engine
	opts    notify.Options // every field but Receivers
	log     *zap.Logger
	changed chan struct{}
	paging  prometheus.Gauge // 1 while delivery workers run

	mu      sync.Mutex
	current *notify.Dispatcher
}

// newPager returns the pager; it wakes its workers after every applied entry.
func newPager(cfg *config.Config, eng *engine.Engine, signer *acklink.Signer, log *zap.Logger, reg prometheus.Registerer) (*pager, error) {
	external, err := url.Parse(cfg.ExternalURL)
	if err != nil {
		return nil, fmt.Errorf("external_url: %w", err)
	}
	final, err := finalRenderer(cfg)
	if err != nil {
		return nil, err
	}
	p := &pager{
		eng: eng, log: log, changed: make(chan struct{}, 1),
		opts: notify.Options{
			ExternalURL: external, AckSigner: signer, AckTTL: cfg.Notify.AckLinkTTL,
			Timeout: cfg.Notify.Timeout, Registerer: reg, Logger: log, FinalText: final.Intent,
			Unreported: &notify.Unreported{}, // across leadership terms and reloads
		},
	}
	p.paging = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_paging_enabled",
		Help: "1 while pages are delivered from on-call files in force; 0 when nobody can be paged (no on-call files, or their receivers do not build).",
	})
	reg.MustRegister(p.paging)
	eng.OnApplied(p.wake)
	return p, nil
}

// finalRenderer words final messages in the status page's language and
// time zone, from internal.<language>.yml in its templates_dir if there
// is one there, else from the built-in templates.
func finalRenderer(cfg *config.Config) (*resolution.Renderer, error) {
	sc := cfg.StatusPage
	loc, err := time.LoadLocation(sc.TimeZone) // "" is UTC
	if err != nil {
		return nil, fmt.Errorf("statuspage: time_zone: %w", err)
	}
	lang := cmp.Or(sc.Language, config.DefaultStatusPageLanguage)
	return resolution.New(sc.TemplatesDir, lang, loc)
}

// check builds the workers for an on-call configuration without running
// them, so that a reload is refused before anything is journaled.
func (p *pager) check(cfg *oncall.Config) error {
	opts := p.opts
	opts.Receivers, opts.Registerer = cfg.Receivers(), nil
	_, err := notify.New(p.eng.State(), p.eng, opts)
	return err
}

// reload makes run build the workers anew, from the files now in force.
func (p *pager) reload() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

func (p *pager) wake() {
	p.mu.Lock()
	d := p.current
	p.mu.Unlock()
	if d != nil {
		d.Wake()
	}
}

// run delivers pages until ctx ends. New on-call files rebuild the workers
// only when their receivers changed: a change of people, schedules or
// policies leaves pages in flight alone. New receivers drain the old
// workers first: the pages they are sending go out and are reported, not
// cut off and sent again. A set of workers stops completely before the
// next starts, so no page is in flight twice.
func (p *pager) run(ctx context.Context) {
	var w *workers
	defer func() { p.stop(w) }()
	for {
		rcv := p.receivers()
		switch {
		case w != nil && reflect.DeepEqual(rcv, w.receivers):
			p.log.Info("on-call files changed, their receivers did not: the delivery workers go on")
		default:
			p.drain(w)
			w = nil
			if ctx.Err() != nil {
				return
			}
			w = p.start(ctx, rcv)
		}
		select {
		case <-ctx.Done():
			return
		case <-p.changed:
		}
	}
}

// receivers loads the receivers of the on-call files in force anew, nil
// if none are: every load is its own, as Alertmanager's HTTP settings fill
// some fields in as they are used.
func (p *pager) receivers() map[string]*amconfig.Receiver {
	cfg, _ := p.eng.State().OnCall()
	if cfg == nil {
		return nil
	}
	if own, err := oncall.Load(p.eng.State().OnCallFiles()); err == nil {
		return own.Receivers()
	}
	return cfg.Receivers()
}

// workers is one running dispatcher and the receivers it was built with.
type workers struct {
	d         *notify.Dispatcher
	receivers map[string]*amconfig.Receiver
	stop      context.CancelFunc
	done      chan struct{}
}

// start runs a dispatcher over rcv; nil receivers, or receivers that do
// not build, leave nobody to page and return nil.
func (p *pager) start(ctx context.Context, rcv map[string]*amconfig.Receiver) *workers {
	if rcv == nil {
		p.paging.Set(0)
		return nil
	}
	opts := p.opts
	opts.Receivers = p.receivers() // the workers' own: rcv is compared while they run
	d, err := notify.New(p.eng.State(), p.eng, opts)
	if err != nil {
		p.log.Error("nobody can be paged: the on-call files' receivers do not build", zap.Error(err))
		p.paging.Set(0)
		return nil
	}
	dctx, stop := context.WithCancel(ctx)
	w := &workers{d: d, receivers: rcv, stop: stop, done: make(chan struct{})}
	go func() { defer close(w.done); d.Run(dctx) }()
	p.set(d)
	p.paging.Set(1)
	return w
}

// drain lets w, if any, finish the pages it is sending, and stops it.
func (p *pager) drain(w *workers) {
	if w != nil {
		w.d.Drain()
		<-w.done
	}
	p.stop(w)
}

// stop stops w, if any, and waits until its dispatcher has returned.
func (p *pager) stop(w *workers) {
	if w == nil {
		return
	}
	w.stop()
	<-w.done
	p.set(nil)
	p.paging.Set(0)
}

func (p *pager) set(d *notify.Dispatcher) {
	p.mu.Lock()
	p.current = d
	p.mu.Unlock()
}
