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

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// stack serves the incident API over an engine and an in-memory journal.
func stack(t *testing.T) (*engine.Engine, *journal.Memory, http.Handler) {
	return stackAt(t, nil)
}

// stackAt is stack with the journal's clock.
func stackAt(t *testing.T, clock func() time.Time) (*engine.Engine, *journal.Memory, http.Handler) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	state := triage.New(nil)
	j := journal.NewMemory(state, clock)
	eng := engine.New(j, state, engine.Options{Clock: clock})
	r := gin.New()
	NewIncidents(state, eng, j, func(*gin.Context) string { return "tester" }).Register(r)
	return eng, j, r
}

func submit(t *testing.T, eng *engine.Engine, services ...string) {
	t.Helper()
	var sigs []signal.Signal
	for _, svc := range services {
		labels := map[string]string{"alertname": "Down", "service": svc}
		sigs = append(sigs, signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert,
			Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)), Status: signal.StatusFiring,
			Labels: signal.StringsFrom(labels), StartsAt: time.Now()})
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
	eng, _, h := stack(t)
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
}

// TestListRefusesFiltersThatCannotMatch checks that a status or severity
// no incident can have is a 400 naming the valid values, that a level
// matches in any case, and that an unknown service is an empty list.
func TestListRefusesFiltersThatCannotMatch(t *testing.T) {
	eng, _, h := stack(t)
	submit(t, eng, "api")
	tests := []struct {
		query string
		want  int
		err   string
		count int
	}{
		{"status=bogus", 400, `status: unknown status "bogus"; valid: open, triggered, acknowledged, resolved`, 0},
		{"severity=SEV9", 400, `severity: unknown level "SEV9"; the rules in force define SEV1, SEV2, SEV3`, 0},
		{"severity=P1", 400, `severity: unknown level "P1"; the rules in force define SEV1, SEV2, SEV3`, 0},
		{"severity=sev3", 200, "", 1},
		{"severity=SEV3", 200, "", 1},
		{"severity=sev1", 200, "", 0},
		{"service=not-in-the-catalogue", 200, "", 0},
		{"service=api", 200, "", 1},
		{"limit=0", 400, "limit: must be a whole number from 1 to 1000", 0},
		{"limit=abc", 400, "limit: must be a whole number from 1 to 1000", 0},
		{"cursor=x", 400, "cursor: not a cursor this API returned", 0},
	}
	for _, tt := range tests {
		code, body := do(h, "GET", "/api/v1/incidents?"+tt.query, "")
		if code != tt.want || (tt.err != "" && body["error"] != tt.err) {
			t.Errorf("%s: %d %v, want %d %q", tt.query, code, body["error"], tt.want, tt.err)
			continue
		}
		if field, _, _ := strings.Cut(tt.err, ":"); tt.err != "" && body["field"] != field {
			t.Errorf("%s: field %v, want %q", tt.query, body["field"], field)
		}
		if incs, _ := body["incidents"].([]any); code == 200 && len(incs) != tt.count {
			t.Errorf("%s: %d incidents, want %d", tt.query, len(incs), tt.count)
		}
	}
}

// TestSignalsParamsAreCamelCaseWithOldAliases checks signalsOffset and
// signalsLimit, and their snake_case names of the release before, which
// answer with a Warning header.
func TestSignalsParamsAreCamelCaseWithOldAliases(t *testing.T) {
	eng, _, h := stack(t)
	submit(t, eng, "api")
	tests := []struct {
		query   string
		want    int
		signals int
		warning string
	}{
		{"", 200, 1, ""},
		{"signalsOffset=1", 200, 0, ""},
		{"signalsLimit=0", 200, 0, ""},
		{"signals_offset=1", 200, 0, `299 klaxon "signals_offset is deprecated and will be removed; use signalsOffset"`},
		{"signals_limit=0", 200, 0, `299 klaxon "signals_limit is deprecated and will be removed; use signalsLimit"`},
		{"signalsLimit=5000", 400, 0, ""},
		{"signals_limit=5000", 400, 0, `299 klaxon "signals_limit is deprecated and will be removed; use signalsLimit"`},
		{"signalsOffset=-1", 400, 0, ""},
		{"signalsOffset=0&signals_offset=0", 400, 0, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "/api/v1/incidents/INC-1?"+tt.query, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body struct {
			Signals []any  `json:"signals"`
			Error   string `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if n := len(rec.Header().Values("Warning")); n > 1 {
			t.Errorf("%s: %d Warning headers, want at most one", tt.query, n)
		}
		if rec.Code != tt.want || len(body.Signals) != tt.signals || rec.Header().Get("Warning") != tt.warning {
			t.Errorf("%s: %d, %d signals, Warning %q (%s); want %d, %d, %q",
				tt.query, rec.Code, len(body.Signals), rec.Header().Get("Warning"), body.Error, tt.want, tt.signals, tt.warning)
		}
	}
}

// TestSignalHasOneStatus checks that a signal shows its effective status
// once, with no separate "firing", and when it joined the incident.
func TestSignalHasOneStatus(t *testing.T) {
	eng, _, h := stack(t)
	submit(t, eng, "api")
	_, body := do(h, "GET", "/api/v1/incidents/INC-1", "")
	sig := body["signals"].([]any)[0].(map[string]any)
	if _, dup := sig["firing"]; dup || sig["status"] != "firing" || sig["joinedAt"] == nil || sig["firstSeen"] == nil {
		t.Fatalf("signal %v: want status firing, joinedAt and firstSeen, and no firing field", sig)
	}
}

func TestActionsAnswerLikeTheStateSays(t *testing.T) {
	eng, _, h := stack(t)
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
		{"POST", "/api/v1/incidents/INC-1/severity", `{"severity":"SEV1"}`, 400, errorIs("reason: required when setting a severity")},
		{"POST", "/api/v1/incidents/INC-1/severity", `{"severity":"SEV7","reason":"x"}`, 400,
			errorIs(`severity: unknown level "SEV7"; the rules in force define SEV1, SEV2, SEV3`)},
		{"POST", "/api/v1/incidents/INC-1/severity", `{"severity":"P1"}`, 400,
			errorIs(`severity: unknown level "P1"; the rules in force define SEV1, SEV2, SEV3`)},
		{"POST", "/api/v1/incidents/INC-1/severity", `{"severity":"sev2","reason":"half down"}`, 200,
			func(b map[string]any) bool { return b["severity"] == "SEV2" }},
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
		{"GET", "/api/v1/incidents/INC-1?signalsOffset=1", "", 200,
			func(b map[string]any) bool { return b["signals"] == nil && b["signalsTotal"] == 1.0 }},
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

// errorIs checks an error answer's message, and its field: what the
// message names before its colon.
func errorIs(msg string) func(map[string]any) bool {
	field, _, _ := strings.Cut(msg, ":")
	return func(b map[string]any) bool { return b["error"] == msg && b["field"] == field }
}

// TestActionBodyMustBeOneObject checks that an action body with anything
// after its JSON object is refused and journals nothing.
func TestActionBodyMustBeOneObject(t *testing.T) {
	eng, j, h := stack(t)
	submit(t, eng, "api")
	tests := []struct {
		name, body string
		want       int
	}{
		{"a second object begun", `{"by":"a"}{"garbage`, 400},
		{"a second object", `{"by":"a"}{}`, 400},
		{"a stray word", `{"by":"a"} x`, 400},
		{"a stray bracket", `{"by":"a"}]`, 400},
		{"white space after", "{\"by\":\"a\"}\n\t ", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := j.LastSeq()
			code, body := do(h, "POST", "/api/v1/incidents/INC-1/ack", tt.body)
			if code != tt.want {
				t.Fatalf("%d %v, want %d", code, body, tt.want)
			}
			if code == 200 {
				return
			}
			if msg, _ := body["error"].(string); !strings.HasPrefix(msg, "body: ") {
				t.Errorf("error %q does not name the body", msg)
			}
			if j.LastSeq() != before {
				t.Error("a refused action was journaled")
			}
			if d, _ := eng.State().Get("INC-1", 0, 0); d.Status != triage.StatusTriggered {
				t.Errorf("incident %s after a refused ack", d.Status)
			}
		})
	}
}

// TestOverlongFieldIsNamedInStructOrder checks that with several fields
// too long, the error always names the first in the body's field order,
// whatever the map order of the day.
func TestOverlongFieldIsNamedInStructOrder(t *testing.T) {
	eng, _, h := stack(t)
	submit(t, eng, "api")
	long := strings.Repeat("x", maxText+1)
	tests := []struct {
		path, body, want string
	}{
		{"ack", fmt.Sprintf(`{"by":%q,"note":%q}`, long, long), "by: longer than 4096 bytes"},
		{"ack", fmt.Sprintf(`{"note":%q,"by":"a"}`, long), "note: longer than 4096 bytes"},
		{"severity", fmt.Sprintf(`{"severity":%q,"reason":%q}`, long, long), "reason: longer than 4096 bytes"},
		{"severity", fmt.Sprintf(`{"severity":%q,"reason":"r"}`, long), "severity: longer than 4096 bytes"},
	}
	for _, tt := range tests {
		for range 20 {
			code, body := do(h, "POST", "/api/v1/incidents/INC-1/"+tt.path, tt.body)
			if code != 400 || body["error"] != tt.want {
				t.Fatalf("%s: %d %v, want 400 %q", tt.path, code, body["error"], tt.want)
			}
		}
	}
}

// TestDetailCarriesFigures: the incident view gives the key figures its
// final message tells (time to acknowledge, pages sent, tickets, …).
func TestDetailCarriesFigures(t *testing.T) {
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	eng, _, h := stackAt(t, func() time.Time { return now })
	submit(t, eng, "api")
	now = now.Add(90 * time.Second)
	if code, _ := do(h, "POST", "/api/v1/incidents/INC-1/ack", `{"by":"alice"}`); code != 200 {
		t.Fatalf("ack: %d", code)
	}
	_, body := do(h, "GET", "/api/v1/incidents/INC-1", "")
	f, _ := body["figures"].(map[string]any)
	if f["timeToAcknowledgeSeconds"] != 90.0 || f["acknowledgedBy"] != "alice" || f["pagesSent"] != 0.0 ||
		f["tickets"] != 0.0 || f["mentions"] != 0.0 || f["alerts"] != 1.0 || f["key"] != "INC-1" {
		t.Errorf("figures %v", f)
	}
}
