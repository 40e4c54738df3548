package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// stack serves the incident API over a real journal and engine.
func stack(t *testing.T) (*engine.Engine, http.Handler) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	state := triage.New(nil)
	j, err := journal.OpenBadger(journal.Options{Dir: t.TempDir()}, state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	eng := engine.New(j, state, time.Now, zap.NewNop(), prometheus.NewRegistry())
	r := gin.New()
	NewIncidents(state, eng, func(*gin.Context) string { return "tester" }).Register(r)
	return eng, r
}

func submit(t *testing.T, eng *engine.Engine, services ...string) {
	t.Helper()
	var sigs []signal.Signal
	for _, svc := range services {
		labels := map[string]string{"alertname": "Down", "service": svc}
		sigs = append(sigs, signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert,
			Fingerprint: signal.Fingerprint(labels), Status: signal.StatusFiring,
			Labels: labels, StartsAt: time.Now()})
	}
	if _, err := eng.Submit(context.Background(), sigs); err != nil {
		t.Fatal(err)
	}
}

func do(h http.Handler, method, path, body string) (int, map[string]any) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func TestListFiltersAndPages(t *testing.T) {
	eng, h := stack(t)
	for i := range 5 {
		submit(t, eng, fmt.Sprintf("svc-%d", i))
	}
	code, body := do(h, "GET", "/api/v1/incidents?limit=2", "")
	incs := body["incidents"].([]any)
	if code != 200 || len(incs) != 2 || incs[0].(map[string]any)["key"] != "INC-5" || body["nextCursor"] != "4" {
		t.Fatalf("page 1: %d %v", code, body)
	}
	_, body = do(h, "GET", "/api/v1/incidents?limit=2&cursor=4", "")
	if incs := body["incidents"].([]any); incs[0].(map[string]any)["key"] != "INC-3" {
		t.Fatalf("page 2: %v", body)
	}
	_, body = do(h, "GET", "/api/v1/incidents?service=svc-2", "")
	if incs := body["incidents"].([]any); len(incs) != 1 || incs[0].(map[string]any)["key"] != "INC-3" {
		t.Fatalf("by service: %v", body)
	}
	for _, q := range []string{"status=bogus", "limit=0", "limit=abc", "cursor=x"} {
		if code, _ := do(h, "GET", "/api/v1/incidents?"+q, ""); code != 400 {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
}

func TestActionsAnswerLikeTheStateSays(t *testing.T) {
	eng, h := stack(t)
	submit(t, eng, "api")
	tests := []struct {
		method, path, body string
		want               int
		check              func(map[string]any) bool
	}{
		{"GET", "/api/v1/incidents/INC-9", "", 404, nil},
		{"POST", "/api/v1/incidents/INC-9/ack", "", 404, nil},
		{"POST", "/api/v1/incidents/INC-1/ack", `{"by":"alice","note":"looking"}`, 200,
			func(b map[string]any) bool { return b["status"] == "acknowledged" && b["acknowledgedBy"] == "alice" }},
		{"POST", "/api/v1/incidents/INC-1/ack", `{"by":`, 400, nil},
		{"POST", "/api/v1/incidents/INC-1/ack", `{"who":"x"}`, 400, nil},
		{"POST", "/api/v1/incidents/INC-1/severity", `{"severity":"SEV1"}`, 400, nil},
		{"POST", "/api/v1/incidents/INC-1/severity", `{"severity":"SEV7","reason":"x"}`, 400, nil},
		{"POST", "/api/v1/incidents/INC-1/severity", `{"severity":"SEV1","reason":"all down"}`, 200,
			func(b map[string]any) bool { return b["severity"] == "SEV1" && b["override"] != nil }},
		{"POST", "/api/v1/incidents/INC-1/severity", `{"clear":true}`, 200,
			func(b map[string]any) bool { return b["override"] == nil }},
		{"POST", "/api/v1/incidents/INC-1/resolve", "", 200,
			func(b map[string]any) bool { return b["status"] == "resolved" && b["resolvedBy"] == "tester" }},
		{"POST", "/api/v1/incidents/INC-1/ack", "", 409, nil},
		{"POST", "/api/v1/incidents/INC-1/resolve", "", 409, nil},
		{"GET", "/api/v1/incidents/INC-1", "", 200,
			func(b map[string]any) bool { return len(b["timeline"].([]any)) >= 6 && len(b["signals"].([]any)) == 1 }},
		{"GET", "/api/v1/incidents/INC-1?signals_offset=1", "", 200,
			func(b map[string]any) bool { return b["signals"] == nil && b["signalsTotal"] == 1.0 }},
		{"GET", "/api/v1/incidents/INC-1?signals_limit=0", "", 200,
			func(b map[string]any) bool { return b["signals"] == nil }},
		{"GET", "/api/v1/incidents/INC-1?signals_limit=5000", "", 400, nil},
		{"GET", "/api/v1/incidents/INC-1?signals_offset=-1", "", 400, nil},
	}
	for _, tt := range tests {
		code, body := do(h, tt.method, tt.path, tt.body)
		if code != tt.want || (tt.check != nil && !tt.check(body)) {
			t.Errorf("%s %s %s = %d %v, want %d", tt.method, tt.path, tt.body, code, body, tt.want)
		}
		if code >= 400 && body["error"] == "" {
			t.Errorf("%s %s: error without a message", tt.method, tt.path)
		}
	}
}
