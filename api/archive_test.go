package api

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

// TestArchivedIncidentsStayReadable: an incident past its retention has
// left the live state, and the API still shows it from the archive, lists
// it with archived=true, and refuses actions on it with 409.
func TestArchivedIncidentsStayReadable(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	eng, j, h := stackAt(t, func() time.Time { return now })
	submit(t, eng, "checkout", "search", "payments")
	for _, key := range []string{"INC-1", "INC-2"} {
		if code, body := do(h, "POST", "/api/v1/incidents/"+key+"/resolve", ""); code != 200 {
			t.Fatalf("resolve %s: %d %v", key, code, body)
		}
	}
	_, live := do(h, "GET", "/api/v1/incidents/INC-1", "")

	now = now.Add(triage.Retention + time.Minute)
	tick(t, j, now)
	if _, ok := eng.State().Get("INC-1", 0, 0); ok {
		t.Fatal("INC-1 is still live past its retention")
	}

	code, got := do(h, "GET", "/api/v1/incidents/INC-1", "")
	if code != 200 || got["archived"] != true || got["title"] != live["title"] || got["resolvedBy"] != "tester" {
		t.Fatalf("archived INC-1: %d %v", code, got)
	}
	if code, got = do(h, "GET", "/api/v1/incidents/INC-1?signalsOffset=1", ""); code != 200 || len(got["signals"].([]any)) != 0 {
		t.Errorf("archived INC-1 past its one signal: %d %v", code, got)
	}
	if code, _ := do(h, "GET", "/api/v1/incidents/INC-9", ""); code != 404 {
		t.Errorf("unknown incident: %d, want 404", code)
	}
	if code, _ := do(h, "POST", "/api/v1/incidents/INC-1/ack", ""); code != 409 {
		t.Errorf("ack of an archived incident: %d, want 409", code)
	}

	_, body := do(h, "GET", "/api/v1/incidents", "")
	if incs := body["incidents"].([]any); len(incs) != 1 || incs[0].(map[string]any)["key"] != "INC-3" {
		t.Errorf("live list: %v", body)
	}
	_, body = do(h, "GET", "/api/v1/incidents?archived=true&limit=1", "")
	incs := body["incidents"].([]any)
	if len(incs) != 1 || body["nextCursor"] == nil {
		t.Fatalf("archived page 1: %v", body)
	}
	first := incs[0].(map[string]any)["key"]
	_, body = do(h, "GET", "/api/v1/incidents?archived=true&limit=1&cursor="+body["nextCursor"].(string), "")
	incs = body["incidents"].([]any)
	if len(incs) != 1 || incs[0].(map[string]any)["key"] == first || body["nextCursor"] != nil {
		t.Errorf("archived page 2: %v", body)
	}
	_, body = do(h, "GET", "/api/v1/incidents?archived=true&service=search", "")
	if incs := body["incidents"].([]any); len(incs) != 1 || incs[0].(map[string]any)["key"] != "INC-2" {
		t.Errorf("archived by service: %v", body)
	}
	for _, q := range []string{"archived=yes", "archived=true&cursor=INC-77"} {
		if code, _ := do(h, "GET", "/api/v1/incidents?"+q, ""); code != 400 {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
}
