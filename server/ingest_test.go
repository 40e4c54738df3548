package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/ingest"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
)

// fakeSink records what it is given and answers as told.
type fakeSink struct {
	mu    sync.Mutex
	calls [][]signal.Signal
	dups  int   // how many of each batch to call duplicates
	err   error // returned instead of storing
}

func (s *fakeSink) Submit(ctx context.Context, sigs []signal.Signal) (engine.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return engine.Result{}, s.err
	}
	if err := ctx.Err(); err != nil {
		return engine.Result{}, fmt.Errorf("waiting for commit: %w", err)
	}
	s.calls = append(s.calls, slices.Clone(sigs)) // the handler reuses sigs once Submit returns
	return engine.Result{Accepted: len(sigs) - s.dups, Duplicates: s.dups}, nil
}

// testNow is the time test payloads are received at.
var testNow = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testServer is an IngestHandler behind a gin router, with its metrics and logs.
type testServer struct {
	router *gin.Engine
	sink   *fakeSink
	reg    *prometheus.Registry
	logs   *observer.ObservedLogs
}

func newTestServer(t *testing.T, sink *fakeSink, lim ingest.Limits) *testServer {
	t.Helper()
	s := newIngestServer(t, sink, lim)
	s.sink = sink
	return s
}

// newIngestServer serves an IngestHandler over sink, whatever it is.
func newIngestServer(t *testing.T, sink Sink, lim ingest.Limits) *testServer {
	t.Helper()
	gin.SetMode(gin.TestMode)
	core, logs := observer.New(zapcore.DebugLevel)
	reg := prometheus.NewRegistry()
	h := NewIngestHandler(sink, lim, func() time.Time { return testNow }, zap.New(core), reg)
	r := gin.New()
	r.POST("/ingest/alertmanager", h.Webhook)
	r.POST("/api/v2/alerts", h.AlertsV2)
	return &testServer{router: r, reg: reg, logs: logs}
}

// do sends a POST to path with body and content type, and returns the answer.
func (s *testServer) do(ctx context.Context, path, contentType string, body io.Reader, header ...map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range header {
		for k, v := range h {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Authorization", "Bearer s3cret-token")
	rec := httptest.NewRecorder()
	s.router.ServeHTTP(rec, req)
	return rec
}

// counter returns the value of the counter name with the given labels.
func (s *testServer) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return 0
}

// received returns klaxon_signals_received_total for source and outcome.
func (s *testServer) received(t *testing.T, src signal.Source, outcome string) float64 {
	t.Helper()
	return s.counter(t, "klaxon_signals_received_total", map[string]string{"source": string(src), "outcome": outcome})
}

const (
	webhookPath = "/ingest/alertmanager"
	v2Path      = "/api/v2/alerts"
	jsonType    = "application/json"
)

func TestHandlers(t *testing.T) {
	fixture := func(dir, name string) string { return string(readFile(t, filepath.Join("testdata", dir, name))) }
	cases := []struct {
		name        string
		path        string
		contentType string
		body        string
		header      map[string]string
		lim         ingest.Limits
		sinkErr     error
		dups        int

		wantCode     int
		wantBody     string // exact, if set
		wantHeader   map[string]string
		wantSubmits  int
		wantAccepted float64
		wantDups     float64
		wantRejected float64
		wantThrottle float64
	}{
		{name: "webhook firing", path: webhookPath, contentType: jsonType, body: fixture("webhook", "firing.json"),
			wantCode: 200, wantBody: `{"accepted":2,"duplicates":0}`, wantSubmits: 1, wantAccepted: 2},
		{name: "webhook redelivered", path: webhookPath, contentType: jsonType, body: fixture("webhook", "firing.json"), dups: 2,
			wantCode: 200, wantBody: `{"accepted":0,"duplicates":2}`, wantSubmits: 1, wantDups: 2},
		{name: "webhook charset", path: webhookPath, contentType: "application/json; charset=utf-8", body: fixture("webhook", "resolved.json"),
			wantCode: 200, wantBody: `{"accepted":2,"duplicates":0}`, wantSubmits: 1, wantAccepted: 2},
		{name: "webhook empty", path: webhookPath, contentType: jsonType, body: fixture("webhook", "empty_alerts.json"),
			wantCode: 200, wantBody: `{"accepted":0,"duplicates":0}`},
		{name: "v2 prometheus", path: v2Path, contentType: jsonType, body: fixture("v2", "prometheus.json"),
			wantCode: 200, wantBody: "", wantSubmits: 1, wantAccepted: 2},
		{name: "v2 mixed case type", path: v2Path, contentType: "Application/JSON;Charset=UTF-8", body: fixture("v2", "prometheus.json"),
			wantCode: 200, wantBody: "", wantSubmits: 1, wantAccepted: 2},
		{name: "v2 empty", path: v2Path, contentType: jsonType, body: "[]", wantCode: 200, wantBody: ""},
		{name: "no content type", path: v2Path, body: "[]",
			wantCode: 415, wantBody: `{"error":"Content-Type must be application/json"}`, wantRejected: 1},
		{name: "text content type", path: webhookPath, contentType: "text/plain", body: fixture("webhook", "firing.json"),
			wantCode: 415, wantRejected: 1},
		{name: "latin1", path: webhookPath, contentType: "application/json; charset=iso-8859-1", body: fixture("webhook", "firing.json"),
			wantCode: 415, wantBody: `{"error":"JSON must be UTF-8, not charset \"iso-8859-1\""}`, wantRejected: 1},
		{name: "gzipped", path: v2Path, contentType: jsonType, body: "\x1f\x8b", header: map[string]string{"Content-Encoding": "gzip"},
			wantCode: 415, wantBody: `{"error":"Content-Encoding \"gzip\" is not supported; send the JSON uncompressed"}`, wantRejected: 1},
		{name: "identity encoding", path: v2Path, contentType: jsonType, body: "[]", header: map[string]string{"Content-Encoding": "identity"},
			wantCode: 200},
		{name: "too large", path: webhookPath, contentType: jsonType, body: fixture("webhook", "firing.json"), lim: ingest.Limits{MaxBodyBytes: 100},
			wantCode: 413, wantBody: `{"error":"request body is larger than 100 bytes"}`, wantRejected: 1},
		{name: "just fits", path: v2Path, contentType: jsonType, body: `[{"labels":{"a":"b"}}]`, lim: ingest.Limits{MaxBodyBytes: 22},
			wantCode: 200, wantSubmits: 1, wantAccepted: 1},
		{name: "bad alert", path: webhookPath, contentType: jsonType, body: fixture("webhook", "bad_status.json"),
			wantCode: 400, wantBody: `{"error":"alerts[1].status: must be \"firing\" or \"resolved\", got \"pending\"","field":"alerts[1].status"}`,
			wantRejected: 2},
		{name: "bad v2 alert", path: v2Path, contentType: jsonType, body: fixture("v2", "bad_ends_before_starts.json"),
			wantCode: 400, wantBody: `{"error":"alerts[0].endsAt: must not be before startsAt","field":"alerts[0].endsAt"}`, wantRejected: 2},
		{name: "malformed", path: v2Path, contentType: jsonType, body: `[{"labels":`,
			wantCode: 400, wantBody: `{"error":"malformed JSON after 11 bytes: unexpected end of JSON input"}`, wantRejected: 1},
		{name: "unavailable", path: webhookPath, contentType: jsonType, body: fixture("webhook", "firing.json"),
			sinkErr:  fmt.Errorf("append batch: %w", journal.ErrUnavailable),
			wantCode: 503, wantBody: `{"error":"store unavailable; retry later"}`, wantHeader: map[string]string{"Retry-After": "1"}},
		{name: "overloaded", path: webhookPath, contentType: jsonType, body: fixture("webhook", "firing.json"),
			sinkErr:  fmt.Errorf("%w: new alerts would make 11 active, over the limit of 10", engine.ErrOverloaded),
			wantCode: 429, wantHeader: map[string]string{"Retry-After": "60"}, wantThrottle: 2,
			wantBody: `{"error":"too many active alerts: new alerts would make 11 active, over the limit of 10; resolved alerts and re-sends of active ones are still accepted"}`},
		{name: "closed", path: v2Path, contentType: jsonType, body: fixture("v2", "prometheus.json"), sinkErr: journal.ErrClosed,
			wantCode: 503, wantHeader: map[string]string{"Retry-After": "1"}},
		{name: "sink broken", path: v2Path, contentType: jsonType, body: fixture("v2", "prometheus.json"), sinkErr: errors.New("encode entry: boom"),
			wantCode: 500, wantBody: `{"error":"internal error storing signals"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, &fakeSink{err: tc.sinkErr, dups: tc.dups}, tc.lim)
			rec := s.do(t.Context(), tc.path, tc.contentType, strings.NewReader(tc.body), tc.header)
			if rec.Code != tc.wantCode {
				t.Errorf("status %d, want %d; body %s", rec.Code, tc.wantCode, rec.Body)
			}
			if tc.wantBody != "" || tc.wantCode == 200 {
				if got := rec.Body.String(); got != tc.wantBody {
					t.Errorf("body\n got: %s\nwant: %s", got, tc.wantBody)
				}
			}
			if tc.wantCode != 200 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Errorf("error answer Content-Type %q", rec.Header().Get("Content-Type"))
			}
			for k, v := range tc.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if len(s.sink.calls) != tc.wantSubmits {
				t.Errorf("%d submits, want %d", len(s.sink.calls), tc.wantSubmits)
			}
			src := signal.SourceAlertmanager
			if tc.path == v2Path {
				src = signal.SourcePrometheus
			}
			for _, call := range s.sink.calls {
				for _, sig := range call {
					if sig.Source != src {
						t.Errorf("signal source %q, want %q", sig.Source, src)
					}
				}
			}
			for outcome, want := range map[string]float64{"accepted": tc.wantAccepted, "duplicate": tc.wantDups, "rejected": tc.wantRejected, "throttled": tc.wantThrottle} {
				if got := s.received(t, src, outcome); got != want {
					t.Errorf("%s %s = %v, want %v", src, outcome, got, want)
				}
			}
			for _, e := range s.logs.All() {
				if strings.Contains(fmt.Sprint(e.ContextMap()), "s3cret") {
					t.Errorf("log entry %q leaks a header", e.Message)
				}
			}
		})
	}
}

// TestBodyLimitWithoutLength checks the body limit when the sender does not
// say how long the body is.
func TestBodyLimitWithoutLength(t *testing.T) {
	s := newTestServer(t, &fakeSink{}, ingest.Limits{MaxBodyBytes: 64})
	body := io.MultiReader(strings.NewReader(`[{"labels":{"a":"`), strings.NewReader(strings.Repeat("x", 100)+`"}}]`))
	rec := s.do(t.Context(), v2Path, jsonType, body) // not a known reader type: ContentLength stays unknown
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", rec.Code)
	}
	if len(s.sink.calls) != 0 {
		t.Error("oversized body was submitted")
	}
}

// TestTruncatedAlerts checks that alerts Alertmanager left out are counted
// and logged.
func TestTruncatedAlerts(t *testing.T) {
	s := newTestServer(t, &fakeSink{}, ingest.Limits{})
	body := readFile(t, filepath.Join("testdata", "webhook", "truncated.json"))
	if rec := s.do(t.Context(), webhookPath, jsonType, bytes.NewReader(body)); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := s.counter(t, "klaxon_alertmanager_truncated_alerts_total", nil); got != 3 {
		t.Errorf("truncated alerts counter %v, want 3", got)
	}
	warns := s.logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warns) != 1 {
		t.Fatalf("%d warnings, want 1", len(warns))
	}
	fields := warns[0].ContextMap()
	if fields["group_key"] != `{}:{alertname="HighErrorRate"}` || fields["truncated_alerts"] != uint64(3) {
		t.Errorf("warning fields %v", fields)
	}
}

// TestCancelled checks that a request whose context ends before its
// signals are stored is not answered 2xx.
func TestCancelled(t *testing.T) {
	s := newTestServer(t, &fakeSink{}, ingest.Limits{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	body := readFile(t, filepath.Join("testdata", "v2", "prometheus.json"))
	rec := s.do(ctx, v2Path, jsonType, bytes.NewReader(body))
	if rec.Code < 300 {
		t.Errorf("cancelled request answered %d", rec.Code)
	}
	if len(s.sink.calls) != 0 {
		t.Error("cancelled request was stored")
	}
	if errs := s.logs.FilterLevelExact(zapcore.ErrorLevel).Len(); errs != 0 {
		t.Errorf("%d error logs for a cancelled request", errs)
	}
}

// TestRejectedBodyLogTruncated checks that a rejected body is never logged
// in full.
func TestRejectedBodyLogTruncated(t *testing.T) {
	s := newTestServer(t, &fakeSink{}, ingest.Limits{})
	body := `[{"labels":{}, "annotations":{"big":"` + strings.Repeat("x", 10000) + `"}}]`
	if rec := s.do(t.Context(), v2Path, jsonType, strings.NewReader(body)); rec.Code != 400 {
		t.Fatalf("status %d", rec.Code)
	}
	for _, e := range s.logs.All() {
		for k, v := range e.ContextMap() {
			if str, ok := v.(string); ok && len(str) > maxLoggedBody {
				t.Errorf("log field %s is %d bytes long", k, len(str))
			}
		}
	}
}

// TestMetricsBeforeTraffic checks that every series exists from the start,
// so that rate() and alerts on them work before the first rejection.
func TestMetricsBeforeTraffic(t *testing.T) {
	s := newTestServer(t, &fakeSink{}, ingest.Limits{})
	for _, src := range []signal.Source{signal.SourceAlertmanager, signal.SourcePrometheus} {
		for _, outcome := range []string{"accepted", "duplicate", "rejected", "throttled"} {
			if got := s.received(t, src, outcome); got != 0 {
				t.Errorf("%s %s = %v", src, outcome, got)
			}
		}
	}
}
