package console

import (
	"net/url"
	"strings"
	"testing"
)

// TestUpdateForms: checkout's SEV1 outage gets an internal update and a
// held external one (the default policy wants approval); each form acts
// on them as an admin, or is refused without a journal entry.
func TestUpdateForms(t *testing.T) {
	tests := []struct {
		name     string
		path     string // below /console/incidents/INC-1/
		form     url.Values
		token    string
		want     int
		journals bool
		shows    string // on the incident's page after a 303, in the answer otherwise
	}{
		{"post", "updates", url.Values{"audience": {"external"}, "state": {"identified"}, "text": {"A disk failed."}}, adminToken, 303, true, "A disk failed."},
		{"post bad audience", "updates", url.Values{"audience": {"public"}, "state": {"identified"}, "text": {"x"}}, adminToken, 400, false, "audience must be internal or external"},
		{"post too long", "updates", url.Values{"audience": {"internal"}, "state": {"identified"}, "text": {strings.Repeat("x", maxText+1)}}, adminToken, 400, false, "longer than 4096 bytes"},
		{"post as viewer", "updates", url.Values{"audience": {"internal"}, "state": {"identified"}, "text": {"x"}}, viewerToken, 403, false, "read-only viewer token"},
		{"approve", "updates/2/approve", nil, adminToken, 303, true, "decided by alice"},
		{"approve published", "updates/1/approve", nil, adminToken, 409, true, "cannot be approved"},
		{"withdraw", "updates/2/withdraw", nil, adminToken, 303, true, "withdrawn"},
		{"edit", "updates/2/edit", url.Values{"text": {"Checkout is failing for some."}}, adminToken, 303, true, "Checkout is failing for some."},
		{"bad id", "updates/x/approve", nil, adminToken, 400, false, "whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			f.open("CheckoutDown", "checkout")
			b := f.browser()
			form := url.Values{"csrf": {b.signIn(tt.token)}}
			for k, v := range tt.form {
				form[k] = v
			}
			page := b.do("GET", "/console/incidents/INC-1", nil)
			if !strings.Contains(page.body, "We are currently investigating an incident that affects checkout") ||
				!strings.Contains(page.body, "Investigating issues with Checkout") {
				t.Fatalf("the automatic updates are not worded from their templates:\n%s", page.body)
			}
			before := f.j.LastSeq()
			res := b.do("POST", "/console/incidents/INC-1/"+tt.path, form)
			if res.code != tt.want {
				t.Fatalf("%d, want %d:\n%s", res.code, tt.want, res.body)
			}
			if journaled := f.j.LastSeq() != before; journaled != tt.journals {
				t.Errorf("journaled: %v, want %v", journaled, tt.journals)
			}
			if tt.want != 303 {
				if !strings.Contains(res.body, tt.shows) {
					t.Errorf("the answer does not say %q:\n%s", tt.shows, res.body)
				}
				return
			}
			if page := b.do("GET", "/console/incidents/INC-1", nil); !strings.Contains(page.body, tt.shows) {
				t.Errorf("the page does not show %q", tt.shows)
			}
		})
	}
}

func TestUpdateFormsNeedTheCSRFToken(t *testing.T) {
	f := newFixture(t, Options{})
	f.open("CheckoutDown", "checkout")
	b := f.browser()
	b.signIn(adminToken)
	before := f.j.LastSeq()
	res := b.do("POST", "/console/incidents/INC-1/updates/2/approve", url.Values{"csrf": {"forged"}})
	if res.code != 403 || f.j.LastSeq() != before {
		t.Errorf("a forged form: %d, journaled %v", res.code, f.j.LastSeq() != before)
	}
}
