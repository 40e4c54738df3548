package console

import (
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
	tests := []formCase{
		{name: "observation told earlier", path: "timeline", token: adminToken,
			form: url.Values{"kind": {"observation"}, "text": {"p99 doubled on web-1"}, "at": {"2026-03-01T08:55"}}, want: 303, journals: true,
			shows: []string{`<time datetime="2026-03-01T08:55:00Z">2026-03-01 08:55:00 UTC</time> <span class="kind">observation</span> <span class="by">by alice</span> p99 doubled on web-1`,
				`<span class="tag">posted 2026-03-01 09:05:00 UTC</span>`}},
		{name: "note now, seconds and any case", path: "timeline", token: adminToken,
			form: url.Values{"kind": {"Note"}, "text": {"paged the DBA"}, "at": {""}}, want: 303, journals: true,
			shows: []string{`<span class="kind">note</span> <span class="by">by alice</span> paged the DBA<details class="entry-forms">`}, hides: []string{"posted 2026"}},
		{name: "theory with seconds", path: "timeline", token: adminToken,
			form: url.Values{"kind": {"theory"}, "text": {"the deploy"}, "at": {"2026-03-01T09:01:30"}}, want: 303, journals: true,
			shows: []string{`<time datetime="2026-03-01T09:01:30Z">`}},
		{name: "hostile text is escaped", path: "timeline", token: adminToken,
			form: url.Values{"kind": {"action"}, "text": {hostile}}, want: 303, journals: true,
			shows: []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"}, hides: []string{"<script>", "<img src=x"}},
		{name: "later than now", path: "timeline", token: adminToken,
			form: url.Values{"kind": {"note"}, "text": {"x"}, "at": {"2026-03-01T10:00"}}, want: 400, journals: true, shows: []string{"cannot say it happened at 2026-03-01T10:00:00Z, after it was posted"}},
		{name: "unknown kind", path: "timeline", token: adminToken,
			form: url.Values{"kind": {"rumour"}, "text": {"x"}}, want: 400, shows: []string{"Choose the entry&#39;s kind"}},
		{name: "no text", path: "timeline", token: adminToken,
			form: url.Values{"kind": {"note"}, "text": {"  "}}, want: 400, shows: []string{"the text is required"}},
		{name: "text too long", path: "timeline", token: adminToken,
			form: url.Values{"kind": {"note"}, "text": {strings.Repeat("x", maxText+1)}}, want: 400, shows: []string{"longer than 4096 bytes"}},
		{name: "not a time", path: "timeline", token: adminToken,
			form: url.Values{"kind": {"note"}, "text": {"x"}, "at": {"yesterday <b>"}}, want: 400, shows: []string{"&#34;yesterday &lt;b&gt;&#34; is not a date and time"}},
		{name: "viewer", path: "timeline", token: viewerToken,
			form: url.Values{"kind": {"note"}, "text": {"x"}}, want: 403, shows: []string{"read-only viewer token"}},
		{name: "forged CSRF token", path: "timeline", csrf: "forged", form: url.Values{"kind": {"note"}, "text": {"x"}}, want: 403},
		{name: "archived", path: "timeline", before: (*fixture).archive, form: url.Values{"kind": {"note"}, "text": {"x"}}, want: 409,
			shows: []string{"INC-1 was resolved and has been archived"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, func(t *testing.T) *fixture {
				f := newFixture(t, Options{})
				f.open("CheckoutDown", "checkout")
				f.advance(5 * time.Minute)
				return f
			})
		})
	}
}

// TestIncidentPageShowsMarksAndFigures: entries corrected and struck
// (through the engine, as the API does) show their marks and earlier
// versions, escaped; the key figures follow the incident; admins may
// correct or strike the entries still standing; viewers get no form.
func TestIncidentPageShowsMarksAndFigures(t *testing.T) {
	f := newFixture(t, Options{})
	f.open("CheckoutDown", "checkout")
	f.advance(4 * time.Minute)
	f.act(triage.Action{Kind: triage.ActionAck, By: "alice"})
	f.advance(time.Minute)
	f.act(triage.Action{Kind: triage.ActionTimelinePost, By: "alice", EntryKind: triage.EntryTheory, Note: "DNS " + hostile})
	f.act(triage.Action{Kind: triage.ActionTimelinePost, By: "bob", EntryKind: triage.EntryObservation, Note: "disk full"})
	f.advance(time.Minute)
	f.act(triage.Action{Kind: triage.ActionTimelineStrike, By: "carol", Entry: 1, Note: "wrong host " + hostile})
	f.act(triage.Action{Kind: triage.ActionTimelineCorrect, By: "dave", Entry: 2, Note: "disk 95% full"})
	f.advance(20 * time.Minute)
	f.act(triage.Action{Kind: triage.ActionResolve, By: "alice"})

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
			`action="/console/incidents/INC-1/timeline/2/correct"`, `<option selected>observation</option>`,
			"maxlength=\"4096\">\ndisk 95% full</textarea>", `action="/console/incidents/INC-1/timeline/2/strike"`,
		}, hides: []string{"so far", "timeline/1/correct", "timeline/1/strike"}},
		{name: "viewer", token: viewerToken, shows: []string{"<del>DNS &lt;script&gt;", "<dt>Duration</dt>"},
			hides: []string{`action="/console/incidents/INC-1/timeline`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkPage(t, f.incidentPage(tt.token), tt.shows, tt.hides) })
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

// entriesFixture is a fixture whose INC-1 holds two entries five minutes
// after it opened: 1, bob's observation "disk full", and 2, struck out.
func entriesFixture(t *testing.T) *fixture {
	f := newFixture(t, Options{})
	f.open("CheckoutDown", "checkout")
	f.advance(5 * time.Minute)
	f.act(triage.Action{Kind: triage.ActionTimelinePost, By: "bob", EntryKind: triage.EntryObservation, Note: "disk full"})
	f.act(triage.Action{Kind: triage.ActionTimelinePost, By: "bob", EntryKind: triage.EntryNote, Note: "wrong incident"})
	f.act(triage.Action{Kind: triage.ActionTimelineStrike, By: "bob", Entry: 2})
	f.advance(time.Minute)
	return f
}

// TestEntryCorrectionAndStrikeForms corrects and strikes INC-1's entries
// through its page.
func TestEntryCorrectionAndStrikeForms(t *testing.T) {
	correction := url.Values{"kind": {"theory"}, "text": {"disk 95% full"}}
	tests := []formCase{
		{name: "correct", path: "timeline/1/correct", form: correction, want: 303, journals: true, shows: []string{
			`<span class="kind">theory</span> <span class="by">by bob</span> disk 95% full`,
			`<span class="tag">corrected, last by alice 2026-03-01 09:06:00 UTC</span>`,
			`earlier: <span class="kind">observation</span> 2026-03-01 09:05:00 UTC disk full`,
			`<option selected>theory</option>`,
		}},
		{name: "correct the time", path: "timeline/1/correct", form: url.Values{"kind": {"observation"}, "text": {"disk full"}, "at": {"2026-03-01T09:02"}},
			want: 303, journals: true, shows: []string{
				`<time datetime="2026-03-01T09:02:00Z">2026-03-01 09:02:00 UTC</time> <span class="kind">observation</span> <span class="by">by bob</span> disk full <span class="tag">posted 2026-03-01 09:05:00 UTC</span>`,
				`earlier: <span class="kind">observation</span> 2026-03-01 09:05:00 UTC disk full`,
				`id="correct-at-1" name="at" type="datetime-local" step="1" value="2026-03-01T09:02:00"`,
			}},
		{name: "correct the text, the time left as shown", path: "timeline/1/correct",
			form: url.Values{"kind": {"observation"}, "text": {"disk 95% full"}, "at": {"2026-03-01T09:05:00"}}, want: 303, journals: true,
			shows: []string{`earlier: <span class="kind">observation</span> 2026-03-01 09:05:00 UTC disk full`}, hides: []string{"posted 2026-03-01"}},
		{name: "correct with a time that is not one", path: "timeline/1/correct",
			form: url.Values{"kind": {"observation"}, "text": {"disk full"}, "at": {"yesterday"}}, want: 400,
			shows: []string{"is not a date and time such as 2026-03-01T08:55 (UTC)"}},
		{name: "correct to a time after it was posted, refused by the state machine", path: "timeline/1/correct",
			form: url.Values{"kind": {"observation"}, "text": {"disk full"}, "at": {"2026-03-01T09:30"}}, want: 400, journals: true},
		{name: "correct the text only, escaped", path: "timeline/1/correct", form: url.Values{"kind": {"observation"}, "text": {hostile}},
			want: 303, journals: true, shows: []string{"<span class=\"by\">by bob</span> &lt;script&gt;alert(&#34;x&#34;)", ">\n&lt;script&gt;alert"}},
		{name: "correction that changes nothing, refused by the state machine", path: "timeline/1/correct",
			form: url.Values{"kind": {"observation"}, "text": {"disk full"}}, want: 400, journals: true, shows: []string{"the correction changes nothing in entry 1"}},
		{name: "correct a struck entry, refused by the state machine", path: "timeline/2/correct", form: correction, want: 409, journals: true,
			shows: []string{"timeline entry 2 of INC-1 was struck out"}},
		{name: "correct without text", path: "timeline/1/correct", form: url.Values{"kind": {"theory"}, "text": {" "}}, want: 400,
			shows: []string{"the text is required"}},
		{name: "correct with an unknown kind", path: "timeline/1/correct", form: url.Values{"kind": {"hunch"}, "text": {"x"}}, want: 400,
			shows: []string{"Choose the entry&#39;s kind"}},
		{name: "correct too long", path: "timeline/1/correct", form: url.Values{"kind": {"note"}, "text": {strings.Repeat("x", maxText+1)}}, want: 400,
			shows: []string{"longer than 4096 bytes"}},
		{name: "correct an unknown entry", path: "timeline/3/correct", form: correction, want: 404, shows: []string{"INC-1 has no timeline entry &#34;3&#34;"}},
		{name: "correct entry 0", path: "timeline/0/correct", form: correction, want: 404, shows: []string{"no timeline entry &#34;0&#34;"}},
		{name: "correct entry x", path: "timeline/x/correct", form: correction, want: 404, shows: []string{"no timeline entry &#34;x&#34;"}},
		{name: "strike", path: "timeline/1/strike", form: url.Values{"reason": {"other host " + hostile}}, want: 303, journals: true, shows: []string{
			`<li class="event event-observation source-human struck">`, "<del>disk full</del>",
			`<span class="tag">struck by alice 2026-03-01 09:06:00 UTC: other host &lt;script&gt;`,
		}, hides: []string{"timeline/1/strike"}},
		{name: "strike without a reason", path: "timeline/1/strike", want: 303, journals: true,
			shows: []string{`<span class="tag">struck by alice 2026-03-01 09:06:00 UTC</span>`}},
		{name: "strike again, refused by the state machine", path: "timeline/2/strike", want: 409, journals: true,
			shows: []string{"timeline entry 2 of INC-1 was struck out"}},
		{name: "strike reason too long", path: "timeline/1/strike", form: url.Values{"reason": {strings.Repeat("x", maxText+1)}}, want: 400,
			shows: []string{"longer than 4096 bytes"}},
		{name: "strike an unknown entry", path: "timeline/9/strike", want: 404, shows: []string{"INC-1 has no timeline entry &#34;9&#34;"}},
		{name: "viewer corrects", token: viewerToken, path: "timeline/1/correct", form: correction, want: 403, shows: []string{"read-only viewer token"}},
		{name: "viewer strikes", token: viewerToken, path: "timeline/1/strike", want: 403, shows: []string{"read-only viewer token"}},
		{name: "correct without the CSRF token", csrf: "none", path: "timeline/1/correct", form: correction, want: 403},
		{name: "strike with a wrong CSRF token", csrf: "forged", path: "timeline/1/strike", want: 403, shows: []string{"Reload the page"}},
		{name: "correct on a resolved incident", path: "timeline/1/correct", form: correction, want: 303, journals: true,
			before: func(f *fixture) { f.act(triage.Action{Kind: triage.ActionResolve, By: "carol"}) }, shows: []string{"disk 95% full"}},
		{name: "correct on an archived incident", path: "timeline/1/correct", form: correction, want: 409, before: (*fixture).archive,
			shows: []string{"INC-1 was resolved and has been archived"}},
		{name: "strike on an archived incident", path: "timeline/1/strike", want: 409, before: (*fixture).archive,
			shows: []string{"INC-1 was resolved and has been archived"}},
		{name: "strike on no incident", path: "/console/incidents/INC-9/timeline/1/strike", want: 404, shows: []string{"no live incident &#34;INC-9&#34;"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, entriesFixture) })
	}
}
