// Package server is Klaxon's HTTP infrastructure: a gin engine with panic
// recovery, access logs, request metrics, body limits and bearer-token
// authentication, the health, readiness and metrics endpoints, and graceful
// shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/config"
)

// maxHeaderBytes bounds a request's header block.
const maxHeaderBytes = 64 << 10

// Server is the HTTP server: callers register their routes on Engine, guard
// them with Admin or Ingest, and run it with Serve.
type Server struct {
	cfg      *config.Config
	log      *zap.Logger
	engine   *gin.Engine
	ready    atomic.Bool
	check    atomic.Pointer[func() error] // asked by /-/ready once ready; see SetReadyCheck
	access   atomic.Pointer[access]
	duration *prometheus.HistogramVec
	direct   directRoute
}

// New builds a Server for cfg whose middleware logs to log and records
// request durations in reg, which is also what GET /metrics serves. A nil
// log discards logs; a nil reg is replaced by an empty registry.
func New(cfg *config.Config, log *zap.Logger, reg *prometheus.Registry) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		cfg:    cfg,
		log:    log,
		engine: gin.New(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "klaxon_http_request_duration_seconds",
			Help:    "Time taken to answer HTTP requests, by route pattern (\"unmatched\" when none), method and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"handler", "method", "code"}),
	}
	reg.MustRegister(s.duration)
	s.SetAuth(cfg.Auth)

	e := s.engine
	// Clients are identified by the connection's address, never by headers
	// they choose themselves. Trusting no proxy cannot fail.
	_ = e.SetTrustedProxies(nil)
	e.HandleMethodNotAllowed = true
	e.Use(s.observe, s.recoverPanic, secureHeaders, s.limitBody)
	e.NoRoute(func(c *gin.Context) {
		Fail(c, http.StatusNotFound, "not found")
	})
	e.NoMethod(func(c *gin.Context) {
		Fail(c, http.StatusMethodNotAllowed, "method not allowed")
	})

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		e.Handle(method, "/-/healthy", func(c *gin.Context) {
			c.String(http.StatusOK, "OK")
		})
		e.Handle(method, "/-/ready", func(c *gin.Context) {
			if !s.ready.Load() {
				c.String(http.StatusServiceUnavailable, "not ready")
				return
			}
			if check := s.check.Load(); check != nil {
				if err := (*check)(); err != nil {
					c.String(http.StatusServiceUnavailable, err.Error())
					return
				}
			}
			c.String(http.StatusOK, "OK")
		})
	}
	e.GET("/metrics", s.authenticate(func(a *access) *principals { return a.metrics }, reads),
		gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	return s
}

// Engine is the gin engine, for callers to register their routes on.
func (s *Server) Engine() *gin.Engine { return s.engine }

// SetReady sets what GET /-/ready answers: 200 when true, 503 when false.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// SetReadyCheck makes GET /-/ready, once ready, answer 503 with check's
// error while it fails (a replica without a leader, say).
func (s *Server) SetReadyCheck(check func() error) { s.check.Store(&check) }

// Serve answers requests on ln until ctx is done, then stops accepting
// connections, marks the server not ready and lets requests in flight
// finish within the configured shutdown timeout; past it, their
// connections are closed and Serve returns an error. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: s.cfg.Server.ReadTimeout,
		ReadTimeout:       s.cfg.Server.ReadTimeout,
		WriteTimeout:      s.cfg.Server.WriteTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          zap.NewStdLog(s.log),
		ConnContext:       withConn,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(gatherListener{ln}) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	s.SetReady(false)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Server.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		s.log.Error("http server stopped unexpectedly", zap.Error(serr))
	}
	if err != nil {
		closeErr := srv.Close()
		return fmt.Errorf("graceful shutdown within %s: %w", s.cfg.Server.ShutdownTimeout, errors.Join(err, closeErr))
	}
	return nil
}

// directRoute is a path prefix served ahead of the router (Server.Direct).
type directRoute struct {
	prefix  string
	handler http.Handler
}

// Direct serves requests for prefix and the paths below it with h, ahead
// of the router: none of the middleware (request metrics, panic recovery,
// security headers, body limit) runs for them, so h sets its own headers.
// It is for public, pre-rendered content that must be served as fast as a
// static web server would (the status page); its answers leave in one
// write where net/http would take two (gather.go), so h answers at once:
// it neither streams nor hijacks. Call it before Serve.
func (s *Server) Direct(prefix string, h http.Handler) {
	s.direct = directRoute{prefix: prefix, handler: h}
}

// handler is the router, behind the direct route if there is one.
func (s *Server) handler() http.Handler {
	d := s.direct
	if d.handler == nil {
		return s.engine
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasPrefix(p, d.prefix) && (len(p) == len(d.prefix) || p[len(d.prefix)] == '/') {
			serveWhole(d.handler, w, r)
			return
		}
		s.engine.ServeHTTP(w, r)
	})
}
