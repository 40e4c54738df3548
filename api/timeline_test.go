package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/postmortem"
	"github.com/klaxonhq/klaxon/triage"
)

// timelineStack serves the incident API and post-mortems at a clock the
// test moves, with one open incident, INC-1.
func timelineStack(t *testing.T, now *time.Time) (*journal.Memory, http.Handler) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	clock := func() time.Time { return *now }
	state := triage.New(nil)
	j := journal.NewMemory(state, clock)
	eng := engine.New(j, state, engine.Options{Clock: clock})
	r := gin.New()
	inc := NewIncidents(state, eng, j, func(*gin.Context) string { return "tester" })
	inc.Register(r)
	tpl, err := postmortem.Load("")
	if err != nil {
		t.Fatal(err)
	}
	NewPostmortems(inc, tpl, clock).Register(r)
	submit(t, eng, "api")
	return j, r
}

func TestTimelineAPI(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	_, h := timelineStack(t, &now)
	now = now.Add(10 * time.Minute)
	tests := []struct {
		name, method, path, body string
		want                     int
		err                      string
	}{
		{"post", "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"observation","text":"500s on /pay"}`, 201, ""},
		{"post earlier", "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"action","text":"restarted api-1","at":"2026-11-25T12:05:00Z"}`, 201, ""},
		{"post later", "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"note","text":"n","at":"2026-11-25T12:11:00Z"}`, 400,
			"invalid action: a timeline entry cannot say it happened at 2026-11-25T12:11:00Z, after it was posted (2026-11-25T12:10:00Z)"},
		{"absurdly early", "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"note","text":"n","at":"2020-01-01T00:00:00Z"}`, 400,
			"invalid action: a timeline entry cannot say it happened at 2020-01-01T00:00:00Z, more than 24h0m0s before INC-1 began (2026-11-25T12:00:00Z)"},
		{"no kind", "POST", "/api/v1/incidents/INC-1/timeline", `{"text":"n"}`, 400, "kind: required: one of observation, theory, experiment, action, note"},
		{"bad kind", "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"hunch","text":"n"}`, 400,
			`invalid action: a timeline entry's kind is one of observation, theory, experiment, action, note, not "hunch"`},
		{"no text", "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"note"}`, 400, "text: required"},
		{"long text", "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"note","text":"` + strings.Repeat("x", triage.MaxEntryText+1) + `"}`, 400,
			"text: longer than 4096 bytes"},
		{"huge body", "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"note","text":"` + strings.Repeat("x", 5*triage.MaxEntryText) + `"}`, 413, ""},
		{"unknown field", "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"note","text":"n","x":1}`, 400, `body: json: unknown field "x"`},
		{"no incident", "POST", "/api/v1/incidents/INC-9/timeline", `{"kind":"note","text":"n"}`, 404, `no incident "INC-9"`},
		{"correct", "PATCH", "/api/v1/incidents/INC-1/timeline/1", `{"text":"500s on /pay and /cart"}`, 200, ""},
		{"correct nothing", "PATCH", "/api/v1/incidents/INC-1/timeline/1", `{"text":"500s on /pay and /cart"}`, 400,
			"invalid action: the correction changes nothing in entry 1"},
		{"correct missing", "PATCH", "/api/v1/incidents/INC-1/timeline/7", `{"text":"x"}`, 404, "no such incident: INC-1 has no timeline entry 7"},
		{"bad id", "PATCH", "/api/v1/incidents/INC-1/timeline/x", `{"text":"x"}`, 400, "id: a timeline entry's id is a whole number from 1 to 1000"},
		{"strike with text", "POST", "/api/v1/incidents/INC-1/timeline/2/strike", `{"text":"x"}`, 400, "striking an entry takes a reason only"},
		{"strike", "POST", "/api/v1/incidents/INC-1/timeline/2/strike", `{"reason":"other incident"}`, 200, ""},
		{"strike again", "POST", "/api/v1/incidents/INC-1/timeline/2/strike", "", 409,
			"conflicts with the incident's state: timeline entry 2 of INC-1 was struck out"},
		{"read", "GET", "/api/v1/incidents/INC-1/timeline", "", 200, ""},
		{"read missing", "GET", "/api/v1/incidents/INC-9/timeline", "", 404, `no incident "INC-9"`},
	}
	for _, tt := range tests {
		code, body := do(h, tt.method, tt.path, tt.body)
		if code != tt.want || (tt.err != "" && body["error"] != tt.err) {
			t.Errorf("%s: %d %v, want %d %q", tt.name, code, body["error"], tt.want, tt.err)
		}
	}
	_, body := do(h, "GET", "/api/v1/incidents/INC-1/timeline", "")
	var human []string
	for _, it := range body["items"].([]any) {
		item := it.(map[string]any)
		if item["source"] == "human" {
			entry := item["entry"].(map[string]any)
			human = append(human, item["at"].(string)+" "+item["kind"].(string)+" "+item["message"].(string)+" by "+item["by"].(string)+
				" struck="+boolString(entry["struck"] != nil)+" revisions="+boolString(entry["revisions"] != nil))
		}
	}
	want := []string{
		"2026-11-25T12:05:00Z action restarted api-1 by tester struck=true revisions=false",
		"2026-11-25T12:10:00Z observation 500s on /pay and /cart by tester struck=false revisions=true",
	}
	if strings.Join(human, "\n") != strings.Join(want, "\n") {
		t.Errorf("human entries:\n%s\nwant\n%s", strings.Join(human, "\n"), strings.Join(want, "\n"))
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestTimelineAndPostmortemOfArchivedIncidents: both read archived
// incidents; writes to them answer 409.
func TestTimelineAndPostmortemOfArchivedIncidents(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	j, h := timelineStack(t, &now)
	for _, step := range []struct{ method, path, body string }{
		{"POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"theory","text":"the cache"}`},
		{"POST", "/api/v1/incidents/INC-1/resolve", ""},
		{"POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"note","text":"customers confirm recovery"}`},
	} {
		if code, body := do(h, step.method, step.path, step.body); code/100 != 2 {
			t.Fatalf("%s %s: %d %v", step.method, step.path, code, body)
		}
	}
	live := postmortemOf(t, h)
	now = now.Add(triage.Retention + time.Minute)
	tick(t, j, now)
	code, body := do(h, "GET", "/api/v1/incidents/INC-1/timeline", "")
	if code != 200 || body["archived"] != true || len(body["items"].([]any)) < 2 {
		t.Fatalf("archived timeline: %d %v", code, body)
	}
	if code, body := do(h, "POST", "/api/v1/incidents/INC-1/timeline", `{"kind":"note","text":"late"}`); code != 409 {
		t.Errorf("post to an archived incident: %d %v", code, body)
	}
	archived := postmortemOf(t, h)
	for _, want := range []string{"| theory | the cache | tester |", "| note | customers confirm recovery | tester |", "## Root cause", "## Action items"} {
		if !strings.Contains(archived, want) {
			t.Errorf("archived post-mortem lacks %q:\n%s", want, archived)
		}
	}
	// Only the generation time and where it came from differ.
	strip := func(s string) string { _, rest, _ := strings.Cut(s, "## Summary"); return rest }
	if strip(live) != strip(archived) {
		t.Errorf("archived post-mortem differs from the live one:\n%s\n---\n%s", live, archived)
	}
	if code, _ := do(h, "GET", "/api/v1/incidents/INC-9/postmortem", ""); code != 404 {
		t.Errorf("post-mortem of no incident: %d", code)
	}
}

func postmortemOf(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/incidents/INC-1/postmortem", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/markdown; charset=utf-8" {
		t.Fatalf("post-mortem: %d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	return rec.Body.String()
}

// tick journals a tick at now, which fires what is due, archiving included.
func tick(t *testing.T, j *journal.Memory, now time.Time) {
	t.Helper()
	data, err := triage.Encode(&triage.Entry{Tick: &triage.Tick{Due: now}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := j.Append(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
}
