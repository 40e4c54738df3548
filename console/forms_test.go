package console

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

// formCase is one form posted on INC-1's page, and what must follow.
type formCase struct {
	name     string
	token    string // who signs in; adminToken when ""
	csrf     string // sent instead of the session's CSRF token when set; "none" sends none
	path     string // below /console/incidents/INC-1/, unless it starts with /
	form     url.Values
	before   func(f *fixture) // runs before signing in
	want     int
	journals bool
	shows    []string // on the incident's page after a 303, in the answer otherwise
	hides    []string // not there
}

// run posts the case's form on a fixture from setup and checks the answer,
// the journal and the page; it returns the signed-in browser.
func (tc formCase) run(t *testing.T, setup func(t *testing.T) *fixture) *browser {
	t.Helper()
	f := setup(t)
	if tc.before != nil {
		tc.before(f)
	}
	b := f.browser()
	form := url.Values{"csrf": {b.signIn(cmp.Or(tc.token, adminToken))}}
	switch tc.csrf {
	case "":
	case "none":
		delete(form, "csrf")
	default:
		form.Set("csrf", tc.csrf)
	}
	for k, v := range tc.form {
		form[k] = v
	}
	before := f.j.LastSeq()
	path := tc.path
	if !strings.HasPrefix(path, "/") {
		path = "/console/incidents/INC-1/" + path
	}
	res := b.do("POST", path, form)
	if res.code != tc.want {
		t.Fatalf("%d, want %d:\n%s", res.code, tc.want, res.body)
	}
	if journaled := f.j.LastSeq() != before; journaled != tc.journals {
		t.Errorf("journaled: %v, want %v", journaled, tc.journals)
	}
	body := res.body
	if tc.want == http.StatusSeeOther {
		if loc := res.header.Get("Location"); loc != "/console/incidents/INC-1" {
			t.Errorf("redirect to %q", loc)
		}
		body = b.do("GET", "/console/incidents/INC-1", nil).body
	}
	checkPage(t, body, tc.shows, tc.hides)
	return b
}

// openFixture is a fixture with one open incident, INC-1.
func openFixture(t *testing.T) *fixture {
	f := newFixture(t, Options{})
	f.open("CheckoutDown", "checkout")
	return f
}

// checkPage checks that a page shows each of shows and none of hides, and
// no script.
func checkPage(t *testing.T, body string, shows, hides []string) {
	t.Helper()
	for _, s := range shows {
		if !strings.Contains(body, s) {
			t.Errorf("does not show %q:\n%s", s, body)
		}
	}
	for _, s := range append(hides, "<script") {
		if strings.Contains(body, s) {
			t.Errorf("shows %q", s)
		}
	}
}

// incidentPage signs in with token and reads INC-1's page.
func (f *fixture) incidentPage(token string) string {
	f.t.Helper()
	b := f.browser()
	b.signIn(token)
	page := b.do("GET", "/console/incidents/INC-1", nil)
	if page.code != http.StatusOK {
		f.t.Fatalf("GET /console/incidents/INC-1: %d", page.code)
	}
	return page.body
}

// act carries out a through the engine, as the API does, on INC-1.
func (f *fixture) act(a triage.Action) {
	f.t.Helper()
	a.Incident = "INC-1"
	if err := f.eng.Act(context.Background(), a); err != nil {
		f.t.Fatal(err)
	}
}

// archive resolves INC-1 and lets it leave the live state for the archive.
func (f *fixture) archive() {
	f.t.Helper()
	f.act(triage.Action{Kind: triage.ActionResolve, By: "carol"})
	f.advance(triage.Retention + time.Minute)
	data, err := triage.Encode(&triage.Entry{Tick: &triage.Tick{Due: f.clock()}})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, _, err := f.j.Append(context.Background(), data, nil); err != nil {
		f.t.Fatal(err)
	}
	if _, archived, _ := f.j.Archived("INC-1"); !archived {
		f.t.Fatal("INC-1 was not archived")
	}
}
