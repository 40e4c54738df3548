package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	ossignal "os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/klaxonhq/klaxon/acklink"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/ingest"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

func runServe(args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "configs/klaxon.yml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	log, err := newLogger(cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	defer func() { _ = log.Sync() }()
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	ctx, stop := ossignal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("klaxon stopped", zap.Error(err))
		return 1
	}
	return 0
}

func newLogger(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Sampling = nil
	zc.DisableStacktrace = true // panics are logged with their stack by the recovery middleware
	return zc.Build()
}

// serve runs Klaxon until ctx is done, then shuts down in order: stop
// intake and finish requests in flight, stop the timers, flush the store.
func serve(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	files, err := rules.Load("", cfg.RuleFiles)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Recovery replays the journal under the rules it records (the defaults
	// until its first rule change); the configured rules are journaled after.
	state := triage.New(nil)
	start := time.Now()
	j, err := journal.OpenBadger(journal.Options{
		Dir:            cfg.DataDir,
		MemTableSize:   cfg.Storage.MemtableBytes,
		BlockCacheSize: cfg.Storage.BlockCacheBytes,
		SnapshotEvery:  cfg.Storage.SnapshotEvery,
		MinFreeBytes:   cfg.Storage.MinFreeBytes,
		Logger:         log.Named("journal"),
		Registerer:     reg,

		Retention:        cfg.Storage.Retention,
		ArchiveRetention: cfg.Storage.ArchiveRetention,
	}, state)
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	log.Info("journal recovered", zap.Uint64("seq", state.LastSeq()), zap.Duration("took", time.Since(start)))
	shutdown := newShutdownClock(ctx, cfg.Server.ShutdownTimeout, time.Now)
	defer shutdown.close()
	defer func() {
		// The final snapshot is dropped if it would overrun the shutdown
		// timeout; recovery replays the records after the stored one.
		closeCtx, cancel := shutdown.context()
		defer cancel()
		if err := j.CloseContext(closeCtx); err != nil {
			log.Error("closing the journal", zap.Error(err))
		}
	}()

	eng := engine.New(j, state, engine.Options{
		Logger:     log.Named("engine"),
		Registerer: reg,
		Limits:     engine.Limits{ActiveAlerts: cfg.Limits.ActiveAlerts, ActiveAlertsPerSource: cfg.Limits.ActiveAlertsPerSource},
	})
	var signer *acklink.Signer
	if !cfg.Notify.AckKey.IsZero() {
		if signer, err = acklink.NewSigner([]byte(cfg.Notify.AckKey.Reveal())); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	pg, err := newPager(cfg, eng, signer, log.Named("notify"), reg)
	if err != nil {
		return err
	}
	rl := newReloader(cfg, eng, pg, log.Named("rules"), reg)
	if err := rl.install(ctx, files); err != nil {
		return fmt.Errorf("install rules: %w", err)
	}
	if err := rl.installOnCall(ctx); err != nil {
		return fmt.Errorf("install on-call files: %w", err)
	}

	srv := server.New(cfg, log.Named("http"), reg)
	routes(srv, cfg, eng, j, signer, rl, log, reg)

	ln, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("klaxon listening", zap.String("address", ln.Addr().String()), zap.String("version", version))

	var wg sync.WaitGroup
	loopCtx, stopLoops := context.WithCancel(context.Background())
	wg.Add(3)
	go func() { defer wg.Done(); eng.Run(loopCtx) }()
	go func() { defer wg.Done(); rl.onSIGHUP(loopCtx) }()
	go func() { defer wg.Done(); pg.run(loopCtx) }()
	srv.SetReady(true)

	err = srv.Serve(ctx, ln)
	stopLoops()
	wg.Wait()
	log.Info("klaxon shutting down: intake stopped, flushing the store")
	return err
}

func routes(srv *server.Server, cfg *config.Config, eng *engine.Engine, archive api.Archive, signer *acklink.Signer, rl *reloader, log *zap.Logger, reg prometheus.Registerer) {
	r := srv.Engine()
	in := server.NewIngestHandler(eng, ingest.Limits{MaxBodyBytes: cfg.Server.MaxBodyBytes}, time.Now, log.Named("ingest"), reg)
	r.POST("/ingest/alertmanager", srv.Ingest("alertmanager"), in.Webhook)
	r.POST("/api/v2/alerts", srv.Ingest("prometheus"), in.AlertsV2)
	// The APIs: admins may do anything, viewers only read.
	apis := r.Group("/", srv.API())
	api.NewSilences(eng.State(), eng, server.Principal, time.Now).Register(apis) // Alertmanager's, for amtool
	apis.GET("/api/v2/status", api.Status(version, time.Now()))
	api.NewIncidents(eng.State(), eng, archive, server.Principal).Register(apis)
	api.NewOnCall(eng.State(), eng, time.Now).Register(apis)

	admin := r.Group("/", srv.Admin())
	if signer != nil {
		api.NewAckLinks(signer, eng, time.Now).Register(r) // the signed link is the credential
	}
	admin.GET("/debug/pprof/*profile", gin.WrapF(pprofHandler))
	admin.POST("/-/reload", server.Reload(rl.reload))
}

// pprofHandler serves Go's profiles (as Prometheus and Alertmanager do),
// behind the admin credentials.
func pprofHandler(w http.ResponseWriter, r *http.Request) {
	switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
	case "profile":
		pprof.Profile(w, r)
	case "trace":
		pprof.Trace(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	default:
		pprof.Index(w, r)
	}
}

// loadRules reads and compiles the configured rule files.
func loadRules(cfg *config.Config) ([]rules.File, *rules.Set, error) {
	files, err := rules.Load("", cfg.RuleFiles)
	if err != nil {
		return nil, nil, fmt.Errorf("rules: %w", err)
	}
	rs, err := rules.Compile(files)
	if err != nil {
		return nil, nil, fmt.Errorf("rules: %w", err)
	}
	return files, rs, nil
}

// reloader re-reads the rule files on SIGHUP and POST /-/reload, all or
// nothing: a broken file leaves the running rules in place.
type reloader struct {
	mu      sync.Mutex
	cfg     *config.Config
	eng     *engine.Engine
	pager   *pager
	log     *zap.Logger
	ok      prometheus.Gauge
	success prometheus.Gauge
}

func newReloader(cfg *config.Config, eng *engine.Engine, pg *pager, log *zap.Logger, reg prometheus.Registerer) *reloader {
	rl := &reloader{
		cfg: cfg, eng: eng, pager: pg, log: log,
		ok: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_config_last_reload_successful", Help: "Whether the last rule reload succeeded.",
		}),
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_config_last_reload_success_timestamp_seconds", Help: "Time of the last successful rule reload.",
		}),
	}
	reg.MustRegister(rl.ok, rl.success)
	return rl
}

func (rl *reloader) install(ctx context.Context, files []rules.File) error {
	changed, err := rl.eng.SetRules(ctx, files)
	if err != nil {
		return err
	}
	if changed {
		rl.log.Info("rules installed", zap.Int("files", len(files)))
	}
	rl.ok.Set(1)
	rl.success.SetToCurrentTime()
	return nil
}

// installOnCall reads the on-call files and journals them if they changed,
// once their receivers build; the delivery workers then take them up.
func (rl *reloader) installOnCall(ctx context.Context) error {
	if len(rl.cfg.OnCallFiles) == 0 {
		return nil
	}
	files, err := readOncall(rl.cfg.OnCallFiles)
	if err != nil {
		return err
	}
	cfg, err := oncall.Load(files)
	if err != nil {
		return fmt.Errorf("on-call files: %w", err)
	}
	if err := rl.pager.check(cfg); err != nil {
		return fmt.Errorf("on-call files: receivers: %w", err)
	}
	changed, err := rl.eng.SetOnCall(ctx, files)
	if err != nil {
		return err
	}
	if changed {
		rl.log.Info("on-call files installed", zap.Int("files", len(files)), zap.Int("people", len(cfg.People)),
			zap.Int("schedules", len(cfg.Schedules)), zap.Int("policies", len(cfg.Policies)))
		rl.pager.reload()
	}
	return nil
}

func (rl *reloader) reload(ctx context.Context) error {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	files, err := rules.Load("", rl.cfg.RuleFiles)
	if err == nil {
		err = rl.install(ctx, files) // compiles them, once
	}
	if err == nil {
		err = rl.installOnCall(ctx)
	}
	if err != nil {
		rl.ok.Set(0)
		rl.log.Error("rule reload failed; the previous rules stay in force", zap.Error(err))
		return err
	}
	return nil
}

func (rl *reloader) onSIGHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	ossignal.Notify(hup, syscall.SIGHUP)
	defer ossignal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = rl.reload(ctx)
		}
	}
}
