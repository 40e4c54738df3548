package console

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/triage"
)

// testOnCall has two people, one of whose names would run a script if the
// page did not escape it, and no roles section: the three default roles.
const testOnCall = `people:
  ada: {name: Ada, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/"}]}]}
  bob: {name: "<script>Bob</script>", time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/"}]}]}
`

// rolesFixture is a fixture with the on-call files of testOnCall and
// INC-1, whose technical lead bob was made by carol a minute after it
// opened.
func rolesFixture(t *testing.T) *fixture {
	f := newFixture(t, Options{})
	if _, err := f.eng.SetOnCall(context.Background(), []oncall.File{{Name: "o.yml", Data: []byte(testOnCall)}}); err != nil {
		t.Fatal(err)
	}
	f.open("CheckoutDown", "checkout")
	f.advance(time.Minute)
	f.act(triage.Action{Kind: triage.ActionAssignRole, Role: "technical_lead", Person: "bob", By: "carol"})
	f.advance(time.Minute)
	return f
}

// TestRoleForms assigns and unassigns INC-1's roles through its page.
func TestRoleForms(t *testing.T) {
	const bob = "&lt;script&gt;Bob&lt;/script&gt; (bob)"
	assignIM := url.Values{"role": {"incident_manager"}, "person": {"ada"}}
	tests := []formCase{
		{name: "assign", path: "roles", form: assignIM, want: 303, journals: true, shows: []string{
			`<tr><th scope="row">Incident manager</th><td>Ada (ada)</td>`,
			`<tr><td>Incident manager</td><td>Ada (ada)</td><td>2026-03-01 09:02:00 UTC</td><td>holds it still</td><td>alice</td></tr>`,
			`<tr><td>Technical lead</td><td>` + bob + `</td><td>2026-03-01 09:01:00 UTC</td><td>holds it still</td><td>carol</td></tr>`,
			`<option value="ada" selected>Ada (ada)</option>`,
			`id="unassign-incident_manager"`,
		}},
		{name: "replace", path: "roles", form: url.Values{"role": {"technical_lead"}, "person": {"ada"}}, want: 303, journals: true, shows: []string{
			`<tr><th scope="row">Technical lead</th><td>Ada (ada)</td>`,
			`<tr><td>Technical lead</td><td>` + bob + `</td><td>2026-03-01 09:01:00 UTC</td><td>2026-03-01 09:02:00 UTC</td><td>carol</td></tr>`,
			`<tr><td>Technical lead</td><td>Ada (ada)</td><td>2026-03-01 09:02:00 UTC</td><td>holds it still</td><td>alice</td></tr>`,
		}},
		{name: "unassign", path: "roles/unassign", form: url.Values{"role": {"technical_lead"}}, want: 303, journals: true, shows: []string{
			`<tr><th scope="row">Technical lead</th><td>nobody</td>`,
			`<td>2026-03-01 09:01:00 UTC</td><td>2026-03-01 09:02:00 UTC</td><td>carol</td></tr>`,
			"Technical lead: bob unassigned by alice",
		}, hides: []string{`id="unassign-technical_lead"`}},
		{name: "unassign unheld, refused by the state machine", path: "roles/unassign", form: url.Values{"role": {"incident_manager"}},
			want: 409, journals: true, shows: []string{"nobody holds incident_manager of INC-1"}},
		{name: "unknown role", path: "roles", form: url.Values{"role": {"chef <b>"}, "person": {"ada"}}, want: 400,
			shows: []string{"define no role &#34;chef &lt;b&gt;&#34; (they define communications_manager, incident_manager, technical_lead)"}},
		{name: "unassign unknown role", path: "roles/unassign", form: url.Values{"role": {"chef"}}, want: 400,
			shows: []string{"define no role &#34;chef&#34;"}},
		{name: "unknown person", path: "roles", form: url.Values{"role": {"incident_manager"}, "person": {"zed"}}, want: 400,
			shows: []string{"&#34;zed&#34; is not a person in the on-call files"}},
		{name: "no person", path: "roles", form: url.Values{"role": {"incident_manager"}}, want: 400,
			shows: []string{"&#34;&#34; is not a person in the on-call files"}},
		{name: "viewer", token: viewerToken, path: "roles", form: assignIM, want: 403, shows: []string{"read-only viewer token"}},
		{name: "viewer unassigns", token: viewerToken, path: "roles/unassign", form: url.Values{"role": {"technical_lead"}}, want: 403},
		{name: "missing CSRF token", csrf: "none", path: "roles", form: assignIM, want: 403, shows: []string{"Reload the page"}},
		{name: "wrong CSRF token", csrf: "forged", path: "roles/unassign", form: url.Values{"role": {"technical_lead"}}, want: 403},
		{name: "resolved, refused by the state machine", path: "roles", form: assignIM, want: 409, journals: true,
			before: func(f *fixture) { f.act(triage.Action{Kind: triage.ActionResolve, By: "carol"}) }, shows: []string{"INC-1 is resolved"}},
		{name: "archived", path: "roles", form: assignIM, want: 409, before: (*fixture).archive,
			shows: []string{"INC-1 was resolved and has been archived"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, rolesFixture) })
	}
}

// TestRolesSection shows the roles to viewers without forms, and says
// when no on-call files give any.
func TestRolesSection(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) *fixture
		token string
		shows []string
		hides []string
	}{
		{name: "admin", setup: rolesFixture, token: adminToken, shows: []string{
			`<tr><th scope="row">Communications manager</th><td>nobody</td>`,
			`<select id="person-technical_lead" name="person"><option value="ada">Ada (ada)</option><option value="bob" selected>&lt;script&gt;Bob&lt;/script&gt; (bob)</option></select>`,
			`action="/console/incidents/INC-1/roles/unassign"`,
		}, hides: []string{`id="unassign-incident_manager"`}},
		{name: "viewer", setup: rolesFixture, token: viewerToken,
			shows: []string{`<tr><th scope="row">Technical lead</th><td>&lt;script&gt;Bob&lt;/script&gt; (bob)</td></tr>`, "<td>carol</td>"},
			hides: []string{`action="/console/incidents/INC-1/roles`, "<th scope=\"col\">Change</th>"}},
		{name: "no on-call files", setup: func(t *testing.T) *fixture {
			f := newFixture(t, Options{})
			f.open("CheckoutDown", "checkout")
			return f
		}, token: adminToken, shows: []string{"Roles need on-call files, and none are configured."}, hides: []string{`id="roles"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkPage(t, tt.setup(t).incidentPage(tt.token), tt.shows, tt.hides)
		})
	}
}
