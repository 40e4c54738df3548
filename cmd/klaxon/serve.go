package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	ossignal "os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	promversion "github.com/prometheus/common/version"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/klaxonhq/klaxon/acklink"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/chatops"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/console"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/gcpacer"
	"github.com/klaxonhq/klaxon/ingest"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/postmortem"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/statuspage"
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
	log, level, err := newLogger(cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	defer func() { _ = log.Sync() }()
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	setMemoryLimit(log)
	ctx, stop := ossignal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log, level); err != nil {
		log.Error("klaxon stopped", zap.Error(err))
		return 1
	}
	return 0
}

// newLogger builds Klaxon's logger (see loggerConfig) and returns the
// level a reload changes.
func newLogger(level string) (*zap.Logger, zap.AtomicLevel, error) {
	zc, err := loggerConfig(level)
	if err != nil {
		return nil, zap.AtomicLevel{}, err
	}
	log, err := zc.Build()
	return log, zc.Level, err
}

// loggerConfig is the configuration of Klaxon's logger: JSON lines on
// stderr with ISO 8601 times, at the given level.
func loggerConfig(level string) (zap.Config, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return zap.Config{}, fmt.Errorf("log level: %w", err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Sampling = nil
	zc.DisableStacktrace = true // panics are logged with their stack by the recovery middleware
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return zc, nil
}

// serve runs Klaxon until ctx is done, then shuts down in order: stop
// intake and finish requests in flight, stop the timers, flush the store.
// A reload sets the log level through level.
func serve(ctx context.Context, cfg *config.Config, log *zap.Logger, level zap.AtomicLevel) error {
	// SIGHUP is taken from the start: during recovery it would otherwise
	// end the process; it reloads once Klaxon runs.
	hup := make(chan os.Signal, 1)
	ossignal.Notify(hup, syscall.SIGHUP)
	defer ossignal.Stop(hup)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("klaxon"))

	// Recovery replays the journal under the rules it records (the defaults
	// until its first rule change); the configured rules are journaled after.
	state := triage.New(nil)
	restoreGC := sync.OnceFunc(gcpacer.ForRecovery())
	defer restoreGC() // on an early return; else once Klaxon listens, below
	j, rep, err := openJournal(cfg, state, log, reg)
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
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
	srv := server.New(cfg, log.Named("http"), reg)
	rl := newReloader(cfg, eng, pg, srv, level, log.Named("rules"), reg)
	rep.followReloads(rl, reg)
	if rep == nil { // a replica installs its files when it leads
		if err := rl.start(ctx); err != nil {
			return err
		}
	}
	rep.routes(srv)
	if err := routes(srv, cfg, eng, j, signer, rl, log, reg); err != nil {
		return err
	}
	sp, err := newStatusPublisher(cfg, eng.State(), j, log.Named("statuspage"))
	if err != nil {
		return err
	}
	if sp != nil {
		srv.Direct(statuspage.Prefix, sp.Handler()) // ahead of the router: as fast as a static file server
		eng.OnApplied(sp.Dirty)
		rep.onApplied(sp.Dirty)
		if err := sp.Render(); err != nil {
			log.Error("rendering the status page failed; it answers 503 until a rendering succeeds", zap.Error(err))
		}
	}

	chat, err := newChat(cfg, eng, log.Named("slack"), reg)
	if err != nil {
		return err
	}
	if rep == nil { // a replica installs its chat settings when it leads
		if err := chat.install(ctx); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("klaxon listening", zap.String("address", ln.Addr().String()), zap.String("version", version),
		zap.String("revision", promversion.GetRevision()))
	// Recovery's pacing holds until Klaxon listens: the first collection
	// paced for serving marks the whole recovered heap, and the start-up
	// above (rules, the status page) would pay for it in mark assists
	// before Klaxon could answer; now it runs beside the requests.
	restoreGC()
	stopPacing, paced := gcpacer.Start()
	defer stopPacing()
	if !paced {
		log.Info("GOGC or GOMEMLIMIT is set: the collector is paced as they say")
	}

	var wg sync.WaitGroup
	loopCtx, stopLoops := context.WithCancel(context.Background())
	wg.Add(3)
	go func() { defer wg.Done(); rep.leading(loopCtx, "timers", eng.Run) }()
	go func() { defer wg.Done(); rl.onSIGHUP(loopCtx, hup) }()
	go func() { defer wg.Done(); rep.leading(loopCtx, "delivery", pg.run) }()
	if rep != nil {
		wg.Add(1)
		go func() { defer wg.Done(); rep.leading(loopCtx, "files", rl.startLeading) }()
		wg.Add(1)
		go func() { defer wg.Done(); rl.watchDrift(loopCtx) }()
	}
	if sp != nil {
		wg.Add(1)
		go func() { defer wg.Done(); sp.Run(loopCtx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); rep.leading(loopCtx, "chat", chat.run) }()
	pageOutExecutable(log)
	srv.SetReady(true)

	err = srv.Serve(ctx, ln)
	stopLoops()
	wg.Wait()
	log.Info("klaxon shutting down: intake stopped, flushing the store")
	return err
}

func routes(srv *server.Server, cfg *config.Config, eng *engine.Engine, archive api.Archive, signer *acklink.Signer, rl *reloader, log *zap.Logger, reg prometheus.Registerer) error {
	r := srv.Engine()
	in := server.NewIngestHandler(eng, ingest.Limits{MaxBodyBytes: cfg.Server.MaxBodyBytes}, time.Now, log.Named("ingest"), reg)
	r.POST("/ingest/alertmanager", srv.Ingest("alertmanager"), in.Webhook)
	r.POST("/api/v2/alerts", srv.Ingest("prometheus"), in.AlertsV2)
	server.NewReceivers(srv, in, cfg.Heartbeats).Register(r) // tickets, mentions, heartbeats, PagerDuty events
	// The APIs: admins may do anything, viewers only read.
	apis := r.Group("/", srv.API())
	api.NewSilences(eng.State(), eng, server.Principal, time.Now).Register(apis) // Alertmanager's, for amtool
	apis.GET("/api/v2/status", api.Status(version, time.Now()))
	incidents := api.NewIncidents(eng.State(), eng, archive, server.Principal)
	incidents.Register(apis)
	api.NewUpdates(incidents, eng).Register(apis) // post, edit, approve, withdraw incident updates
	api.NewOnCall(eng.State(), eng, time.Now).Register(apis)
	pmt, err := postmortem.Load(cfg.Postmortem.TemplateFile)
	if err != nil {
		return fmt.Errorf("postmortem.template_file: %w", err)
	}
	api.NewPostmortems(incidents, pmt, time.Now).Register(apis)
	// Slack's slash commands, signed with the app's signing secret: the
	// applied state knows each incident's room and each person's Slack user.
	slack := &chatops.Handler{Rooms: eng.State(), People: eng.State(), Incidents: eng.State(), Actor: eng, Updater: eng}
	server.NewSlackCommands(slack, []byte(cfg.Chat.Slack.SigningSecret.Reveal()), time.Now, log.Named("slack")).Register(r)

	// The responder console signs in with the same tokens and keeps its own
	// sessions, CSRF tokens and viewer checks.
	console.New(console.Options{State: eng.State(), Actor: eng, Identify: srv.Identify, Archive: archive,
		Secure: strings.HasPrefix(cfg.ExternalURL, "https://"), SessionKey: consoleSessionKey(cfg)}).Register(r)
	admin := r.Group("/", srv.Admin())
	if signer != nil {
		api.NewAckLinks(signer, eng, time.Now).Register(r) // the signed link is the credential
	}
	admin.GET("/debug/pprof/*profile", gin.WrapF(pprofHandler))
	admin.POST("/-/reload", server.Reload(rl.reload))
	return nil
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
	files, err := readGlobs("rule files", cfg.RuleFiles)
	if err != nil {
		return nil, nil, fmt.Errorf("rules: %w", err)
	}
	rs, err := rules.Compile(files)
	if err != nil {
		return nil, nil, fmt.Errorf("rules: %w", err)
	}
	return files, rs, nil
}

// readGlobs reads the files that globs match, named kind in errors. Each
// glob must match a file: one that matches nothing is a mistake (a deleted
// file, a moved directory), never a wish to run without those files.
func readGlobs(kind string, globs []string) ([]rules.File, error) {
	for _, g := range globs {
		matches, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("%s: glob %q: %w", kind, g, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("no %s matched %q", kind, g)
		}
	}
	files, err := rules.Load("", globs)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", kind, err)
	}
	return files, nil
}

// reloader installs the configuration's rule files, on-call files, tokens
// and log level at start-up, and again, all or nothing, on SIGHUP and
// POST /-/reload: anything invalid or needing a restart leaves everything
// as it was.
type reloader struct {
	mu      sync.Mutex
	cfg     *config.Config // in force
	eng     *engine.Engine
	pager   *pager
	srv     *server.Server
	level   zap.AtomicLevel
	log     *zap.Logger
	ok      prometheus.Gauge
	success prometheus.Gauge
	replica *replicaReload // nil when Klaxon runs alone (replicareload.go)
}

// newReloader returns the reloader of cfg; it registers the reload metrics in reg.
func newReloader(cfg *config.Config, eng *engine.Engine, pg *pager, srv *server.Server, level zap.AtomicLevel, log *zap.Logger, reg prometheus.Registerer) *reloader {
	rl := &reloader{
		cfg: cfg, eng: eng, pager: pg, srv: srv, level: level, log: log,
		ok: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_config_last_reload_successful",
			Help: "Whether the last configuration reload succeeded; 0 also when start-up fell back to the rule or on-call files recorded in the journal.",
		}),
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_config_last_reload_success_timestamp_seconds", Help: "Time of the last successful configuration load.",
		}),
	}
	reg.MustRegister(rl.ok, rl.success)
	return rl
}

// start installs the configured rule and on-call files after recovery.
// Broken rule files fall back to the rules the journal last recorded, and
// start fails only when it records none; broken on-call files fall back to
// the recorded ones, or Klaxon runs without paging: ingest never stops for
// a broken file. Either fallback is logged as an error and sets the reload
// metric to 0.
func (rl *reloader) start(ctx context.Context) error {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rulesErr := rl.installRules(ctx, rl.cfg)
	if rulesErr != nil {
		if len(rl.eng.State().RuleFiles()) == 0 {
			return fmt.Errorf("%w; the journal records no rules to fall back to", rulesErr)
		}
		rl.log.Error("the configured rule files did not install: starting with the rules last recorded in the journal; fix them and reload", zap.Error(rulesErr))
	}
	var onCallErr error
	switch {
	case len(rl.cfg.OnCallFiles) > 0:
		if onCallErr = rl.installOnCall(ctx, rl.cfg); onCallErr != nil {
			rl.logOnCallFallback(onCallErr)
		}
	case len(rl.eng.State().OnCallFiles()) > 0:
		rl.log.Warn("the configuration names no on-call files: paging goes on with the on-call files last recorded in the journal")
	}
	rl.record(rulesErr == nil && onCallErr == nil)
	return nil
}

// logOnCallFallback says, at error level, what pages when the on-call files
// did not install at start-up.
func (rl *reloader) logOnCallFallback(err error) {
	if len(rl.eng.State().OnCallFiles()) > 0 {
		rl.log.Error("the configured on-call files did not install: paging with the on-call files last recorded in the journal; fix them and reload", zap.Error(err))
		return
	}
	rl.log.Error("the configured on-call files did not install and the journal records none: NOBODY WILL BE PAGED until they are fixed and reloaded; alerts are still taken in", zap.Error(err))
}

// record sets the reload metrics after a start or reload.
func (rl *reloader) record(ok bool) {
	if !ok {
		rl.ok.Set(0)
		return
	}
	rl.ok.Set(1)
	rl.success.SetToCurrentTime()
}

// installRules reads cfg's rule files and installs them.
func (rl *reloader) installRules(ctx context.Context, cfg *config.Config) error {
	files, err := readGlobs("rule files", cfg.RuleFiles)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	return rl.install(ctx, files)
}

// install journals rule files if they changed. A replica compares them
// by base name and content, as another replica recorded them from its own
// directory.
func (rl *reloader) install(ctx context.Context, files []rules.File) error {
	changed := false
	if rl.replica == nil || !slices.EqualFunc(files, rl.eng.State().RuleFiles(), sameRuleFile) {
		var err error
		if changed, err = rl.eng.SetRules(ctx, files); err != nil { // compiles them, once
			return fmt.Errorf("rules: %w", err)
		}
	}
	if changed {
		rl.log.Info("rules installed", zap.Int("files", len(files)))
	} else {
		rl.log.Info("rules unchanged", zap.Int("files", len(files)))
	}
	return nil
}

// onCallSet is on-call files that loaded and whose receivers build.
type onCallSet struct {
	files []oncall.File
	cfg   *oncall.Config
}

// checkOnCall reads and loads cfg's on-call files and builds their
// receivers, journaling nothing.
func (rl *reloader) checkOnCall(cfg *config.Config) (*onCallSet, error) {
	files, err := readOncall(cfg.OnCallFiles)
	if err != nil {
		return nil, err
	}
	oc, err := oncall.Load(files)
	if err != nil {
		return nil, fmt.Errorf("on-call files: %w", err)
	}
	if err := rl.pager.check(oc); err != nil {
		return nil, fmt.Errorf("on-call files: receivers: %w", err)
	}
	return &onCallSet{files: files, cfg: oc}, nil
}

// setOnCall journals checked on-call files if they changed, compared as
// install compares rule files; the delivery workers then take them up.
func (rl *reloader) setOnCall(ctx context.Context, set *onCallSet) error {
	changed := false
	if rl.replica == nil || !slices.EqualFunc(set.files, rl.eng.State().OnCallFiles(), sameOnCallFile) {
		var err error
		if changed, err = rl.eng.SetOnCall(ctx, set.files); err != nil {
			return err
		}
	}
	if changed {
		rl.log.Info("on-call files installed", zap.Int("files", len(set.files)), zap.Int("people", len(set.cfg.People)),
			zap.Int("schedules", len(set.cfg.Schedules)), zap.Int("policies", len(set.cfg.Policies)))
		rl.pager.reload()
	} else {
		rl.log.Info("on-call files unchanged", zap.Int("files", len(set.files)))
	}
	return nil
}

// installOnCall checks cfg's on-call files and journals them if they changed.
func (rl *reloader) installOnCall(ctx context.Context, cfg *config.Config) error {
	set, err := rl.checkOnCall(cfg)
	if err != nil {
		return err
	}
	return rl.setOnCall(ctx, set)
}

// reload re-reads the configuration file and installs it, all or nothing.
func (rl *reloader) reload(ctx context.Context) error {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	var err error
	if leader, ok := rl.following(); ok {
		err = rl.applyFollower(leader)
	} else {
		err = rl.apply(ctx)
	}
	if err == nil {
		rl.checkDrift()
	}
	rl.record(err == nil)
	if err != nil {
		rl.log.Error("configuration reload failed; the previous configuration stays in force", zap.Error(err))
		return err
	}
	return nil
}

// apply installs the configuration file as it is now. Everything is checked
// before anything changes; only a journal write failing between the rules
// and the on-call files (503, retried by reloading again) leaves the new
// rules installed without the rest.
func (rl *reloader) apply(ctx context.Context) error {
	cfg, err := rl.loadNext()
	if err != nil {
		return err
	}
	var onCall *onCallSet
	if len(cfg.OnCallFiles) > 0 {
		if onCall, err = rl.checkOnCall(cfg); err != nil {
			return err
		}
	}
	if err := rl.installRules(ctx, cfg); err != nil {
		return err
	}
	if onCall != nil {
		if err := rl.setOnCall(ctx, onCall); err != nil {
			return err
		}
	}
	rl.takeSettings(cfg)
	return nil
}

// loadNext loads the configuration file for a reload and refuses what a
// reload cannot change.
func (rl *reloader) loadNext() (*config.Config, error) {
	cfg, err := config.Load(rl.cfg.File)
	if err != nil {
		return nil, err
	}
	if keys := config.RestartNeeded(rl.cfg, cfg); len(keys) > 0 {
		return nil, fmt.Errorf("changing %s needs a restart; nothing was changed", strings.Join(keys, ", "))
	}
	if len(cfg.OnCallFiles) == 0 && len(rl.cfg.OnCallFiles) > 0 {
		return nil, errors.New("oncall_files: a reload cannot stop paging (the on-call files last recorded would stay in force); keep the globs; nothing was changed")
	}
	return cfg, nil
}

// takeSettings puts cfg's own settings (tokens, log level) in force and
// makes it the configuration in force.
func (rl *reloader) takeSettings(cfg *config.Config) {
	rl.srv.SetAuth(cfg.Auth)
	rl.setLevel(cfg.LogLevel)
	for _, w := range cfg.Warnings {
		rl.log.Warn(w)
	}
	rl.cfg = cfg
}

// setLevel sets the log level; the configuration has validated it.
func (rl *reloader) setLevel(name string) {
	lvl, err := zapcore.ParseLevel(name)
	if err != nil || lvl == rl.level.Level() {
		return
	}
	rl.log.Info("log level changed", zap.Stringer("from", rl.level.Level()), zap.Stringer("to", lvl))
	rl.level.SetLevel(lvl)
}

// onSIGHUP reloads on every signal from hup until ctx ends.
func (rl *reloader) onSIGHUP(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = rl.reload(ctx)
		}
	}
}
