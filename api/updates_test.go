package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/triage"
)

// updateStack serves the incident and update APIs over an engine.
func updateStack(t *testing.T) (*engine.Engine, *gin.Engine) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	state := triage.New(nil)
	j := journal.NewMemory(state, nil)
	eng := engine.New(j, state, engine.Options{})
	r := gin.New()
	inc := NewIncidents(state, eng, j, func(*gin.Context) string { return "tester" })
	inc.Register(r)
	NewUpdates(inc, eng).Register(r)
	return eng, r
}

// summary is the updates of a body as "id:audience/state/status[:text]".
func summary(body map[string]any) string {
	var out []string
	us, _ := body["updates"].([]any)
	for _, u := range us {
		m := u.(map[string]any)
		s := fmt.Sprintf("%v:%v/%v/%v", m["id"], m["audience"], m["state"], m["status"])
		if m["text"] != nil {
			s += ":" + m["text"].(string)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestUpdateAPI runs one incident (SEV3 under the default rules: external
// updates wait for approval) through the update endpoints in order.
func TestUpdateAPI(t *testing.T) {
	eng, h := updateStack(t)
	submit(t, eng, "api")
	long := strings.Repeat("x", triage.MaxUpdateText+1)
	steps := []struct {
		method, path, body string
		code               int
		want               string // the updates after, or the error
	}{
		{"GET", "/api/v1/incidents/INC-1/updates", "", 200, "1:internal/investigating/published 2:external/investigating/held"},
		{"GET", "/api/v1/incidents/INC-9/updates", "", 404, `no incident "INC-9"`},
		{"POST", "/api/v1/incidents/INC-1/updates/1/approve", "", 409, "conflicts with the incident's state: update 1 of INC-1 is published, so it cannot be approved"},
		{"POST", "/api/v1/incidents/INC-1/updates/2/approve", "", 200, "1:internal/investigating/published 2:external/investigating/published"},
		{"POST", "/api/v1/incidents/INC-1/updates/2/withdraw", "", 409, "conflicts with the incident's state: update 2 of INC-1 is published, so it cannot be withdrawn"},
		{"POST", "/api/v1/incidents/INC-1/updates/7/approve", "", 404, "no such incident: INC-1 has no update 7"},
		{"POST", "/api/v1/incidents/INC-1/updates/x/approve", "", 400, "id: an update's id is a whole number from 1"},
		{"POST", "/api/v1/incidents/INC-1/updates", `{"audience":"external","state":"identified","text":"A disk failed."}`, 200,
			"1:internal/investigating/published 2:external/investigating/published 3:external/identified/published:A disk failed."},
		{"POST", "/api/v1/incidents/INC-1/updates", `{"audience":"external","state":"identified","text":"` + long + `"}`, 400,
			"invalid action: an update's text is 4097 bytes, more than 4096"},
		{"POST", "/api/v1/incidents/INC-1/updates", `{"audience":"public","state":"identified","text":"x"}`, 400,
			`invalid action: audience must be internal or external, not "public"`},
		{"POST", "/api/v1/incidents/INC-1/updates", `{"audience":"external","state":"identified","text":"x","secret":1}`, 400,
			`body: json: unknown field "secret"`},
		{"PATCH", "/api/v1/incidents/INC-1/updates/3", `{"text":"A disk failed; it is being replaced."}`, 200,
			"1:internal/investigating/published 2:external/investigating/published 3:external/identified/published:A disk failed; it is being replaced."},
		{"PATCH", "/api/v1/incidents/INC-1/updates/3", `{"text":"x","state":"resolved"}`, 400, "an update's audience and state never change; only an edit takes a text"},
		{"POST", "/api/v1/incidents/INC-2/updates", `{"audience":"internal","state":"identified","text":"x"}`, 404, `no incident "INC-2"`},
	}
	for _, s := range steps {
		code, body := do(h, s.method, s.path, s.body)
		got := summary(body)
		if code != 200 {
			got, _ = body["error"].(string)
		}
		if code != s.code || got != s.want {
			t.Errorf("%s %s %.40s: %d %q\nwant %d %q", s.method, s.path, s.body, code, got, s.code, s.want)
		}
	}
}

func TestMaintenanceAPI(t *testing.T) {
	eng, h := updateStack(t)
	catalogue := "services:\n  checkout: {display_name: Checkout, customer_facing: true, tier: 1, team: shop, component: Checkout API, matchers: ['{service=\"checkout\"}']}\n"
	if _, err := eng.SetRules(context.Background(), []rules.File{{Name: "r.yml", Data: []byte(catalogue)}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	end := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	window := func(component string) string {
		return fmt.Sprintf(`{"title":"Database upgrade","components":[%q],"start":%q,"end":%q}`, component, start, end)
	}
	steps := []struct {
		method, path, body string
		code               int
		want               string // the answer's id or error, or the listing's states
	}{
		{"POST", "/api/v1/maintenances", window("Payments"), 400, `components: "Payments" is not a status-page component; they are: Checkout API`},
		{"POST", "/api/v1/maintenances", window("Checkout API"), 201, "MNT-2"},
		{"GET", "/api/v1/maintenances", "", 200, "MNT-2:scheduled"},
		{"POST", "/api/v1/maintenances", `{"title":"x","components":["Checkout API"],"start":"` + end + `","end":"` + start + `"}`, 400,
			"invalid action: a maintenance needs a start and an end after it"},
		{"POST", "/api/v1/maintenances/MNT-2/cancel", "", 200, "MNT-2"},
		{"GET", "/api/v1/maintenances", "", 200, "MNT-2:cancelled"},
		{"POST", "/api/v1/maintenances/MNT-2/cancel", "", 409, "conflicts with the incident's state: maintenance MNT-2 is cancelled"},
		{"POST", "/api/v1/maintenances/MNT-9/cancel", "", 404, `no such incident: no maintenance "MNT-9"`},
	}
	for _, s := range steps {
		code, body := do(h, s.method, s.path, s.body)
		got, _ := body["error"].(string)
		if id, ok := body["id"].(string); ok {
			got = id
		}
		if ms, ok := body["maintenances"].([]any); ok {
			var parts []string
			for _, m := range ms {
				parts = append(parts, fmt.Sprintf("%v:%v", m.(map[string]any)["id"], m.(map[string]any)["state"]))
			}
			got = strings.Join(parts, " ")
		}
		if code != s.code || got != s.want {
			t.Errorf("%s %s: %d %q\nwant %d %q", s.method, s.path, code, got, s.code, s.want)
		}
	}
}
