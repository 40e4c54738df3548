package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/klaxonhq/klaxon/config"
)

// Tokens of the test configuration.
const (
	adminToken   = "admin-token-0123456789"
	metricsToken = "metrics-token-0123456789"
	amToken      = "am-token-0123456789"
	viewerToken  = "viewer-token-0123456789"
)

// baseConfig is the test configuration; extra YAML is appended to it.
const baseConfig = `
server: {max_body_bytes: 16, shutdown_timeout: 5s}
auth:
  admin: [{name: sre, token: ` + adminToken + `}]
  metrics: [{name: prom, token: ` + metricsToken + `}]
  viewers: [{name: wallboard, token: ` + viewerToken + `}]
  ingest:
    alertmanager: {tokens: [{name: am, token: ` + amToken + `}]}
    prometheus: {open: true}
`

// fixture is a Server with test routes, its registry and its logs.
type fixture struct {
	srv  *Server
	reg  *prometheus.Registry
	logs *observer.ObservedLogs
}

// newFixture builds a Server from yaml (baseConfig when empty) with routes:
// GET /admin and GET /things/:id (admin), /api with every method (API),
// POST /ingest/am and
// POST /ingest/prom (ingest), POST /echo (reads its body) and GET /panic.
func newFixture(t *testing.T, yaml string) *fixture {
	t.Helper()
	if yaml == "" {
		yaml = baseConfig
	}
	cfg, err := config.Parse([]byte(yaml), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	reg := prometheus.NewRegistry()
	s := New(cfg, zap.New(core), reg)
	whoami := func(c *gin.Context) { c.String(http.StatusOK, Principal(c)) }
	r := s.Engine()
	r.GET("/admin", s.Admin(), whoami)
	r.GET("/things/:id", s.Admin(), whoami)
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		r.Handle(method, "/api", s.API(), whoami)
	}
	r.POST("/ingest/am", s.Ingest(config.SourceAlertmanager), whoami)
	r.POST("/ingest/prom", s.Ingest(config.SourcePrometheus), whoami)
	r.POST("/echo", func(c *gin.Context) {
		body, err := io.ReadAll(c.Request.Body)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			Fail(c, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
		c.Data(http.StatusOK, "text/plain", body)
	})
	r.GET("/panic", func(*gin.Context) { panic("handler bug") })
	return &fixture{srv: s, reg: reg, logs: logs}
}

// do sends a request to the fixture's engine; auth is the Authorization
// header, left out when empty.
func (f *fixture) do(method, target, auth string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	f.srv.Engine().ServeHTTP(w, req)
	return w
}

// jsonError decodes an {"error": ...} body.
func jsonError(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var body struct{ Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
		t.Errorf("body %q is not a JSON error", w.Body)
	}
	return body.Error
}

func TestAuthMatrix(t *testing.T) {
	f := newFixture(t, "")
	tests := []struct {
		name, method, path, auth string
		want                     int
		principal                string
	}{
		{"admin without header", "GET", "/admin", "", 401, ""},
		{"admin basic scheme", "GET", "/admin", "Basic " + adminToken, 401, ""},
		{"admin scheme only", "GET", "/admin", "Bearer", 401, ""},
		{"admin empty token", "GET", "/admin", "Bearer   ", 401, ""},
		{"admin wrong token", "GET", "/admin", "Bearer wrong-token-0123456789", 401, ""},
		{"admin token prefix", "GET", "/admin", "Bearer " + adminToken[:10], 401, ""},
		{"admin token with suffix", "GET", "/admin", "Bearer " + adminToken + "x", 401, ""},
		{"admin ingest token", "GET", "/admin", "Bearer " + amToken, 401, ""},
		{"admin metrics token", "GET", "/admin", "Bearer " + metricsToken, 401, ""},
		{"admin right token", "GET", "/admin", "Bearer " + adminToken, 200, "sre"},
		{"admin lower-case scheme", "GET", "/admin", "bearer " + adminToken, 200, "sre"},
		{"ingest without header", "POST", "/ingest/am", "", 401, ""},
		{"ingest wrong token", "POST", "/ingest/am", "Bearer " + adminToken, 401, ""},
		{"ingest right token", "POST", "/ingest/am", "Bearer " + amToken, 200, "am"},
		{"open source without header", "POST", "/ingest/prom", "", 200, Anonymous},
		{"open source with any token", "POST", "/ingest/prom", "Bearer whatever", 200, Anonymous},
		{"metrics without header", "GET", "/metrics", "", 401, ""},
		{"metrics ingest token", "GET", "/metrics", "Bearer " + amToken, 401, ""},
		{"metrics metrics token", "GET", "/metrics", "Bearer " + metricsToken, 200, ""},
		{"metrics admin token", "GET", "/metrics", "Bearer " + adminToken, 200, ""},
		{"metrics viewer token", "GET", "/metrics", "Bearer " + viewerToken, 200, ""},
		{"admin viewer token", "GET", "/admin", "Bearer " + viewerToken, 403, ""},
		{"ingest viewer token", "POST", "/ingest/am", "Bearer " + viewerToken, 401, ""},
		{"api viewer GET", "GET", "/api", "Bearer " + viewerToken, 200, "wallboard"},
		{"api viewer HEAD", "HEAD", "/api", "Bearer " + viewerToken, 200, ""},
		{"api viewer POST", "POST", "/api", "Bearer " + viewerToken, 403, ""},
		{"api viewer PUT", "PUT", "/api", "Bearer " + viewerToken, 403, ""},
		{"api viewer PATCH", "PATCH", "/api", "Bearer " + viewerToken, 403, ""},
		{"api viewer DELETE", "DELETE", "/api", "Bearer " + viewerToken, 403, ""},
		{"api admin POST", "POST", "/api", "Bearer " + adminToken, 200, "sre"},
		{"api admin DELETE", "DELETE", "/api", "Bearer " + adminToken, 200, "sre"},
		{"api metrics token", "GET", "/api", "Bearer " + metricsToken, 401, ""},
		{"api without header", "GET", "/api", "", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(tt.method, tt.path, tt.auth, nil)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.want == http.StatusUnauthorized {
				if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="klaxon"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
				jsonError(t, w)
				return
			}
			if tt.want == http.StatusForbidden {
				want := "wallboard holds a read-only viewer token: " + tt.method + " " + tt.path + " needs an admin token"
				if got := jsonError(t, w); got != want {
					t.Errorf("error %q, want %q", got, want)
				}
				return
			}
			if tt.principal != "" && w.Body.String() != tt.principal {
				t.Errorf("principal %q, want %q", w.Body, tt.principal)
			}
		})
	}
}

func TestOpenEndpoints(t *testing.T) {
	f := newFixture(t, `
auth:
  admin_open: true
  metrics_open: true
  ingest: {alertmanager: {open: true}, prometheus: {open: true}}
`)
	for _, path := range []string{"/admin", "/metrics"} {
		if w := f.do("GET", path, "", nil); w.Code != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", path, w.Code)
		}
	}
	if w := f.do("GET", "/admin", "", nil); w.Body.String() != Anonymous {
		t.Errorf("principal %q, want %q", w.Body, Anonymous)
	}
}

func TestIngestUnknownSourcePanics(t *testing.T) {
	f := newFixture(t, "")
	defer func() {
		if recover() == nil {
			t.Error("Ingest accepted an unknown source")
		}
	}()
	f.srv.Ingest("opsgenie")
}

func TestRecovery(t *testing.T) {
	f := newFixture(t, "")
	w := f.do("GET", "/panic", "", nil)
	if w.Code != http.StatusInternalServerError || jsonError(t, w) != "internal error" {
		t.Fatalf("status %d body %s, want 500 internal error", w.Code, w.Body)
	}
	entries := f.logs.FilterMessage("panic while serving a request").All()
	if len(entries) != 1 {
		t.Fatalf("%d panic log entries, want 1", len(entries))
	}
	fields := entries[0].ContextMap()
	if fields["panic"] != "handler bug" || !strings.Contains(fmt.Sprint(fields["stack"]), "server_test") {
		t.Errorf("panic log lacks the value or the stack: %v", fields)
	}
	if w := f.do("GET", "/-/healthy", "", nil); w.Code != http.StatusOK {
		t.Errorf("after a panic: status %d, want 200", w.Code)
	}
}

func TestAbortHandlerPassesThrough(t *testing.T) {
	f := newFixture(t, "")
	f.srv.Engine().GET("/abort", func(*gin.Context) { panic(http.ErrAbortHandler) })
	ts := httptest.NewServer(f.srv.Engine())
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/abort")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want the connection aborted", resp.StatusCode)
	}
	if n := len(f.logs.FilterMessage("panic while serving a request").All()); n != 0 {
		t.Errorf("an aborted handler was logged as a panic %d times", n)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, "")
	tests := []struct {
		body string
		want int
	}{
		{"", http.StatusOK},
		{strings.Repeat("x", 16), http.StatusOK},
		{strings.Repeat("x", 17), http.StatusRequestEntityTooLarge},
		{strings.Repeat("x", 1<<20), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		// A reader without a length, as a chunked request sends it.
		w := f.do("POST", "/echo", "", io.MultiReader(strings.NewReader(tt.body)))
		if w.Code != tt.want {
			t.Errorf("%d-byte body: status %d, want %d", len(tt.body), w.Code, tt.want)
		}
		if tt.want == http.StatusOK && w.Body.String() != tt.body {
			t.Errorf("%d-byte body echoed as %q", len(tt.body), w.Body)
		}
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	f := newFixture(t, "")
	w := f.do("GET", "/no/such/route", "", nil)
	if w.Code != http.StatusNotFound || jsonError(t, w) != "not found" {
		t.Errorf("status %d body %s, want 404 JSON", w.Code, w.Body)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("404 lacks X-Content-Type-Options: nosniff")
	}
	w = f.do("DELETE", "/-/healthy", "", nil)
	if w.Code != http.StatusMethodNotAllowed || jsonError(t, w) != "method not allowed" {
		t.Errorf("status %d body %s, want 405 JSON", w.Code, w.Body)
	}
	if allow := w.Header().Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("Allow %q lacks GET", allow)
	}
}

func TestHealthyAndReady(t *testing.T) {
	f := newFixture(t, "")
	for _, method := range []string{"GET", "HEAD"} {
		if w := f.do(method, "/-/healthy", "", nil); w.Code != http.StatusOK {
			t.Errorf("%s /-/healthy: status %d", method, w.Code)
		}
	}
	if w := f.do("GET", "/-/healthy", "", nil); w.Body.String() != "OK" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("/-/healthy answered %q with headers %v", w.Body, w.Header())
	}
	for _, step := range []struct {
		set, ready bool
		want       int
	}{{false, false, 503}, {true, true, 200}, {true, false, 503}} {
		if step.set {
			f.srv.SetReady(step.ready)
		}
		if w := f.do("GET", "/-/ready", "", nil); w.Code != step.want {
			t.Errorf("ready=%v: status %d, want %d", step.ready, w.Code, step.want)
		}
	}
}

func TestRequestMetrics(t *testing.T) {
	f := newFixture(t, "")
	f.do("GET", "/-/healthy", "", nil)
	f.do("GET", "/-/healthy", "", nil)
	f.do("GET", "/things/42", "", nil)
	f.do("GET", "/no/such/route/1", "", nil)
	f.do("GET", "/no/such/route/2", "", nil)
	f.do("BREW", "/-/healthy", "", nil)
	want := map[string]uint64{
		"GET /-/healthy 200":  2,
		"GET /things/:id 401": 1,
		"GET unmatched 404":   2,
		"other unmatched 405": 1,
	}
	got := map[string]uint64{}
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "klaxon_http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			got[l["method"]+" "+l["handler"]+" "+l["code"]] = m.GetHistogram().GetSampleCount()
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("request counts %v, want %v", got, want)
	}
}

func TestAccessLogHidesSecrets(t *testing.T) {
	f := newFixture(t, "")
	if w := f.do("GET", "/things/42?token=s3cret-in-query", "Bearer "+adminToken, nil); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	f.do("GET", "/things/42", "Bearer wrong-s3cret-0123456789", nil)
	entries := f.logs.FilterMessage("http request").All()
	if len(entries) != 2 {
		t.Fatalf("%d access log entries, want 2", len(entries))
	}
	first := entries[0].ContextMap()
	if first["route"] != "/things/:id" || first["status"] != int64(200) || first["principal"] != "sre" || first["method"] != "GET" {
		t.Errorf("access log fields %v", first)
	}
	if entries[1].Level != zapcore.InfoLevel || entries[1].ContextMap()["status"] != int64(401) {
		t.Errorf("a 401 is logged as %v %v", entries[1].Level, entries[1].ContextMap())
	}
	for _, e := range f.logs.All() {
		s := fmt.Sprint(e.Message, e.ContextMap())
		for _, secret := range []string{adminToken, "s3cret"} {
			if strings.Contains(s, secret) {
				t.Errorf("log entry reveals %q: %s", secret, s)
			}
		}
	}
}

func TestHeaderLimit(t *testing.T) {
	f := newFixture(t, "")
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := serve(ctx, f.srv, ln)
	defer func() { cancel(); <-done }()
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/-/healthy", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 2*maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
}

// listen opens a loopback listener on a free port.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serve runs s.Serve in a goroutine; the channel gives its result.
func serve(ctx context.Context, s *Server, ln net.Listener) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return done
}

// waitClosed returns once addr refuses connections.
func waitClosed(t *testing.T, addr string) {
	t.Helper()
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		conn.Close()
		if t.Context().Err() != nil {
			t.Fatal("test ended")
		}
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	f := newFixture(t, "")
	started, release := make(chan struct{}), make(chan struct{})
	f.srv.Engine().GET("/slow", func(c *gin.Context) {
		close(started)
		<-release
		c.String(http.StatusOK, "finished")
	})
	f.srv.SetReady(true)
	ln := listen(t)
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := serve(ctx, f.srv, ln)

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(body), err}
	}()
	<-started
	cancel()
	waitClosed(t, addr) // shutdown has begun: no new connections
	if f.srv.ready.Load() {
		t.Error("still ready while shutting down")
	}
	close(release)
	r := <-got
	if r.err != nil || r.status != http.StatusOK || r.body != "finished" {
		t.Errorf("in-flight request: %d %q %v, want 200 finished", r.status, r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestShutdownTimeout(t *testing.T) {
	f := newFixture(t, strings.Replace(baseConfig, "shutdown_timeout: 5s", "shutdown_timeout: 10ms", 1))
	started := make(chan struct{})
	f.srv.Engine().GET("/stuck", func(c *gin.Context) {
		close(started)
		<-c.Request.Context().Done()
	})
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := serve(ctx, f.srv, ln)
	clientErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/stuck")
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Serve: %v, want a deadline error", err)
	}
	if err := <-clientErr; err == nil {
		t.Error("the stuck request got an answer")
	}
}

func TestServeListenerError(t *testing.T) {
	f := newFixture(t, "")
	ln := listen(t)
	ln.Close()
	if err := f.srv.Serve(context.Background(), ln); err == nil {
		t.Error("Serve on a closed listener succeeded")
	}
}

func TestBearer(t *testing.T) {
	for _, tt := range []struct {
		header, tok string
		ok          bool
	}{
		{"Bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"Bearerabc", "", false},
		{"", "", false},
	} {
		tok, ok := bearer(tt.header)
		if tok != tt.tok || ok != tt.ok {
			t.Errorf("bearer(%q) = %q, %v; want %q, %v", tt.header, tok, ok, tt.tok, tt.ok)
		}
	}
}
