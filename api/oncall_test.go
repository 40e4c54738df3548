package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/triage"
)

const apiOnCall = `
people:
  ada: {name: Ada, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/"}]}]}
  bob: {name: Bob, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/"}]}]}
schedules:
  primary:
    time_zone: UTC
    layers:
      - {name: all, precedence: 1, rotation: {length: weekly, hand_off: "2026-11-02T09:00", participants: [ada, bob]}}
escalation_policies:
  default:
    steps: [{escalate_after: 10m, schedules: [primary]}]
    fallback: {name: noc, webhook_configs: [{url: "http://127.0.0.1:1/noc"}]}
`

func oncallStack(t *testing.T) http.Handler {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	state := triage.New(nil)
	eng := engine.New(journal.NewMemory(state, clock), state, engine.Options{Clock: clock})
	if _, err := eng.SetOnCall(context.Background(), []oncall.File{{Name: "o.yml", Data: []byte(apiOnCall)}}); err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	NewOnCall(state, eng, clock).Register(r)
	return r
}

func TestWhoIsOnCallAndOverrides(t *testing.T) {
	h := oncallStack(t)
	code, body := do(h, "GET", "/api/v1/oncall?schedule=primary", "")
	who := body["oncall"].([]any)[0].(map[string]any)
	if code != 200 || who["person"] != "bob" || who["reason"] != `layer "all", rotation turn 3` {
		t.Fatalf("now: %d %v", code, body)
	}
	_, body = do(h, "GET", "/api/v1/oncall?schedule=primary&at=2026-11-30T10:00:00Z", "")
	if who := body["oncall"].([]any)[0].(map[string]any); who["person"] != "ada" {
		t.Errorf("next week: %v", body)
	}
	code, body = do(h, "POST", "/api/v1/oncall/overrides",
		`{"schedule":"primary","person":"ada","replaces":"bob","start":"2026-11-25T11:00:00Z","end":"2026-11-25T13:00:00Z"}`)
	if code != 201 || body["id"] == "" {
		t.Fatalf("override: %d %v", code, body)
	}
	id := body["id"].(string)
	_, body = do(h, "GET", "/api/v1/oncall", "")
	if who := body["oncall"].([]any)[0].(map[string]any); who["person"] != "ada" || who["reason"] != `override "`+id+`" (covers bob; layer "all", rotation turn 3)` {
		t.Errorf("with the override: %v", body)
	}
	if code, _ := do(h, "DELETE", "/api/v1/oncall/overrides/"+id, ""); code != 204 {
		t.Errorf("delete: %d", code)
	}
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/oncall?schedule=nope", "", 400},
		{"GET", "/api/v1/oncall?at=yesterday", "", 400},
		{"POST", "/api/v1/oncall/overrides", `{"schedule":"nope","person":"bob","start":"2026-11-25T11:00:00Z","end":"2026-11-25T13:00:00Z"}`, 400},
		{"POST", "/api/v1/oncall/overrides", `{"schedule":"primary","person":"bob","start":"2026-11-25T13:00:00Z","end":"2026-11-25T11:00:00Z"}`, 400},
		{"POST", "/api/v1/oncall/overrides", `{"schedule":"primary"}{"x"`, 400},
		{"DELETE", "/api/v1/oncall/overrides/" + id, "", 404},
	} {
		if code, body := do(h, tc.method, tc.path, tc.body); code != tc.want {
			t.Errorf("%s %s %s: %d %v, want %d", tc.method, tc.path, tc.body, code, body, tc.want)
		}
	}
}
