package console

import (
	"context"
	"encoding/base64"
	"flag"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Tokens the fake identity check knows.
const (
	adminToken  = "admin-token-0123456789"
	viewerToken = "viewer-token-0123456789"
)

// t0 is the fixed time of everything the fixture journals.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// testRules puts checkout in the catalogue and makes its outage SEV1.
const testRules = `services:
  checkout:
    display_name: Checkout
    team: payments
    component: Checkout API
    tier: 1
    customer_facing: true
    matchers:
      - '{service="checkout"}'
severity:
  rules:
    - name: checkout-down
      level: SEV1
      description: Checkout is down.
      when:
        match: '{alertname="CheckoutDown"}'
`

// fixture is a console over an engine and an in-memory journal, served
// by an httptest server, with a clock the test moves.
type fixture struct {
	t       *testing.T
	j       *journal.Memory
	eng     *engine.Engine
	srv     *httptest.Server
	mu      sync.Mutex
	now     time.Time
	revoked map[string]bool
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	f := &fixture{t: t, now: t0, revoked: map[string]bool{}}
	state := triage.New(nil)
	f.j = journal.NewMemory(state, f.clock)
	f.eng = engine.New(f.j, state, engine.Options{Clock: f.clock})
	if _, err := f.eng.SetRules(context.Background(), []rules.File{{Name: "test.yml", Data: []byte(testRules)}}); err != nil {
		t.Fatal(err)
	}
	opts.State, opts.Actor, opts.Identify, opts.Clock, opts.Archive = state, f.eng, f.identify, f.clock, f.j
	r := gin.New()
	New(opts).Register(r)
	f.srv = httptest.NewServer(r)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// identify knows the admin alice and the viewer wally, unless revoked.
func (f *fixture) identify(token string) (string, bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revoked[token] {
		return "", false, false
	}
	switch token {
	case adminToken:
		return "alice", false, true
	case viewerToken:
		return "wally", true, true
	}
	return "", false, false
}

// open submits a firing alert of service with alertname, opening an incident.
func (f *fixture) open(alertname, service string) {
	f.t.Helper()
	labels := map[string]string{"alertname": alertname, "service": service, "instance": "web-1"}
	sig := signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert,
		Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)), Status: signal.StatusFiring, Labels: signal.StringsFrom(labels), StartsAt: t0,
		Annotations: signal.StringsFrom(map[string]string{"summary": alertname + " on web-1"})}
	if _, err := f.eng.Submit(context.Background(), []signal.Signal{sig}); err != nil {
		f.t.Fatal(err)
	}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	f *fixture
	c *http.Client
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{f: f, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// response is what a request got back.
type response struct {
	code   int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) response {
	b.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.srv.URL+path, body)
	if err != nil {
		b.f.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.f.t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(data)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the first form of a page.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in:\n%s", page)
	}
	return m[1]
}

// signIn signs in with token and returns the console's CSRF token.
func (b *browser) signIn(token string) string {
	b.f.t.Helper()
	form := b.do("GET", "/console/login", nil)
	res := b.do("POST", "/console/login", url.Values{"csrf": {csrf(b.f.t, form.body)}, "token": {token}})
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/console" {
		b.f.t.Fatalf("sign-in: %d %s, want 303 to /console", res.code, res.header.Get("Location"))
	}
	page := b.do("GET", "/console", nil)
	if page.code != http.StatusOK {
		b.f.t.Fatalf("GET /console after sign-in: %d", page.code)
	}
	return csrf(b.f.t, page.body)
}

// sessionCookie is the Set-Cookie line of the session cookie in h.
func sessionCookie(h http.Header) string {
	for _, line := range h.Values("Set-Cookie") {
		if strings.HasPrefix(line, SessionCookie+"=") {
			return line
		}
	}
	return ""
}

func TestSignInSetsAStrictHttpOnlyCookie(t *testing.T) {
	for _, tt := range []struct {
		name   string
		secure bool
	}{{"http", false}, {"https", true}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{Secure: tt.secure})
			b := f.browser()
			form := b.do("GET", "/console/login", nil)
			res := b.do("POST", "/console/login", url.Values{"csrf": {csrf(t, form.body)}, "token": {adminToken}})
			line := sessionCookie(res.header)
			for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=43200"} {
				if !strings.Contains(line, want) {
					t.Errorf("session cookie %q lacks %s", line, want)
				}
			}
			if strings.Contains(line, "Secure") != tt.secure {
				t.Errorf("session cookie %q: Secure should be %v", line, tt.secure)
			}
			id := strings.TrimPrefix(strings.SplitN(line, ";", 2)[0], SessionCookie+"=")
			// Sealed: nonce, expiry, CSRF token, the sign-in token, GCM tag.
			if raw, err := base64.RawURLEncoding.DecodeString(id); err != nil || len(raw) != 12+8+csrfLen+len(adminToken)+16 {
				t.Errorf("session cookie %q: %d bytes (%v), want a sealed session", id, len(raw), err)
			}
			if strings.Contains(id, adminToken) || strings.Contains(id, base64.RawURLEncoding.EncodeToString([]byte(adminToken))) {
				t.Errorf("session cookie %q shows the token", id)
			}
		})
	}
}

func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	f := newFixture(t, Options{})
	b := f.browser()
	for _, res := range []response{b.do("GET", "/console/login", nil), b.do("GET", "/console", nil),
		b.do("POST", "/console/incidents/INC-1/ack", url.Values{})} {
		h := res.header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script") {
			t.Errorf("%d: CSP %q", res.code, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%d: headers %v", res.code, h)
		}
		if strings.Contains(res.body, "<script") {
			t.Errorf("%d: the page has a script", res.code)
		}
	}
}

func TestSignInRefusals(t *testing.T) {
	tests := []struct {
		name  string
		csrf  func(form string) string
		token string
		want  int
	}{
		{"wrong token", func(form string) string { return csrf(t, form) }, "nope", http.StatusUnauthorized},
		{"empty token", func(form string) string { return csrf(t, form) }, "", http.StatusUnauthorized},
		{"missing CSRF", func(string) string { return "" }, adminToken, http.StatusForbidden},
		{"wrong CSRF", func(string) string { return "forged" }, adminToken, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			b := f.browser()
			form := b.do("GET", "/console/login", nil)
			res := b.do("POST", "/console/login", url.Values{"csrf": {tt.csrf(form.body)}, "token": {tt.token}})
			if res.code != tt.want || sessionCookie(res.header) != "" {
				t.Fatalf("%d, session cookie %q; want %d and none", res.code, sessionCookie(res.header), tt.want)
			}
			if got := b.do("GET", "/console", nil); got.code != http.StatusSeeOther {
				t.Fatalf("GET /console after a refused sign-in: %d, want 303", got.code)
			}
		})
	}
}

// TestSessionEnds checks sign-out, expiry and a revoked token each end a
// session on the server, whatever the browser keeps.
func TestSessionEnds(t *testing.T) {
	tests := []struct {
		name string
		end  func(f *fixture, b *browser, csrf string)
	}{
		{"sign-out", func(f *fixture, b *browser, csrf string) {
			if res := b.do("POST", "/console/logout", url.Values{"csrf": {csrf}}); res.code != http.StatusSeeOther ||
				res.header.Get("Location") != "/console/login" {
				f.t.Fatalf("sign-out: %d %s", res.code, res.header.Get("Location"))
			}
		}},
		{"expiry", func(f *fixture, _ *browser, _ string) { f.advance(DefaultSessionTTL) }},
		{"token revoked", func(f *fixture, _ *browser, _ string) {
			f.mu.Lock()
			f.revoked[adminToken] = true
			f.mu.Unlock()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			b := f.browser()
			token := b.signIn(adminToken)
			u, _ := url.Parse(f.srv.URL + "/console")
			cookies := b.c.Jar.Cookies(u)
			tt.end(f, b, token)
			replay := f.browser() // keeps the old cookie, as a thief would
			replay.c.Jar.SetCookies(u, cookies)
			if res := replay.do("GET", "/console", nil); res.code != http.StatusSeeOther || res.header.Get("Location") != "/console/login" {
				t.Fatalf("GET /console with the ended session's cookie: %d %s, want 303 to the sign-in page", res.code, res.header.Get("Location"))
			}
		})
	}
}

// TestFormsWithoutTheSessionsCSRFTokenAreRefused checks that every action
// and sign-out refuse a form without the session's CSRF token with 403, and
// that nothing is journaled.
func TestFormsWithoutTheSessionsCSRFTokenAreRefused(t *testing.T) {
	f := newFixture(t, Options{})
	f.open("CheckoutDown", "checkout")
	b := f.browser()
	b.signIn(adminToken)
	other := f.browser().signIn(adminToken) // a valid token, of another session
	paths := []string{"/console/incidents/INC-1/ack", "/console/incidents/INC-1/resolve",
		"/console/incidents/INC-1/escalate", "/console/incidents/INC-1/severity", "/console/logout"}
	for _, path := range paths {
		for _, tt := range []struct {
			name string
			form url.Values
		}{
			{"missing", url.Values{"severity": {"SEV2"}, "reason": {"x"}}},
			{"empty", url.Values{"csrf": {""}, "severity": {"SEV2"}, "reason": {"x"}}},
			{"wrong", url.Values{"csrf": {"forged"}, "severity": {"SEV2"}, "reason": {"x"}}},
			{"another session's", url.Values{"csrf": {other}, "severity": {"SEV2"}, "reason": {"x"}}},
		} {
			before := f.j.LastSeq()
			if res := b.do("POST", path, tt.form); res.code != http.StatusForbidden {
				t.Errorf("%s, %s CSRF token: %d, want 403", path, tt.name, res.code)
			}
			if after := f.j.LastSeq(); after != before {
				t.Errorf("%s, %s CSRF token: journal went from %d to %d", path, tt.name, before, after)
			}
		}
	}
	if res := b.do("GET", "/console", nil); res.code != http.StatusOK {
		t.Fatalf("the refused sign-out ended the session: %d", res.code)
	}
}

func TestViewerSeesAndCannotAct(t *testing.T) {
	f := newFixture(t, Options{})
	f.open("CheckoutDown", "checkout")
	b := f.browser()
	token := b.signIn(viewerToken)
	page := b.do("GET", "/console/incidents/INC-1", nil)
	if page.code != http.StatusOK || !strings.Contains(page.body, "read-only viewer") {
		t.Fatalf("viewer's incident page: %d\n%s", page.code, page.body)
	}
	for _, button := range []string{">Acknowledge</button>", ">Resolve</button>", ">Escalate now</button>", ">Override severity</button>", "/ack\""} {
		if strings.Contains(page.body, button) {
			t.Errorf("the viewer's page offers %q", button)
		}
	}
	before := f.j.LastSeq()
	for _, action := range []string{"ack", "resolve", "escalate", "severity"} {
		res := b.do("POST", "/console/incidents/INC-1/"+action, url.Values{"csrf": {token}, "severity": {"SEV2"}, "reason": {"x"}})
		if res.code != http.StatusForbidden || !strings.Contains(res.body, "read-only viewer token") {
			t.Errorf("viewer %s: %d, want 403 saying why", action, res.code)
		}
	}
	if after := f.j.LastSeq(); after != before {
		t.Errorf("viewer actions journaled: %d to %d", before, after)
	}
}

// TestActions checks each admin action: a 303 back to the incident, whose
// page then shows it; refused ones answer why. Actions the console refuses
// journal nothing; those the state machine refuses are journaled with
// their refusal, as through the API.
func TestActions(t *testing.T) {
	tests := []struct {
		formCase
		status string // on the incident's page afterwards
	}{
		{formCase{name: "ack", path: "ack", form: url.Values{"note": {"looking"}}, want: 303, journals: true, shows: []string{"acknowledged by alice"}}, "Acknowledged"},
		{formCase{name: "resolve", path: "resolve", want: 303, journals: true, shows: []string{"resolved by alice"}}, "Resolved"},
		{formCase{name: "escalate without on-call files", path: "escalate", want: 409, journals: true, shows: []string{"no on-call files are configured"}}, "Triggered"},
		{formCase{name: "override", path: "severity", form: url.Values{"severity": {"SEV2"}, "reason": {"one region only"}}, want: 303, journals: true,
			shows: []string{"one region only"}}, "Triggered"},
		{formCase{name: "clear without override", path: "severity", form: url.Values{"clear": {"1"}}, want: 303, journals: true}, "Triggered"},
		{formCase{name: "override needs a reason", path: "severity", form: url.Values{"severity": {"SEV2"}, "reason": {" "}}, want: 400,
			shows: []string{"reason is required"}}, "Triggered"},
		{formCase{name: "unknown level", path: "severity", form: url.Values{"severity": {"SEV9"}, "reason": {"x"}}, want: 400,
			shows: []string{"no severity &#34;SEV9&#34;"}}, "Triggered"},
		{formCase{name: "note too long", path: "ack", form: url.Values{"note": {strings.Repeat("x", maxText+1)}}, want: 400,
			shows: []string{"longer than 4096 bytes"}}, "Triggered"},
		{formCase{name: "no such incident", path: "/console/incidents/INC-9/ack", want: 404, shows: []string{"no live incident &#34;INC-9&#34;"}}, "Triggered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := tt.run(t, openFixture).do("GET", "/console/incidents/INC-1", nil)
			if !strings.Contains(page.body, `<span class="status status-`+strings.ToLower(tt.status)+`">`+tt.status+"</span>") {
				t.Errorf("status is not %s:\n%s", tt.status, page.body)
			}
		})
	}
}

// TestGoldenPages compares the list and incident pages, CSRF token masked,
// with testdata/*.html; -update rewrites them.
func TestGoldenPages(t *testing.T) {
	f := newFixture(t, Options{})
	if _, err := f.eng.SetOnCall(context.Background(), []oncall.File{{Name: "o.yml", Data: []byte(testOnCall)}}); err != nil {
		t.Fatal(err)
	}
	f.open("CheckoutDown", "checkout")
	f.open("DiskFull", "batch")
	f.open("QueueStuck", "mailer")
	b := f.browser()
	token := b.signIn(adminToken)
	if res := b.do("POST", "/console/incidents/INC-2/ack", url.Values{"csrf": {token}, "note": {"on it"}}); res.code != 303 {
		t.Fatalf("ack: %d", res.code)
	}
	if res := b.do("POST", "/console/incidents/INC-3/resolve", url.Values{"csrf": {token}}); res.code != 303 {
		t.Fatalf("resolve: %d", res.code)
	}
	entry := url.Values{"csrf": {token}, "kind": {"observation"}, "text": {"errors began before the alert"}, "at": {"2026-03-01T08:58"}}
	if res := b.do("POST", "/console/incidents/INC-1/timeline", entry); res.code != 303 {
		t.Fatalf("timeline entry: %d", res.code)
	}
	role := url.Values{"csrf": {token}, "role": {"technical_lead"}, "person": {"ada"}}
	if res := b.do("POST", "/console/incidents/INC-1/roles", role); res.code != 303 {
		t.Fatalf("role: %d", res.code)
	}
	for _, tt := range []struct{ path, golden string }{
		{"/console", "list.html"},
		{"/console/incidents/INC-1", "incident.html"},
	} {
		res := b.do("GET", tt.path, nil)
		got := strings.ReplaceAll(res.body, token, "CSRF-TOKEN")
		path := filepath.Join("testdata", tt.golden)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (run go test -update and review the diff):\n%s", tt.path, path, got)
		}
	}
}

func TestSignedOutSessionsAreBounded(t *testing.T) {
	now := t0
	s, err := newSessions(nil, time.Minute, 2, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		id, _, err := s.create("t")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		now = now.Add(time.Second)
	}
	for _, id := range ids {
		s.end(id)
	}
	if s.count() != 2 {
		t.Fatalf("%d signed-out sessions remembered, want at most 2", s.count())
	}
	for i, id := range ids[1:] {
		if _, ok := s.get(id); ok {
			t.Errorf("session %d works after signing out", i+1)
		}
	}
	now = now.Add(time.Minute)
	s.end(ids[2])
	if s.count() != 0 {
		t.Fatalf("after expiry %d signed-out sessions remembered, want the expired forgotten", s.count())
	}
}

// TestSessionsSurviveAFailover signs in on one node and carries the cookie
// to another, as a failover does: the session holds where the nodes share
// the session key, and only there.
func TestSessionsSurviveAFailover(t *testing.T) {
	key := []byte("a session key shared by every node, 32+ bytes")
	tests := []struct {
		name       string
		keyA, keyB []byte
		want       int
	}{
		{"shared key", key, key, http.StatusOK},
		{"other key", key, []byte("another node's key, also 32 bytes or more"), http.StatusSeeOther},
		{"no key: one per process", nil, nil, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newFixture(t, Options{SessionKey: tt.keyA}), newFixture(t, Options{SessionKey: tt.keyB})
			ba := a.browser()
			ba.signIn(adminToken)
			ua, _ := url.Parse(a.srv.URL + "/console")
			ub, _ := url.Parse(b.srv.URL + "/console")
			bb := b.browser()
			bb.c.Jar.SetCookies(ub, ba.c.Jar.Cookies(ua))
			if res := bb.do("GET", "/console", nil); res.code != tt.want {
				t.Fatalf("GET /console on the other node: %d, want %d", res.code, tt.want)
			}
		})
	}
}

func TestTamperedSessionCookiesAreRefused(t *testing.T) {
	s, err := newSessions(nil, time.Minute, 2, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := s.create(adminToken)
	if err != nil {
		t.Fatal(err)
	}
	if sess, ok := s.get(id); !ok || sess.token != adminToken {
		t.Fatalf("the session does not open: %v %+v", ok, sess)
	}
	flipped := []byte(id)
	flipped[len(flipped)/2] ^= 1
	for _, bad := range []string{string(flipped), id[:len(id)-4], "", "AAAA", "!!!"} {
		if _, ok := s.get(bad); ok {
			t.Errorf("cookie %q opened", bad)
		}
	}
}
