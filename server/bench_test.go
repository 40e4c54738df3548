package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/ingest"
)

// BenchmarkServerIngestOneAlert serves single-alert pushes through the
// whole request path but the network and the journal: the server's
// middleware, bearer-token authentication and the handler. At batch 1
// this is what each sender waits for besides the fsync.
func BenchmarkServerIngestOneAlert(b *testing.B) {
	cfg, err := config.Parse([]byte(`
auth:
  admin: [{name: sre, token: `+adminToken+`}]
  ingest:
    alertmanager: {open: true}
    prometheus: {tokens: [{name: prom, token: `+amToken+`}]}
`), "test.yml")
	if err != nil {
		b.Fatal(err)
	}
	s := New(cfg, zap.NewNop(), prometheus.NewRegistry())
	h := NewIngestHandler(nopSink{}, ingest.Limits{}, func() time.Time { return testNow }, nil, prometheus.NewRegistry())
	s.Engine().POST(v2Path, s.Ingest(config.SourcePrometheus), h.AlertsV2)
	body := []byte(v2Body("", "HighErrorRate"))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, v2Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", jsonType)
		req.Header.Set("Authorization", "Bearer "+amToken)
		rec := httptest.NewRecorder()
		s.handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
