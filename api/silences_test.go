package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/klaxonhq/klaxon/triage"
)

// driverSilencer journals silence changes through triage's driver, as the
// engine does through the journal: numbered, encoded, applied.
type driverSilencer struct {
	mu sync.Mutex
	d  *triage.Driver
}

func (ds *driverSilencer) Silence(_ context.Context, sc *triage.SilenceChange) (string, error) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	res, err := ds.d.Append(time.Now(), &triage.Entry{Silence: sc})
	if err != nil {
		return "", err
	}
	return res.Created, res.Err
}

// silenceStack serves the silences API over a triage state.
func silenceStack(t *testing.T) (*triage.State, http.Handler) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	state := triage.New(nil)
	d := triage.NewDriver(state)
	d.Live = true
	r := gin.New()
	NewSilences(state, &driverSilencer{d: d}, func(*gin.Context) string { return "tester" }, time.Now).Register(r)
	r.GET("/api/v2/status", Status("dev", time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)))
	return state, r
}

// raw sends a request and returns the status and body.
func raw(h http.Handler, method, path, body string) (int, []byte) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// postable is a POST /api/v2/silences body; matchers are JSON objects.
func postable(id string, start, end time.Time, matchers ...string) string {
	idField := ""
	if id != "" {
		idField = fmt.Sprintf(`"id":%q,`, id)
	}
	return fmt.Sprintf(`{%s"matchers":[%s],"startsAt":%q,"endsAt":%q,"createdBy":"ada","comment":"maintenance"}`,
		idField, strings.Join(matchers, ","), start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
}

const matchX = `{"name":"alertname","value":"X","isRegex":false}`

func postSilence(t *testing.T, h http.Handler, body string) string {
	t.Helper()
	code, data := raw(h, "POST", "/api/v2/silences", body)
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.Unmarshal(data, &out); code != 200 || err != nil || out.SilenceID == "" {
		t.Fatalf("POST %s = %d %s", body, code, data)
	}
	return out.SilenceID
}

func getSilence(t *testing.T, h http.Handler, id string) models.GettableSilence {
	t.Helper()
	code, data := raw(h, "GET", "/api/v2/silence/"+id, "")
	var gs models.GettableSilence
	if err := json.Unmarshal(data, &gs); code != 200 || err != nil {
		t.Fatalf("GET silence %s = %d %s (%v)", id, code, data, err)
	}
	if err := gs.Validate(strfmt.Default); err != nil {
		t.Fatalf("GET silence %s: not a valid GettableSilence: %v\n%s", id, err, data)
	}
	return gs
}

// Bad silences are refused with 400 (404 for an unknown id) and a message,
// as a JSON string the way Alertmanager answers, and nothing is journaled.
func TestPostSilenceRefusesBadInput(t *testing.T) {
	state, h := silenceStack(t)
	now := time.Now()
	start, end := now, now.Add(time.Hour)
	for _, tc := range []struct {
		name, body string
		want       int
		says       string
	}{
		{"malformed JSON", `{"matchers":[`, 400, "parsing silence body"},
		{"no comment", `{"matchers":[` + matchX + `],"startsAt":"` + start.Format(time.RFC3339) + `","endsAt":"` + end.Format(time.RFC3339) + `","createdBy":"a"}`, 400, "comment"},
		{"no matchers", postable("", start, end), 400, "matchers"},
		{"bad regex", postable("", start, end, `{"name":"job","value":"(","isRegex":true}`), 400, "matcher 0"},
		{"bad label name", postable("", start, end, matchX, `{"name":"1job","value":"x","isRegex":false}`), 400, "matcher 1"},
		{"matches everything", postable("", start, end, `{"name":"job","value":".*","isRegex":true}`), 400, "empty string"},
		{"end before start", postable("", end, start, matchX), 400, "start time must be before end time"},
		{"end in the past", postable("", now.Add(-2*time.Hour), now.Add(-time.Hour), matchX), 400, "end time can't be in the past"},
		{"unknown id", postable("00000000-0000-8000-8000-000000000009", start, end, matchX), 404, "silence not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := state.LastSeq()
			code, data := raw(h, "POST", "/api/v2/silences", tc.body)
			var msg string
			if err := json.Unmarshal(data, &msg); err != nil || code != tc.want || !strings.Contains(msg, tc.says) {
				t.Errorf("= %d %s, want %d with a JSON string saying %q", code, data, tc.want, tc.says)
			}
			if after := state.LastSeq(); after != before {
				t.Errorf("journaled %d entries for a refused silence", after-before)
			}
		})
	}
}

func TestSilenceLifecycleOverHTTP(t *testing.T) {
	state, h := silenceStack(t)
	now := time.Now()
	id := postSilence(t, h, postable("", now, now.Add(time.Hour), matchX, `{"name":"env","value":"prod|dev","isRegex":true,"isEqual":false}`))
	gs := getSilence(t, h, id)
	if *gs.Status.State != "active" || *gs.Comment != "maintenance" || *gs.CreatedBy != "ada" || len(gs.Matchers) != 2 ||
		*gs.Matchers[1].Name != "env" || !*gs.Matchers[1].IsRegex || *gs.Matchers[1].IsEqual {
		t.Fatalf("GET = %+v", gs)
	}

	// Extending it keeps its ID; other matchers make a new one and expire it.
	if again := postSilence(t, h, postable(id, time.Time(*gs.StartsAt), now.Add(2*time.Hour), matchX, `{"name":"env","value":"prod|dev","isRegex":true,"isEqual":false}`)); again != id {
		t.Errorf("extending gave a new id %s, want %s", again, id)
	}
	other := postSilence(t, h, postable(id, now, now.Add(time.Hour), matchX))
	if other == id || *getSilence(t, h, id).Status.State != "expired" {
		t.Errorf("changing matchers kept id %s or left it unexpired", other)
	}

	for _, tc := range []struct {
		query string
		want  []string
		code  int
	}{
		{"", []string{other, id}, 200},
		{"?expired=false", []string{other}, 200},
		{"?active=false&pending=false", []string{id}, 200},
		{"?filter=env%3D~%22prod%7Cdev%22", nil, 200}, // the stored matcher is env!~…
		{"?filter=env%21~%22prod%7Cdev%22", []string{id}, 200},
		{"?filter=alertname%3D%22X%22&filter=env%21~%22prod%7Cdev%22", []string{id}, 200},
		{"?filter=alertname", nil, 400},
		{"?active=maybe", nil, 400},
	} {
		code, data := raw(h, "GET", "/api/v2/silences"+tc.query, "")
		if code != tc.code {
			t.Errorf("GET silences%s = %d %s, want %d", tc.query, code, data, tc.code)
			continue
		}
		if code != 200 {
			continue
		}
		var list models.GettableSilences
		if err := json.Unmarshal(data, &list); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range list {
			ids = append(ids, *s.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
			t.Errorf("GET silences%s = %v, want %v", tc.query, ids, tc.want)
		}
	}

	for _, tc := range []struct {
		method, id string
		want       int
	}{
		{"DELETE", other, 200},
		{"DELETE", other, 200}, // expired already: as Alertmanager, still 200
		{"DELETE", "00000000-0000-8000-8000-000000000099", 404},
		{"GET", "00000000-0000-8000-8000-000000000099", 404},
	} {
		if code, data := raw(h, tc.method, "/api/v2/silence/"+tc.id, ""); code != tc.want {
			t.Errorf("%s %s = %d %s, want %d", tc.method, tc.id, code, data, tc.want)
		}
	}
	if v, _ := state.SilenceByID(other, time.Now()); v.State != triage.SilenceExpired {
		t.Errorf("after DELETE the silence is %s", v.State)
	}
}

func TestStatusIsWhatAmtoolReads(t *testing.T) {
	_, h := silenceStack(t)
	code, data := raw(h, "GET", "/api/v2/status", "")
	var st models.AlertmanagerStatus
	if err := json.Unmarshal(data, &st); code != 200 || err != nil {
		t.Fatalf("GET status = %d %s", code, data)
	}
	if err := st.Validate(strfmt.Default); err != nil {
		t.Fatalf("not a valid AlertmanagerStatus: %v\n%s", err, data)
	}
	if *st.VersionInfo.Version != "0.0.0-dev" || *st.Cluster.Status != "disabled" {
		t.Errorf("status = %s", data)
	}
}

func TestSemver(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3": "1.2.3", "v0.4.0": "0.4.0", "1.2.3-rc.1+abc": "1.2.3-rc.1+abc",
		"dev": "0.0.0-dev", "": "0.0.0-unknown", "v1.2 (dirty)": "0.0.0-v1-2-dirty",
	} {
		if got := semver(in); got != want {
			t.Errorf("semver(%q) = %q, want %q", in, got, want)
		}
	}
}
