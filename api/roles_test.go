package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/oncall"
)

// rolesStack serves the incident API over on-call files without a roles
// section (the three default roles) and one open incident, INC-1.
func rolesStack(t *testing.T) http.Handler {
	t.Helper()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	eng, _, h := stackAt(t, func() time.Time { return now })
	if _, err := eng.SetOnCall(context.Background(), []oncall.File{{Name: "o.yml", Data: []byte(apiOnCall)}}); err != nil {
		t.Fatal(err)
	}
	submit(t, eng, "api")
	return h
}

func TestIncidentRoles(t *testing.T) {
	h := rolesStack(t)
	tests := []struct {
		name, method, path, body string
		want                     int
		err                      string
		roles                    map[string]any // the roles the answer shows, when 200
		terms                    int            // how many role terms it shows
	}{
		{"assign", "POST", "/api/v1/incidents/INC-1/roles", `{"role":"technical_lead","person":"ada"}`, 200, "",
			map[string]any{"technical_lead": "ada"}, 1},
		{"replace", "POST", "/api/v1/incidents/INC-1/roles", `{"role":"technical_lead","person":"bob"}`, 200, "",
			map[string]any{"technical_lead": "bob"}, 2},
		{"unknown role", "POST", "/api/v1/incidents/INC-1/roles", `{"role":"chef","person":"ada"}`, 400,
			`invalid action: unknown role "chef" (defined: communications_manager, incident_manager, technical_lead)`, nil, 0},
		{"unknown person", "POST", "/api/v1/incidents/INC-1/roles", `{"role":"technical_lead","person":"zed"}`, 400,
			`invalid action: "zed" is not a person in the on-call files`, nil, 0},
		{"no person", "POST", "/api/v1/incidents/INC-1/roles", `{"role":"technical_lead"}`, 400, "person: required", nil, 0},
		{"unknown field", "POST", "/api/v1/incidents/INC-1/roles", `{"role":"technical_lead","person":"ada","x":1}`, 400,
			`body: json: unknown field "x"`, nil, 0},
		{"no incident", "POST", "/api/v1/incidents/INC-9/roles", `{"role":"technical_lead","person":"ada"}`, 404,
			`no incident "INC-9"`, nil, 0},
		{"unassign unheld", "DELETE", "/api/v1/incidents/INC-1/roles/incident_manager", "", 409,
			"conflicts with the incident's state: nobody holds incident_manager of INC-1", nil, 0},
		{"unassign", "DELETE", "/api/v1/incidents/INC-1/roles/technical_lead", "", 200, "", nil, 2},
	}
	for _, tt := range tests {
		code, body := do(h, tt.method, tt.path, tt.body)
		if code != tt.want || (tt.err != "" && body["error"] != tt.err) {
			t.Errorf("%s: %d %v, want %d %q", tt.name, code, body, tt.want, tt.err)
			continue
		}
		if code != 200 {
			continue
		}
		roles, _ := body["roles"].(map[string]any)
		terms, _ := body["roleHistory"].([]any)
		if len(roles) != len(tt.roles) || len(terms) != tt.terms {
			t.Errorf("%s: roles %v, %d terms; want %v, %d", tt.name, roles, len(terms), tt.roles, tt.terms)
		}
		for k, v := range tt.roles {
			if roles[k] != v {
				t.Errorf("%s: %s held by %v, want %v", tt.name, k, roles[k], v)
			}
		}
	}
	_, body := do(h, "GET", "/api/v1/incidents/INC-1", "")
	terms, _ := body["roleHistory"].([]any)
	if len(terms) != 2 || terms[1].(map[string]any)["to"] == nil || terms[1].(map[string]any)["by"] != "tester" {
		t.Errorf("detail's role history: %v", terms)
	}
}
