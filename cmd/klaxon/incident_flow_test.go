package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/notify/slack/slackfake"
)

// flowRules: shop is customer-facing; a critical alert is SEV1, which pages
// at once, publishes itself, waits for a human to resolve it and sends its
// final message to the announce receiver.
const flowRules = `
services:
  shop:
    display_name: Online Shop
    customer_facing: true
    tier: 1
    escalation_policy: shop
    matchers: ['{service="shop"}']
severity:
  rules:
    - name: everything-critical
      level: SEV1
      when: {match: '{severity="critical"}'}
policies:
  SEV1: {page: immediately, status_page: auto, auto_resolve: false, final_message: [announce]}
`

// flowOnCall: ada is on call for shop; ada and bob have Slack IDs. HOOKS is
// the webhook receiver's base URL.
const flowOnCall = `
people:
  ada: {name: Ada, time_zone: UTC, slack: UADA, contact_methods: [{name: push, webhook_configs: [{url: "HOOKS/page/ada"}]}]}
  bob: {name: Bob, time_zone: UTC, slack: UBOB, contact_methods: [{name: push, webhook_configs: [{url: "HOOKS/page/bob"}]}]}
escalation_policies:
  shop:
    steps: [{escalate_after: 1h, people: [ada]}]
    fallback: {name: noc, webhook_configs: [{url: "HOOKS/noc"}]}
receivers:
  - name: announce
    webhook_configs: [{url: "HOOKS/announce"}]
`

const flowSigningSecret = "0123456789abcdef0123456789abcdef"

// hooks is a webhook receiver that keeps what each path was sent.
type hooks struct {
	mu     sync.Mutex
	bodies map[string][]string
}

func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies[r.URL.Path] = append(h.bodies[r.URL.Path], string(body))
	h.mu.Unlock()
}

// sent returns the bodies sent to path that contain want.
func (h *hooks) sent(path, want string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, b := range h.bodies[path] {
		if strings.Contains(b, want) {
			out = append(out, b)
		}
	}
	return out
}

// flow is a Klaxon under test with its fake Slack and webhook receiver.
type flow struct {
	t     *testing.T
	dir   string
	k     *instance
	slack *slackfake.Server
	hooks *hooks
}

// command sends /klaxon text to Klaxon as Slack does, typed by user in
// channel, signed with the app's signing secret, and returns the answer.
func (f *flow) command(channel, user, text string) string {
	f.t.Helper()
	form := url.Values{"command": {"/klaxon"}, "text": {text}, "channel_id": {channel}, "user_id": {user},
		"team_id": {"T1"}, "response_url": {"https://hooks.slack.invalid/commands/1"}}
	body := form.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(flowSigningSecret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	req, _ := http.NewRequest("POST", f.k.base+"/slack/commands", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var reply struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(res.Body).Decode(&reply); err != nil || res.StatusCode != http.StatusOK {
		f.t.Fatalf("/klaxon %s: %s, %v", text, res.Status, err)
	}
	return reply.Text
}

// alert posts a critical shop alert named name, firing or resolved.
func (f *flow) alert(name string, resolved bool) {
	f.t.Helper()
	ends := ""
	if resolved {
		ends = fmt.Sprintf(`, "startsAt": %q, "endsAt": %q`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
			time.Now().Add(-time.Second).UTC().Format(time.RFC3339))
	}
	body := fmt.Sprintf(`[{"labels": {"alertname": %q, "service": "shop", "severity": "critical", "instance": "db-7.internal"}%s}]`, name, ends)
	res, err := http.Post(f.k.base+"/api/v2/alerts", "application/json", strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		f.t.Fatalf("posting %s: %s", name, res.Status)
	}
}

// room returns the fake Slack's channel with the given name prefix.
func (f *flow) room(prefix string) (slackfake.Channel, bool) {
	for _, ch := range f.slack.Channels() {
		if strings.HasPrefix(ch.Name, prefix) {
			return ch, true
		}
	}
	return slackfake.Channel{}, false
}

// get answers an API GET with the admin token, failing on anything but 200.
func (f *flow) get(path string) string {
	f.t.Helper()
	code, body := call(f.t, "GET", f.k.base+path)
	if code != http.StatusOK {
		f.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	return body
}

// hookWords are the words of a final message as a webhook receiver got
// it: "*summary*\ndescription", as the room shows them.
func hookWords(t *testing.T, body string) string {
	t.Helper()
	var msg struct {
		Alerts []struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil || len(msg.Alerts) != 1 || msg.Alerts[0].Labels["message"] != "final" {
		t.Fatalf("not one final message (%v): %s", err, body)
	}
	a := msg.Alerts[0].Annotations
	return "*" + a["summary"] + "*\n" + a["description"]
}

func countPrefix(msgs []string, prefix string) int {
	n := 0
	for _, m := range msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// TestIncidentFlowAcrossTheParts takes one SEV1 incident from its alert to
// its post-mortem through the real server, journal and workers, a fake
// Slack and a webhook receiver: the room, commands typed in it, roles, the
// timeline, resolution with its final messages, the status page and the
// post-mortem; then a restart from the same data directory sends nothing
// again.
func TestIncidentFlowAcrossTheParts(t *testing.T) {
	f := &flow{t: t, dir: t.TempDir(), hooks: &hooks{bodies: map[string][]string{}}}
	f.slack = slackfake.New(slackToken, nil, "UADA", "UBOB")
	defer f.slack.Close()
	hookSrv := httptest.NewServer(f.hooks)
	defer hookSrv.Close()
	writeIn(t, f.dir, "rules/sev.yml", flowRules)
	writeIn(t, f.dir, "ack.key", ackKey)
	writeIn(t, f.dir, "oncall/oncall.yml", strings.ReplaceAll(flowOnCall, "HOOKS", hookSrv.URL))
	writeIn(t, f.dir, "klaxon.yml", klaxonConfig(freeAddr(t), adminToken, onCallConfig,
		"statuspage: {name: Acme Status, render_interval: 10ms}",
		"chat:\n  slack:\n    token: "+slackToken+"\n    api_url: "+f.slack.URL()+"\n    min_severity: SEV1\n    signing_secret: "+flowSigningSecret+"\n"))
	var err error
	if f.k, err = launch(t, f.dir); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			f.k.stop()
		}
	}()

	// An alert opens a SEV1 incident: a room, its topic, ada (paged) invited.
	f.alert("ShopDown", false)
	var room slackfake.Channel
	waitUntil(t, "a room with a topic and ada in it", func() bool {
		var ok bool
		room, ok = f.room("inc-1")
		return ok && strings.HasPrefix(room.Topic, "INC-1 | SEV1 | triggered") && slices.Contains(room.Members, "UADA")
	})

	// ada acknowledges once her page has reached her, as she would: the
	// final message counts pages delivered, and under -race the delivery
	// can take longer than the room.
	waitUntil(t, "ada's page delivered and on the timeline", func() bool {
		return strings.Contains(f.get("/api/v1/incidents/INC-1/timeline"), `"kind":"paged"`)
	})

	// Commands typed in the room act on its incident, as the typist.
	if got := f.command(room.ID, "UADA", "ack"); !strings.Contains(got, "INC-1: acknowledged by ada") {
		t.Fatalf("/klaxon ack: %q", got)
	}
	if got := f.command(room.ID, "UADA", "role im <@UBOB>"); !strings.Contains(got, "bob is now incident_manager") {
		t.Fatalf("/klaxon role: %q", got)
	}
	const note = "checkout latency <b>doubled</b> after the 06:40 deploy"
	if got := f.command(room.ID, "UADA", "note "+note); !strings.Contains(got, "note added to the timeline") {
		t.Fatalf("/klaxon note: %q", got)
	}
	waitUntil(t, "the topic names the incident manager", func() bool {
		room, _ = f.room("inc-1")
		return strings.HasPrefix(room.Topic, "INC-1 | SEV1 | acknowledged | IM: Bob")
	})
	if tl := f.get("/api/v1/incidents/INC-1/timeline"); !strings.Contains(tl, "checkout latency \\u003cb\\u003edoubled") && !strings.Contains(tl, "checkout latency <b>doubled") {
		t.Errorf("the note is not on the timeline: %s", tl)
	}

	// The alert resolves; SEV1 waits for a human, who resolves it from the room.
	f.alert("ShopDown", true)
	waitUntil(t, "the incident quiet", func() bool {
		return strings.Contains(f.get("/api/v1/incidents/INC-1/timeline"), "all alerts resolved")
	})
	if got := f.command(room.ID, "UBOB", "status resolved"); !strings.Contains(got, "resolved by bob") {
		t.Fatalf("/klaxon status resolved: %q", got)
	}
	const finalTitle = "*Resolved: shop (INC-1)*"
	waitUntil(t, "the final message in the room and at the receiver", func() bool {
		room, _ = f.room("inc-1")
		return countPrefix(room.Messages, "Status: acknowledged → resolved by bob") == 1 && len(f.hooks.sent("/announce", "INC-1")) == 1
	})
	final := room.Messages[slices.IndexFunc(room.Messages, func(m string) bool { return strings.HasPrefix(m, "Status: acknowledged → resolved") })]
	for _, want := range []string{finalTitle, "Time to acknowledge:", "(ada)", "Incident manager: bob", "Pages sent: 1", "no further messages will follow"} {
		if !strings.Contains(final, want) {
			t.Errorf("the room's final message lacks %q:\n%s", want, final)
		}
	}
	if want := "Status: acknowledged → resolved by bob\n\n" + hookWords(t, f.hooks.sent("/announce", "INC-1")[0]); final != want {
		t.Errorf("the room's final message is not the receiver's:\n got %q\nwant %q", final, want)
	}
	public := waitFor(t, f.k.base+"/status/api/v2/incidents.json", "Online Shop is operating normally. A post-mortem will follow.")
	for _, internal := range []string{"Time to acknowledge", "ada", "bob", "db-7", "ShopDown", "Pages sent"} {
		if strings.Contains(public, internal) {
			t.Errorf("the public page shows %q: %s", internal, public)
		}
	}
	pm := f.get("/api/v1/incidents/INC-1/postmortem")
	for _, want := range []string{"| note | checkout latency", "doubled", "- incident\\_manager: bob", "(assigned by ada)",
		"| Time to acknowledge |", "| Pages delivered | 1 |", "## Root cause"} {
		if !strings.Contains(pm, want) {
			t.Errorf("the post-mortem lacks %q:\n%s", want, pm)
		}
	}

	// A restart from the same data directory sends nothing again. A second
	// incident, resolved through the same lanes, marks that the workers
	// have passed everything the first left behind.
	posts, finals, pages := len(room.Messages), len(f.hooks.sent("/announce", "")), len(f.hooks.sent("/page/ada", "INC-1"))
	f.k.stop()
	stopped = true
	if f.k, err = launch(t, f.dir); err != nil {
		t.Fatal(err)
	}
	stopped = false
	f.alert("CartDown", false)
	var room2 slackfake.Channel
	waitUntil(t, "a second room", func() bool {
		var ok bool
		room2, ok = f.room("inc-2")
		return ok && len(room2.Messages) > 0
	})
	if got := f.command(room2.ID, "UADA", "status resolved"); !strings.Contains(got, "INC-2: resolved by ada") {
		t.Fatalf("/klaxon status resolved in the second room: %q", got)
	}
	waitUntil(t, "the second incident's final messages", func() bool {
		room2, _ = f.room("inc-2")
		return countPrefix(room2.Messages, "Status: triggered → resolved by ada") == 1 && len(f.hooks.sent("/announce", "INC-2")) == 1
	})
	room, _ = f.room("inc-1")
	if len(room.Messages) != posts {
		t.Errorf("the first room got %d more posts after the restart: %q", len(room.Messages)-posts, room.Messages[posts:])
	}
	if n := len(f.hooks.sent("/announce", "INC-1")); n != 1 || len(f.hooks.sent("/announce", ""))-finals != 1 {
		t.Errorf("the receiver got INC-1's final message %d times, and %d final messages after the restart (want 1: INC-2's)",
			n, len(f.hooks.sent("/announce", ""))-finals)
	}
	if n := len(f.hooks.sent("/page/ada", "INC-1")); n != pages {
		t.Errorf("ada was paged for INC-1 %d times, %d before the restart", n, pages)
	}
}
