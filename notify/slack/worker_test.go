package slack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/notify/slack/slackfake"
	"github.com/klaxonhq/klaxon/resolution"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/triage"
)

const noPages = "http://127.0.0.1:1"

// Messages of the lifecycle, in order.
var (
	summary = "*INC-1* SEV1 triggered: Down{service=\"checkout\"}\nService: checkout\n" +
		"Why: SEV1 by rule down: 1 firing signal matches {alertname=\"Down\"}\n" +
		"Incident manager: Bob (<@UBOB>)\nTechnical lead: Ada (<@UADA>)"
	handover = "Incident manager: Ada (<@UADA>) (was Bob (<@UBOB>))"
	acked    = "Status: triggered → acknowledged by ada"
	resolved = "Status: acknowledged → resolved by ada"
)

func topic(status, im string) string {
	return "INC-1 | SEV1 | " + status + " | IM: " + im + " | https://klaxon.example/api/v1/incidents/INC-1 | bridge: https://meet.example/INC-1 | " +
		"dashboard: https://grafana.example/d/checkout | runbook: https://runbooks.example/checkout | status: https://status.example"
}

// room is the fake's only channel.
func room(t *testing.T, f *slackfake.Server) slackfake.Channel {
	t.Helper()
	chs := f.Channels()
	if len(chs) != 1 {
		t.Fatalf("%d channels, want 1: %+v", len(chs), chs)
	}
	return chs[0]
}

func checkRoom(t *testing.T, f *slackfake.Server, topicWant string, messages ...string) {
	t.Helper()
	ch := room(t, f)
	if ch.Name != "inc-1-checkout" {
		t.Errorf("channel name %q", ch.Name)
	}
	if ch.Topic != topicWant {
		t.Errorf("topic\n got %q\nwant %q", ch.Topic, topicWant)
	}
	if !slices.Equal(ch.Messages, messages) {
		t.Errorf("messages\n got %q\nwant %q", ch.Messages, messages)
	}
	if want := []string{slackfake.BotUser, "UBOB", "UADA"}; !slices.Equal(ch.Members, want) {
		t.Errorf("members %q, want %q", ch.Members, want)
	}
}

func checkStatus(t *testing.T, f *slackfake.Server, ada, bob string) {
	t.Helper()
	if got := f.Status("UADA"); got != ada {
		t.Errorf("ada's status %q, want %q", got, ada)
	}
	if got := f.Status("UBOB"); got != bob {
		t.Errorf("bob's status %q, want %q", got, bob)
	}
}

func TestRoomLifecycle(t *testing.T) {
	h := newHarness(t, noPages)
	f := fake(t)
	w := h.worker(f.URL(), nil)
	h.fire("alertname", "Down", "service", "checkout")
	drain(t, w)
	checkRoom(t, f, topic("triggered", "Bob"), summary)
	checkStatus(t, f, "", "INC-1")
	if key, ok := h.state.IncidentForChannel(room(t, f).ID); !ok || key != "INC-1" {
		t.Errorf("IncidentForChannel = %q, %v", key, ok)
	}

	h.act(triage.Action{Kind: triage.ActionAssignRole, Incident: "INC-1", By: "carol", Role: "incident_manager", Person: "ada"})
	drain(t, w)
	checkRoom(t, f, topic("triggered", "Ada"), summary, handover)
	checkStatus(t, f, "INC-1", "")

	h.act(triage.Action{Kind: triage.ActionAck, Incident: "INC-1", By: "ada"})
	h.act(triage.Action{Kind: triage.ActionResolve, Incident: "INC-1", By: "ada"})
	drain(t, w)
	checkRoom(t, f, topic("resolved", "Ada"), summary, handover, acked, resolved)
	checkStatus(t, f, "", "")
	if room(t, f).Archived {
		t.Fatal("archived at resolution; the delay is an hour")
	}

	h.clock.Add(time.Hour)
	h.tick()
	drain(t, w)
	if !room(t, f).Archived {
		t.Error("not archived an hour after resolution")
	}
	if n := count(f.Calls(), "chat.postMessage"); n != 4 {
		t.Errorf("%d chat.postMessage calls, want 4 (nothing twice)", n)
	}
	if p := pendingChat(h.state); len(p) != 0 {
		t.Errorf("chat intents left: %v", p)
	}
}

// TestPostTakenButUnanswered: Slack took a post but its answer never came,
// within an attempt that timed out (the failure is journaled) or in a
// process that died before journaling anything. The next attempt finds
// the post by its metadata among the room's latest messages and does not
// post it again.
func TestPostTakenButUnanswered(t *testing.T) {
	for _, crash := range []bool{false, true} {
		h := newHarness(t, noPages)
		f := fake(t)
		w := h.worker(f.URL(), nil)
		w.opts.Timeout = 100 * time.Millisecond
		f.Fail("chat.postMessage", slackfake.Fault{Lost: true})
		h.fire("alertname", "Down", "service", "checkout")
		if crash {
			for _, in := range w.src.DueChatIntents(h.clock.Now(), 100) {
				w.deliver(context.Background(), in) // attempted, never journaled
			}
			h.crash()
			h.clock.Add(time.Second)
			w = h.worker(f.URL(), nil)
		}
		for range 5 {
			drain(t, w)
			h.clock.Add(time.Minute) // past any retry's backoff
		}
		checkRoom(t, f, topic("triggered", "Bob"), summary)
		if n := count(f.Calls(), "chat.postMessage"); n != 1 {
			t.Errorf("crash=%v: %d chat.postMessage calls, want 1", crash, n)
		}
		if n := count(f.Calls(), "conversations.history"); n == 0 {
			t.Errorf("crash=%v: the retry did not look for the earlier post", crash)
		}
		if p := pendingChat(h.state); len(p) != 0 {
			t.Errorf("crash=%v: chat intents left: %v", crash, ids(p))
		}
	}
}

// A post that cannot have gone out before (first attempt, due after the
// worker started) is posted without reading the room's history.
func TestFirstPostReadsNoHistory(t *testing.T) {
	h := newHarness(t, noPages)
	f := fake(t)
	w := h.worker(f.URL(), nil)
	h.clock.Add(time.Second)
	h.fire("alertname", "Down", "service", "checkout")
	drain(t, w)
	checkRoom(t, f, topic("triggered", "Bob"), summary)
	if n := count(f.Calls(), "conversations.history"); n != 0 {
		t.Errorf("%d conversations.history calls, want 0", n)
	}
}

func count(calls []string, method string) int {
	n := 0
	for _, c := range calls {
		if c == method {
			n++
		}
	}
	return n
}

func TestRateLimited(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter int
		sleeps     []time.Duration // Retry-After waits within the attempt
		laterAfter time.Duration   // when not waited out: the state's retry
	}{
		{name: "waited out within the attempt", retryAfter: 7, sleeps: []time.Duration{7 * time.Second}},
		{name: "longer than a minute: retried later", retryAfter: 120, laterAfter: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, noPages)
			f := fake(t)
			var sleeps []time.Duration
			w := h.worker(f.URL(), &sleeps)
			f.Fail("chat.postMessage", slackfake.Fault{RetryAfter: tt.retryAfter})
			h.fire("alertname", "Down", "service", "checkout")
			drain(t, w)
			if tt.laterAfter > 0 {
				p := pendingChat(h.state)
				if len(p) != 1 || p[0].Chat.Op != triage.ChatPost || p[0].Attempts != 1 || !strings.Contains(p[0].Error, "retry after 2m0s") {
					t.Fatalf("pending after the 429: %+v", p)
				}
				h.clock.Add(tt.laterAfter)
				drain(t, w)
			}
			if !slices.Equal(sleeps, tt.sleeps) {
				t.Errorf("waited %v, want %v", sleeps, tt.sleeps)
			}
			if got, want := testutil.ToFloat64(w.metrics.rateLimited), float64(len(tt.sleeps)); got != want {
				t.Errorf("klaxon_chat_rate_limited_total %v, want %v", got, want)
			}
			retries := 0.0
			if tt.laterAfter > 0 {
				retries = 1
			}
			if got := testutil.ToFloat64(w.metrics.attempts.WithLabelValues("post", "retry")); got != retries {
				t.Errorf("post attempts to retry %v, want %v", got, retries)
			}
			checkRoom(t, f, topic("triggered", "Bob"), summary)
			if n := count(f.Calls(), "chat.postMessage"); n != 2 {
				t.Errorf("%d chat.postMessage calls, want 2 (the 429, then the post)", n)
			}
		})
	}
}

// TestSlackHangs: while a Slack call hangs, pages go out through the
// dispatcher; the chat worker gives up the call at its timeout and
// retries it later.
func TestSlackHangs(t *testing.T) {
	var hangingAtPage atomic.Int64
	f := fake(t)
	pages := make(chan string, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ada" { // bob's are role notices
			hangingAtPage.Store(int64(f.Hanging()))
			pages <- r.URL.Path
		}
	}))
	defer recv.Close()
	h := newHarness(t, recv.URL)
	f.HangAll(true)
	w := h.worker(f.URL(), nil)
	w.opts.Timeout = 5 * time.Second
	oc, _ := h.state.OnCall()
	d, err := notify.New(h.state, h.eng, notify.Options{Receivers: oc.Receivers(), Clock: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.eng.OnApplied(d.Wake)
	h.eng.OnApplied(w.Wake)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	wg.Go(func() { d.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	h.fire("alertname", "Down", "service", "search") // INC-1: a room, nobody paged
	waitFor(t, "a Slack call hanging", func() bool { return f.Hanging() == 1 })
	h.fire("alertname", "Down", "service", "checkout") // INC-2: a room and a page
	select {
	case <-pages:
	case <-time.After(time.Minute):
		t.Fatal("no page while Slack hangs")
	}
	if hangingAtPage.Load() != 1 {
		t.Errorf("%d Slack calls hanging when the page arrived, want 1", hangingAtPage.Load())
	}
	f.HangAll(false)
	waitFor(t, "the hanging call's timeout", func() bool {
		in, ok := pending(h.state, "INC-1/chat/000000/create")
		return ok && in.Attempts == 1
	})
	in, _ := pending(h.state, "INC-1/chat/000000/create")
	if !in.Due.After(t0) || !strings.Contains(in.Error, "no answer from Slack within 5s") {
		t.Fatalf("after the timeout: %+v", in)
	}
	h.clock.Add(10 * time.Second)
	w.Wake()
	waitFor(t, "every chat intent delivered", func() bool { return len(pendingChat(h.state)) == 0 })
	var names []string
	for _, ch := range f.Channels() {
		names = append(names, ch.Name)
	}
	if want := []string{"inc-2-checkout", "inc-1-search"}; !slices.Equal(names, want) {
		t.Errorf("channels %q, want %q", names, want)
	}
}

// pending returns the pending chat intent with the given ID.
func pending(s *triage.State, id string) (triage.Intent, bool) {
	for _, in := range pendingChat(s) {
		if in.ID == id {
			return in, true
		}
	}
	return triage.Intent{}, false
}

// waitFor waits until cond holds, for a minute at most.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSlackDownAtStart: nothing listens where Slack should be; the room is
// made once it answers.
func TestSlackDownAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := newHarness(t, noPages)
	w := h.worker("http://"+addr+"/api/", nil)
	h.fire("alertname", "Down", "service", "checkout")
	drain(t, w)
	p := pendingChat(h.state)
	if len(p) != 1 || p[0].Attempts != 1 || !strings.Contains(p[0].Error, "connection refused") {
		t.Fatalf("pending while Slack is down: %+v", p)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f := slackfake.New(token, ln, "UADA", "UBOB")
	defer f.Close()
	h.clock.Add(10 * time.Second)
	drain(t, w)
	checkRoom(t, f, topic("triggered", "Bob"), summary)
}

// TestRestartMidLifecycle: after a restart, replay decides the same
// intents and the delivery log keeps what was posted from going again.
func TestRestartMidLifecycle(t *testing.T) {
	h := newHarness(t, noPages)
	f := fake(t)
	w := h.worker(f.URL(), nil)
	h.fire("alertname", "Down", "service", "checkout")
	drain(t, w)
	h.act(triage.Action{Kind: triage.ActionAssignRole, Incident: "INC-1", By: "carol", Role: "incident_manager", Person: "ada"})
	before := ids(pendingChat(h.state))
	if len(before) == 0 {
		t.Fatal("nothing pending before the restart")
	}
	h.restart()
	if after := ids(pendingChat(h.state)); !slices.Equal(after, before) {
		t.Fatalf("pending after the restart %q, want %q", after, before)
	}
	w = h.worker(f.URL(), nil)
	drain(t, w)
	h.crash()
	if p := pendingChat(h.state); len(p) != 0 {
		t.Fatalf("replay after a crash left chat intents pending: %v", ids(p))
	}
	h.act(triage.Action{Kind: triage.ActionAck, Incident: "INC-1", By: "ada"})
	h.crash()
	w = h.worker(f.URL(), nil)
	drain(t, w)
	checkRoom(t, f, topic("acknowledged", "Ada"), summary, handover, acked)
	checkStatus(t, f, "INC-1", "")
	if n := count(f.Calls(), "chat.postMessage"); n != 3 {
		t.Errorf("%d chat.postMessage calls, want 3", n)
	}
	if key, ok := h.state.IncidentForChannel(room(t, f).ID); !ok || key != "INC-1" {
		t.Errorf("IncidentForChannel after restarts = %q, %v", key, ok)
	}
	if p, ok := h.state.PersonForSlackUser("UADA"); !ok || p != "ada" {
		t.Errorf("PersonForSlackUser(UADA) = %q, %v", p, ok)
	}
}

func ids(ins []triage.Intent) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.ID)
	}
	return out
}

func TestBelowMinimumSeverityNoRoom(t *testing.T) {
	h := newHarness(t, noPages)
	f := fake(t)
	w := h.worker(f.URL(), nil)
	h.fire("alertname", "Slow", "service", "search")
	drain(t, w)
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("a SEV3 incident called Slack: %q", calls)
	}
}

// lostReport fails every report, as a crash between a call and its report.
type lostReport struct{ cancel context.CancelFunc }

func (l lostReport) Deliver(context.Context, triage.Delivery) error {
	l.cancel()
	return context.Canceled
}

func TestCreateNameTaken(t *testing.T) {
	tests := []struct {
		name     string
		existing func(f *slackfake.Server) // channels there before
		want     string                    // the room's name
	}{
		{name: "free", existing: func(*slackfake.Server) {}, want: "inc-1-checkout"},
		{name: "archived channel of that name", existing: func(f *slackfake.Server) { f.AddChannel("inc-1-checkout", true) }, want: "inc-1-checkout-2"},
		{name: "created by an attempt whose report was lost", existing: nil, want: "inc-1-checkout"},
		{name: "made by someone else: joined", existing: func(f *slackfake.Server) { f.AddChannel("inc-1-checkout", false, "UADA") }, want: "inc-1-checkout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, noPages)
			f := fake(t)
			h.fire("alertname", "Down", "service", "checkout")
			if tt.existing != nil {
				tt.existing(f)
			} else {
				w := h.worker(f.URL(), nil)
				ctx, cancel := context.WithCancel(context.Background())
				w.rec = lostReport{cancel}
				if _, ok := w.scan(ctx); ok {
					t.Fatal("the scan went on without its report")
				}
			}
			w := h.worker(f.URL(), nil)
			drain(t, w)
			var got []string
			for _, ch := range f.Channels() {
				if !ch.Archived {
					got = append(got, ch.Name)
				}
			}
			if !slices.Equal(got, []string{tt.want}) {
				t.Errorf("live channels %q, want [%q]", got, tt.want)
			}
			ch, _ := h.state.ChatChannel("INC-1")
			if key, _ := h.state.IncidentForChannel(ch); key != "INC-1" {
				t.Errorf("the incident's channel %q is not the room", ch)
			}
			for _, c := range f.Channels() {
				if c.ID == ch && (!slices.Contains(c.Members, slackfake.BotUser) || len(c.Messages) != 1) {
					t.Errorf("room %+v: want the bot in it and the summary posted", c)
				}
			}
		})
	}
}

func TestChannelName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"inc-42-checkout", "inc-42-checkout"},
		{"INC 42: Checkout/API", "inc-42-checkout-api"},
		{"inc-7-", "inc-7"},
		{"--Ünïcode__ok--", "n-code__ok"},
		{strings.Repeat("a", 100), strings.Repeat("a", 80)},
		{"!!!", "inc-9"},
	}
	for _, tt := range tests {
		if got := ChannelName(tt.in, "inc-9"); got != tt.want {
			t.Errorf("ChannelName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSlackErrors: Slack's documented errors are success where the goal is
// met already, failures worth retrying where they may pass, and final
// otherwise.
func TestSlackErrors(t *testing.T) {
	chat := func(op triage.ChatOp, users ...string) triage.Intent {
		return triage.Intent{ID: "INC-1/chat/000009/" + string(op), Kind: triage.IntentChat, Incident: "INC-1",
			Message: triage.Message{Key: "INC-1"}, Chat: &triage.ChatIntent{Op: op, Channel: "C0001", Users: users, Text: "hello"}}
	}
	tests := []struct {
		name   string
		fault  slackfake.Fault
		method string
		in     triage.Intent
		ok     bool
		retry  bool
		err    string
	}{
		{name: "already in channel", method: "conversations.invite", fault: slackfake.Fault{Error: "already_in_channel"}, in: chat(triage.ChatInvite, "UADA"), ok: true},
		{name: "cant invite self", in: chat(triage.ChatInvite, slackfake.BotUser), ok: true},
		{name: "unknown user", in: chat(triage.ChatInvite, "UNOBODY"), err: "invite UNOBODY: user_not_found"},
		{name: "already archived", method: "conversations.archive", fault: slackfake.Fault{Error: "already_archived"}, in: chat(triage.ChatArchive), ok: true},
		{name: "not archived", in: chat(triage.ChatUnarchive), ok: true},
		{name: "unarchive with a bot token", method: "conversations.unarchive", fault: slackfake.Fault{Error: "not_authorized"}, in: chat(triage.ChatUnarchive), err: "not_authorized"},
		{name: "unarchive not allowed", method: "conversations.unarchive", fault: slackfake.Fault{Error: "restricted_action"}, in: chat(triage.ChatUnarchive), err: "restricted_action"},
		{name: "channel not found", method: "chat.postMessage", fault: slackfake.Fault{Error: "channel_not_found"}, in: chat(triage.ChatPost), err: "channel_not_found"},
		{name: "bad token", method: "chat.postMessage", fault: slackfake.Fault{Error: "invalid_auth"}, in: chat(triage.ChatPost), err: "invalid_auth"},
		{name: "Slack's 503", method: "chat.postMessage", fault: slackfake.Fault{Status: 503}, in: chat(triage.ChatPost), retry: true, err: "slack server error: 503 Service Unavailable"},
		{name: "internal_error", method: "chat.postMessage", fault: slackfake.Fault{Error: "internal_error"}, in: chat(triage.ChatPost), retry: true, err: "internal_error"},
		{name: "status for a bot token", method: "users.profile.set", fault: slackfake.Fault{Error: "not_allowed_token_type"}, in: chat(triage.ChatStatusSet, "UADA"), err: "status of UADA: not_allowed_token_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, noPages)
			f := fake(t)
			f.AddChannel("ops", false, slackfake.BotUser)
			if tt.method != "" {
				f.Fail(tt.method, tt.fault)
			}
			w := h.worker(f.URL(), nil)
			del := w.deliver(context.Background(), tt.in)
			if del.OK != tt.ok || del.Retry != tt.retry || del.Error != tt.err || del.Intent != tt.in.ID || del.Attempt != 1 {
				t.Errorf("delivery %+v, want ok=%v retry=%v error=%q", del, tt.ok, tt.retry, tt.err)
			}
		})
	}
}

// TestResolutionPostCarriesFinalMessage: the post that tells the incident
// resolved carries the final internal message in the receivers' words
// (resolution's renderer over the figures triage fixed), once; without a
// FinalText it is the status change alone, and words that fail are retried.
func TestResolutionPostCarriesFinalMessage(t *testing.T) {
	renderer, err := resolution.New("", "en", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	broken := func(triage.Intent) (string, string, error) { return "", "", errors.New("template broke") }
	tests := []struct {
		name      string
		finalText func(triage.Intent) (string, string, error)
		words     bool // the last post carries the final message
		fails     bool // the post is not made
	}{
		{name: "worded by resolution's renderer", finalText: renderer.Intent, words: true},
		{name: "no FinalText: the status change alone", finalText: nil},
		{name: "wording fails: not posted, retried", finalText: broken, fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, noPages)
			f := fake(t)
			w, err := New(h.state, h.eng, Options{Token: token, APIURL: f.URL(), Clock: h.clock.Now, FinalText: tt.finalText})
			if err != nil {
				t.Fatal(err)
			}
			h.fire("alertname", "Down", "service", "checkout")
			drain(t, w)
			h.clock.Add(5 * time.Minute)
			h.act(triage.Action{Kind: triage.ActionAck, Incident: "INC-1", By: "ada"})
			h.clock.Add(20 * time.Minute)
			h.act(triage.Action{Kind: triage.ActionResolve, Incident: "INC-1", By: "ada"})
			if tt.fails {
				if _, ok := w.scan(context.Background()); !ok {
					t.Fatal("scan stopped")
				}
				msgs := room(t, f).Messages
				if slices.ContainsFunc(msgs, func(m string) bool { return strings.HasPrefix(m, resolved) }) {
					t.Fatalf("posted although the words failed: %q", msgs)
				}
				in, ok := pending(h.state, "INC-1/chat/000007/post")
				if !ok || in.Attempts != 1 || !strings.Contains(in.Error, "template broke") {
					t.Fatalf("the failed post is not pending for a retry: %+v, %v (pending %v)", in, ok, ids(pendingChat(h.state)))
				}
				return
			}
			drain(t, w)
			d, _ := h.state.Get("INC-1", 0, 0)
			want := resolved
			if tt.words {
				title, body, err := resolution.Message(d)
				if err != nil {
					t.Fatal(err)
				}
				want += "\n\n*" + title + "*\n" + body
				for _, s := range []string{"25m", "Ada", "no further messages"} {
					if !strings.Contains(strings.ToLower(want), strings.ToLower(s)) {
						t.Errorf("the final message lacks %q:\n%s", s, want)
					}
				}
			}
			msgs := room(t, f).Messages
			if got := msgs[len(msgs)-1]; got != want {
				t.Errorf("resolution post\n got %q\nwant %q", got, want)
			}
			n := 0
			for _, m := range msgs {
				if strings.HasPrefix(m, resolved) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d resolution posts, want 1", n)
			}
		})
	}
}

// TestRoomReopened: an incident that reopens after its room was archived
// gets the room back (conversations.unarchive) before anything is posted
// there; a token that may not unarchive gets a new room instead.
func TestRoomReopened(t *testing.T) {
	tests := []struct {
		name   string
		fault  *slackfake.Fault // the unarchive's first answer
		sleeps []time.Duration
		later  time.Duration // when the unarchive is retried, if it is
		room   string        // the one live channel at the end
		last   string        // its last message
	}{
		{name: "unarchived", room: "inc-1-checkout", last: "Status: resolved → triggered"},
		{name: "429 waited out", fault: &slackfake.Fault{RetryAfter: 3}, sleeps: []time.Duration{3 * time.Second},
			room: "inc-1-checkout", last: "Status: resolved → triggered"},
		{name: "429 too long: the rest waits for the retry", fault: &slackfake.Fault{RetryAfter: 120}, later: 10 * time.Second,
			room: "inc-1-checkout", last: "Status: resolved → triggered"},
		{name: "refused: a new room", fault: &slackfake.Fault{Error: "not_authorized"}, room: "inc-1-checkout-2", last: summary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, noPages)
			reopenable := strings.Replace(testRules, "    escalation_policy: checkout\n", "    escalation_policy: checkout\n    correlation: {reopen_within: 3h}\n", 1)
			if _, err := h.eng.SetRules(context.Background(), []rules.File{{Name: "rules.yml", Data: []byte(reopenable)}}); err != nil {
				t.Fatal(err)
			}
			f := fake(t)
			var sleeps []time.Duration
			w := h.worker(f.URL(), &sleeps)
			h.fire("alertname", "Down", "service", "checkout")
			h.act(triage.Action{Kind: triage.ActionResolve, Incident: "INC-1", By: "ada"})
			drain(t, w)
			h.clock.Add(time.Hour)
			h.tick()
			drain(t, w)
			if !room(t, f).Archived {
				t.Fatal("not archived an hour after resolution")
			}
			if tt.fault != nil {
				f.Fail("conversations.unarchive", *tt.fault)
			}
			h.clock.Add(time.Minute)
			h.fire("alertname", "Down", "service", "checkout")
			drain(t, w)
			if tt.later > 0 {
				h.clock.Add(tt.later)
				drain(t, w)
			}

			var live []slackfake.Channel
			for _, ch := range f.Channels() {
				if !ch.Archived {
					live = append(live, ch)
				}
			}
			if len(live) != 1 || live[0].Name != tt.room {
				t.Fatalf("live channels %+v, want %q alone", live, tt.room)
			}
			got := live[0]
			if last := got.Messages[len(got.Messages)-1]; last != tt.last {
				t.Errorf("last message\n got %q\nwant %q", last, tt.last)
			}
			if !strings.HasPrefix(got.Topic, "INC-1 | SEV1 | triggered") {
				t.Errorf("topic %q", got.Topic)
			}
			for _, u := range []string{"UBOB", "UADA"} {
				if !slices.Contains(got.Members, u) {
					t.Errorf("%s not in the room: %q", u, got.Members)
				}
			}
			if ch, _ := h.state.ChatChannel("INC-1"); ch != got.ID {
				t.Errorf("the incident's channel is %q, want %q", ch, got.ID)
			}
			calls := f.Calls()
			archived, unarchived := slices.Index(calls, "conversations.archive"), lastIndex(calls, "conversations.unarchive")
			if unarchived < archived || slices.ContainsFunc(calls[archived+1:unarchived], func(c string) bool { return c != "conversations.unarchive" }) {
				t.Errorf("calls %q: want the unarchive, and nothing else between the archive and it", calls)
			}
			if !slices.Equal(sleeps, tt.sleeps) {
				t.Errorf("waited %v, want %v", sleeps, tt.sleeps)
			}
			if p := pendingChat(h.state); len(p) != 0 {
				t.Errorf("chat intents left: %v", ids(p))
			}
		})
	}
}

func lastIndex(calls []string, method string) int {
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i] == method {
			return i
		}
	}
	return -1
}
