package ingest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// fuzzSource fuzzes the parser of dir, seeded with its fixtures and extra
// bodies: it must never panic, must refuse with an *Error and no signals,
// or accept with signals that hold every invariant and survive a JSON
// round trip (as the journal stores them) unchanged.
func fuzzSource(f *testing.F, dir string, extra ...string) {
	addSeeds(f, dir)
	for _, s := range extra {
		f.Add([]byte(s))
	}
	p := sourceParsers[dir]
	f.Fuzz(func(t *testing.T, body []byte) {
		sigs, err := p.parse(body, testNow, Limits{})
		checkSourceFuzz(t, sigs, err, p.src, p.kind)
	})
}

// checkSourceFuzz checks one fuzzed parse result.
func checkSourceFuzz(t *testing.T, sigs []signal.Signal, err error, src signal.Source, kind signal.Kind) {
	if err != nil {
		checkFuzzResult(t, sigs, err)
		return
	}
	if len(sigs) == 0 && src == signal.SourceMastodon { // a private status
		return
	}
	checkSourceSignals(t, sigs, src, kind, Limits{})
	checkRoundTrip(t, sigs[0])
}

// checkRoundTrip checks that a signal encodes to JSON and back unchanged.
func checkRoundTrip(t *testing.T, s signal.Signal) {
	first, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back signal.Signal
	if err := json.Unmarshal(first, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", first, err)
	}
	again, _ := json.Marshal(back)
	if !bytes.Equal(first, again) || back.ID() != s.ID() || !back.StartsAt.Equal(s.StartsAt) {
		t.Fatalf("round trip changed the signal:\n%s\n%s", first, again)
	}
}

func FuzzParseTicketGeneric(f *testing.F) {
	fuzzSource(f, "tickets-generic", `{"id":1,"tags":["a","a",""],"created_at":"1970-01-01T00:00:00+0000"}`,
		`{"id":"x","url":"http://h/p","status":"CLOSED","body":"\u00e9"}`)
}

func FuzzParseZendesk(f *testing.F) {
	fuzzSource(f, "zendesk", `{"type":"zen:event-type:ticket.status_changed","detail":{"id":1},"event":{"current":"closed"}}`,
		`{"type":"zen:event-type:ticket.merged","detail":{"id":"2","organization_id":0,"requester_id":3}}`)
}

func FuzzParseJSM(f *testing.F) {
	fuzzSource(f, "jsm", `{"webhookEvent":"jira:issue_deleted","timestamp":0,"issue":{"id":"1","self":"https://h/rest/api/2/issue/1","key":"K-1"}}`,
		`{"webhookEvent":"jira:issue_updated","issue":{"id":1,"fields":{"description":{"content":[{"text":"a"}]},"resolution":{}}}}`)
}

func FuzzParseMentionGeneric(f *testing.F) {
	fuzzSource(f, "mentions-generic", `{"id":"1","platform":"P","reach":0,"repost_of":2}`)
}

func FuzzParseMastodon(f *testing.F) {
	fuzzSource(f, "mastodon", `{"event":"status.updated","object":{"id":"1","content":"<p>a<br>b","reblog":{"id":"2"}}}`,
		`{"event":"status.created","object":{"id":"1","visibility":"direct"}}`)
}

func FuzzParseX(f *testing.F) {
	fuzzSource(f, "x", `{"data":{"id":"1","author_id":"2","referenced_tweets":[{"type":"retweeted","id":"3"}]},"includes":{"users":[{"id":"2","username":"a/b"}]}}`)
}

func FuzzParseHeartbeat(f *testing.F) {
	f.Add("nightly-backup", []byte(""))
	f.Add("etl", []byte(`{"status":"fail","message":"exit 3"}`))
	f.Add("a/b", []byte(`{"status":"ok"}`))
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		sigs, err := ParseHeartbeat(name, body, testNow, Limits{})
		checkSourceFuzz(t, sigs, err, signal.SourceHeartbeat, signal.KindHeartbeat)
		if err == nil && sigs[0].Fingerprint != HeartbeatFingerprint(name) {
			t.Fatalf("fingerprint %s, want HeartbeatFingerprint(%q)", sigs[0].Fingerprint, name)
		}
	})
}

func FuzzParsePagerDutyEvent(f *testing.F) {
	addSeeds(f, "pagerduty")
	f.Add([]byte(`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"error","custom_details":"text"},"client_url":"http://c"}`))
	f.Add([]byte(`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"warning","timestamp":"2261-12-31T23:59:59.999+0000"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParsePagerDutyEvent(body, testNow, Limits{})
		if err != nil {
			if _, ok := err.(*Error); !ok || ev.Signal.Fingerprint != "" || ev.RoutingKey != "" {
				t.Fatalf("refused with %T %v and event %+v", err, err, ev)
			}
			return
		}
		checkPagerDutyEvent(t, ev)
		checkRoundTrip(t, ev.Signal)
	})
}

// FuzzVerifyZendesk: verification never panics, and a body signed with
// the secret at a fresh timestamp always verifies, while any other body
// does not.
func FuzzVerifyZendesk(f *testing.F) {
	f.Add([]byte(`{"type":"zen:event-type:ticket.created"}`), []byte("s3cr3t"), []byte("x"))
	f.Add([]byte(""), []byte("k"), []byte(""))
	f.Fuzz(func(t *testing.T, body, secret, other []byte) {
		const ts = "2026-03-14T09:47:12Z"
		now := time.Date(2026, 3, 14, 9, 47, 12, 0, time.UTC)
		sig := SignZendesk(body, ts, secret)
		err := VerifyZendesk(body, sig, ts, secret, now, DefaultZendeskWindow)
		if (err == nil) != (len(secret) > 0) {
			t.Fatalf("signed body: %v", err)
		}
		if err := VerifyZendesk(other, sig, ts, secret, now, DefaultZendeskWindow); err == nil && !bytes.Equal(other, body) {
			t.Fatalf("another body verified")
		}
		_ = VerifyZendesk(body, string(other), string(other), secret, now, DefaultZendeskWindow)
	})
}
