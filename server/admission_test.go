package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/ingest"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// v2Body is a POST /api/v2/alerts body of alerts named names, firing
// unless endsAt is given.
func v2Body(endsAt string, names ...string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"labels":{"alertname":%q,"service":"api"},"startsAt":"2026-03-14T09:00:00Z"`, n)
		if endsAt != "" {
			fmt.Fprintf(&b, `,"endsAt":%q`, endsAt)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String()
}

// TestAdmissionOverHTTP fills a real engine to its per-source limit
// through the ingest endpoint: a batch with a new alert is answered 429
// with Retry-After and nothing of it is journaled, while a resolve and a
// re-send of firing alerts are still taken, and resolved alerts free their
// places at once.
func TestAdmissionOverHTTP(t *testing.T) {
	state := triage.New(nil)
	j := journal.NewMemory(state, func() time.Time { return testNow })
	eng := engine.New(j, state, engine.Options{Limits: engine.Limits{ActiveAlerts: 10, ActiveAlertsPerSource: 2}})
	s := newIngestServer(t, eng, ingest.Limits{})

	steps := []struct {
		name   string
		body   string
		want   int
		stored bool
	}{
		{"fill to the limit", v2Body("", "A", "B"), 200, true},
		{"one new alert too many", v2Body("", "A", "C"), 429, false},
		{"re-send at the limit", v2Body("", "B"), 200, true},
		{"resolve at the limit", v2Body("2026-03-14T09:30:00Z", "A", "B"), 200, true},
		{"resolved alerts free their places", v2Body("", "D"), 200, true},
	}
	for _, st := range steps {
		before := j.LastSeq()
		rec := s.do(t.Context(), v2Path, jsonType, strings.NewReader(st.body))
		if rec.Code != st.want {
			t.Fatalf("%s: status %d, want %d: %s", st.name, rec.Code, st.want, rec.Body)
		}
		if stored := j.LastSeq() != before; stored != st.stored {
			t.Errorf("%s: journaled %v, want %v", st.name, stored, st.stored)
		}
		if st.want == 429 {
			var body ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body.Error, "over the limit of 2 per source") {
				t.Errorf("%s: body %s (%v)", st.name, rec.Body, err)
			}
			if got := rec.Header().Get("Retry-After"); got != "60" {
				t.Errorf("%s: Retry-After %q", st.name, got)
			}
		}
	}
	err := j.Read(1, func(r journal.Record) error {
		if bytes.Contains(r.Data, []byte(`"alertname":"C"`)) {
			return fmt.Errorf("record %d holds the refused alert C", r.Seq)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if got := s.received(t, signal.SourcePrometheus, "throttled"); got != 2 {
		t.Errorf("throttled = %v, want 2 (the signals of the refused batch)", got)
	}
	if got := state.Held().BySource[signal.SourcePrometheus]; got != 1 {
		t.Errorf("%d firing alerts held, want 1 (D)", got)
	}
}

// nopSink stores nothing, to measure the ingest handler alone.
type nopSink struct{}

func (nopSink) Submit(_ context.Context, sigs []signal.Signal) (engine.Result, error) {
	return engine.Result{Accepted: len(sigs)}, nil
}

func BenchmarkIngestHandlerAlertsV2(b *testing.B) {
	gin.SetMode(gin.TestMode)
	h := NewIngestHandler(nopSink{}, ingest.Limits{}, func() time.Time { return testNow }, nil, nil)
	r := gin.New()
	r.POST(v2Path, h.AlertsV2)
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprint("HighErrorRate", i)
	}
	body := []byte(v2Body("", names...))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, v2Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", jsonType)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
