package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

// hostile is text that would run a script if the page did not escape it.
const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>`

// TestTimelineEntryForm posts human entries through the incident page's
// form: accepted ones land on the merged timeline with their kind, the
// time they tell, author and text (escaped); refused ones say why and,
// when the console refuses them, journal nothing.
func TestTimelineEntryForm(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		form     url.Values
		want     int
		journals bool
		shows    []string // on the incident's page after a 303, in the answer otherwise
		hides    []string // never on the page
	}{
		{name: "observation told earlier", token: adminToken,
			form: url.Values{"kind": {"observation"}, "text": {"p99 doubled on web-1"}, "at": {"2026-03-01T08:55"}}, want: 303, journals: true,
			shows: []string{`<time datetime="2026-03-01T08:55:00Z">2026-03-01 08:55:00 UTC</time> <span class="kind">observation</span> <span class="by">by alice</span> p99 doubled on web-1`,
				`<span class="tag">posted 2026-03-01 09:05:00 UTC</span>`}},
		{name: "note now, seconds and any case", token: adminToken,
			form: url.Values{"kind": {"Note"}, "text": {"paged the DBA"}, "at": {""}}, want: 303, journals: true,
			shows: []string{`<span class="kind">note</span> <span class="by">by alice</span> paged the DBA</li>`}, hides: []string{"posted 2026"}},
		{name: "theory with seconds", token: adminToken,
			form: url.Values{"kind": {"theory"}, "text": {"the deploy"}, "at": {"2026-03-01T09:01:30"}}, want: 303, journals: true,
			shows: []string{`<time datetime="2026-03-01T09:01:30Z">`}},
		{name: "hostile text is escaped", token: adminToken,
			form: url.Values{"kind": {"action"}, "text": {hostile}}, want: 303, journals: true,
			shows: []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"}, hides: []string{"<script>", "<img src=x"}},
		{name: "later than now", token: adminToken,
			form: url.Values{"kind": {"note"}, "text": {"x"}, "at": {"2026-03-01T10:00"}}, want: 400, journals: true, shows: []string{"cannot say it happened at 2026-03-01T10:00:00Z, after it was posted"}},
		{name: "unknown kind", token: adminToken,
			form: url.Values{"kind": {"rumour"}, "text": {"x"}}, want: 400, shows: []string{"Choose the entry&#39;s kind"}},
		{name: "no text", token: adminToken,
			form: url.Values{"kind": {"note"}, "text": {"  "}}, want: 400, shows: []string{"the text is required"}},
		{name: "text too long", token: adminToken,
			form: url.Values{"kind": {"note"}, "text": {strings.Repeat("x", maxText+1)}}, want: 400, shows: []string{"longer than 4096 bytes"}},
		{name: "not a time", token: adminToken,
			form: url.Values{"kind": {"note"}, "text": {"x"}, "at": {"yesterday <b>"}}, want: 400, shows: []string{"&#34;yesterday &lt;b&gt;&#34; is not a date and time"}},
		{name: "viewer", token: viewerToken,
			form: url.Values{"kind": {"note"}, "text": {"x"}}, want: 403, shows: []string{"read-only viewer token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			f.open("CheckoutDown", "checkout")
			f.advance(5 * time.Minute)
			b := f.browser()
			form := url.Values{"csrf": {b.signIn(tt.token)}}
			for k, v := range tt.form {
				form[k] = v
			}
			before := f.j.LastSeq()
			res := b.do("POST", "/console/incidents/INC-1/timeline", form)
			if res.code != tt.want {
				t.Fatalf("%d, want %d:\n%s", res.code, tt.want, res.body)
			}
			if journaled := f.j.LastSeq() != before; journaled != tt.journals {
				t.Errorf("journaled: %v, want %v", journaled, tt.journals)
			}
			body := res.body
			if tt.want == http.StatusSeeOther {
				if loc := res.header.Get("Location"); loc != "/console/incidents/INC-1" {
					t.Errorf("redirect to %q", loc)
				}
				body = b.do("GET", "/console/incidents/INC-1", nil).body
			}
			for _, s := range tt.shows {
				if !strings.Contains(body, s) {
					t.Errorf("does not show %q:\n%s", s, body)
				}
			}
			for _, s := range tt.hides {
				if strings.Contains(body, s) {
					t.Errorf("shows %q", s)
				}
			}
		})
	}
}

func TestTimelineEntryFormNeedsTheCSRFToken(t *testing.T) {
	f := newFixture(t, Options{})
	f.open("CheckoutDown", "checkout")
	b := f.browser()
	b.signIn(adminToken)
	before := f.j.LastSeq()
	res := b.do("POST", "/console/incidents/INC-1/timeline", url.Values{"csrf": {"forged"}, "kind": {"note"}, "text": {"x"}})
	if res.code != http.StatusForbidden || f.j.LastSeq() != before {
		t.Errorf("a forged form: %d, journaled %v", res.code, f.j.LastSeq() != before)
	}
}

// TestIncidentPageShowsMarksAndFigures: entries corrected and struck
// (through the engine, as the API does) show their marks and earlier
// versions, escaped; the key figures follow the incident; viewers get no
// entry form.
func TestIncidentPageShowsMarksAndFigures(t *testing.T) {
	f := newFixture(t, Options{})
	f.open("CheckoutDown", "checkout")
	act := func(a triage.Action) {
		t.Helper()
		a.Incident = "INC-1"
		if err := f.eng.Act(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	f.advance(4 * time.Minute)
	act(triage.Action{Kind: triage.ActionAck, By: "alice"})
	f.advance(time.Minute)
	act(triage.Action{Kind: triage.ActionTimelinePost, By: "alice", EntryKind: triage.EntryTheory, Note: "DNS " + hostile})
	act(triage.Action{Kind: triage.ActionTimelinePost, By: "bob", EntryKind: triage.EntryObservation, Note: "disk full"})
	f.advance(time.Minute)
	act(triage.Action{Kind: triage.ActionTimelineStrike, By: "carol", Entry: 1, Note: "wrong host " + hostile})
	act(triage.Action{Kind: triage.ActionTimelineCorrect, By: "dave", Entry: 2, Note: "disk 95% full"})
	f.advance(20 * time.Minute)
	act(triage.Action{Kind: triage.ActionResolve, By: "alice"})

	tests := []struct {
		name  string
		token string
		shows []string
		hides []string
	}{
		{name: "admin", token: adminToken, shows: []string{
			`<li class="event event-theory source-human struck">`,
			"<del>DNS &lt;script&gt;",
			`<span class="tag">struck by carol 2026-03-01 09:06:00 UTC: wrong host &lt;script&gt;`,
			`<span class="kind">observation</span> <span class="by">by bob</span> disk 95% full`,
			`<span class="tag">corrected, last by dave 2026-03-01 09:06:00 UTC</span>`,
			`earlier: <span class="kind">observation</span> 2026-03-01 09:05:00 UTC disk full`,
			`<span class="kind">acknowledged</span>`,
			"<dt>Duration</dt><dd>26m</dd>", "<dt>Time to acknowledge</dt><dd>4m (alice)</dd>", "<dt>Pages sent</dt><dd>0</dd>",
			"<dt>Tickets</dt><dd>0</dd>", "<dt>Mentions</dt><dd>0</dd>",
			`action="/console/incidents/INC-1/timeline"`, `<option>experiment</option>`, `name="at" type="datetime-local"`,
		}, hides: []string{"<script>", "so far"}},
		{name: "viewer", token: viewerToken, shows: []string{"<del>DNS &lt;script&gt;", "<dt>Duration</dt>"},
			hides: []string{`action="/console/incidents/INC-1/timeline"`, "<script>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := f.browser()
			b.signIn(tt.token)
			page := b.do("GET", "/console/incidents/INC-1", nil)
			if page.code != http.StatusOK {
				t.Fatalf("%d", page.code)
			}
			for _, s := range tt.shows {
				if !strings.Contains(page.body, s) {
					t.Errorf("does not show %q:\n%s", s, page.body)
				}
			}
			for _, s := range tt.hides {
				if strings.Contains(page.body, s) {
					t.Errorf("shows %q", s)
				}
			}
		})
	}
}

func TestParseEntryTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{in: "", want: time.Time{}},
		{in: "2026-03-01T08:55", want: time.Date(2026, 3, 1, 8, 55, 0, 0, time.UTC)},
		{in: " 2026-03-01T08:55:07 ", want: time.Date(2026, 3, 1, 8, 55, 7, 0, time.UTC)},
		{in: "2026-03-01T09:55:00+01:00", want: time.Date(2026, 3, 1, 8, 55, 0, 0, time.UTC)},
		{in: "2026-03-01", err: true},
		{in: "08:55", err: true},
	}
	for _, tt := range tests {
		got, err := parseEntryTime(tt.in)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("parseEntryTime(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
