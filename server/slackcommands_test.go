package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/chatops"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

const (
	slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slackAdmin  = "slack-test-admin-token-0123456"
)

// slackPeople are the on-call people of the test, with the default roles.
const slackPeople = `
people:
  ada: {name: Ada, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/ada"}]}]}
  ben: {name: Ben, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/ben"}]}]}
`

type fakeRooms map[string]string

func (r fakeRooms) IncidentForChannel(id string) (string, bool) { k, ok := r[id]; return k, ok }

type fakePeople map[string]string

func (p fakePeople) PersonForSlackUser(id string) (string, bool) { k, ok := p[id]; return k, ok }

// slackStack is the real server with the incident API and the slash
// commands over one engine and an in-memory journal, two incidents open:
// INC-1, whose room is C1, and INC-2, worked through the API alone.
func slackStack(t *testing.T, now *time.Time) (*journal.Memory, *triage.State, *server.Server) {
	t.Helper()
	cfg, err := config.Parse([]byte(`auth:
  admin: [{name: ada, token: `+slackAdmin+`}]
  ingest: {alertmanager: {open: true}, prometheus: {open: true}}
`), filepath.Join(t.TempDir(), "klaxon.yml"))
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return *now }
	state := triage.New(nil)
	j := journal.NewMemory(state, clock)
	eng := engine.New(j, state, engine.Options{Clock: clock})
	ctx := context.Background()
	if _, err := eng.SetOnCall(ctx, []oncall.File{{Name: "o.yml", Data: []byte(slackPeople)}}); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"checkout", "search"} {
		labels := map[string]string{"alertname": "Down", "service": svc}
		sig := signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert, Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)),
			Status: signal.StatusFiring, Labels: signal.StringsFrom(labels), StartsAt: *now}
		if _, err := eng.Submit(ctx, []signal.Signal{sig}); err != nil {
			t.Fatal(err)
		}
	}
	srv := server.New(cfg, nil, nil)
	r := srv.Engine()
	apis := r.Group("/", srv.API())
	incidents := api.NewIncidents(state, eng, j, server.Principal)
	incidents.Register(apis)
	api.NewUpdates(incidents, eng).Register(apis)
	h := &chatops.Handler{Rooms: fakeRooms{"C1": "INC-1"}, People: fakePeople{"U1": "ada", "U2": "ben"}, Incidents: state, Actor: eng, Updater: eng}
	server.NewSlackCommands(h, []byte(slackSecret), clock, nil).Register(r)
	return j, state, srv
}

// slash sends a signed slash command as Slack would.
func slash(srv *server.Server, at time.Time, user, channel, text string, tamper func(*http.Request)) *httptest.ResponseRecorder {
	body := url.Values{"command": {"/klaxon"}, "text": {text}, "user_id": {user}, "user_name": {"x"}, "channel_id": {channel},
		"team_id": {"T1"}, "response_url": {"https://hooks.slack.com/commands/T1/1/x"}, "trigger_id": {"1.2.3"}}.Encode()
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(slackSecret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	req := httptest.NewRequest("POST", "/slack/commands", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(chatops.TimestampHeader, ts)
	req.Header.Set(chatops.SignatureHeader, "v0="+hex.EncodeToString(mac.Sum(nil)))
	if tamper != nil {
		tamper(req)
	}
	w := httptest.NewRecorder()
	srv.Engine().ServeHTTP(w, req)
	return w
}

func apiCall(t *testing.T, srv *server.Server, method, path, body string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+slackAdmin)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	srv.Engine().ServeHTTP(w, req)
	if w.Code/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
}

// lastEntry is the journal's last entry, with the incident it names blanked.
func lastEntry(t *testing.T, j *journal.Memory) string {
	t.Helper()
	var last journal.Record
	if err := j.Read(j.LastSeq(), func(r journal.Record) error { last = r; return nil }); err != nil {
		t.Fatal(err)
	}
	e, err := triage.Decode(last.Data)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case e.Action != nil:
		e.Action.Incident = ""
	case e.Update != nil:
		e.Update.Incident = ""
	}
	out, _ := json.Marshal(e)
	return string(out)
}

// TestSlashCommandsJournalWhatTheAPIDoes: each command, signed as Slack
// signs it, goes through the real server, engine and journal and stores
// exactly the entry the incident API stores for the same decision.
func TestSlashCommandsJournalWhatTheAPIDoes(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	j, state, srv := slackStack(t, &now)
	for _, tc := range []struct {
		text, method, path, body string
		reply                    string
	}{
		{"ack", "POST", "/api/v1/incidents/INC-2/ack", "", "INC-1: acknowledged by ada"},
		{"role im <@U2|ben>", "POST", "/api/v1/incidents/INC-2/roles", `{"role":"incident_manager","person":"ben"}`, "ben is now incident_manager"},
		{"theory the new cache", "POST", "/api/v1/incidents/INC-2/timeline", `{"kind":"theory","text":"the new cache"}`, "theory added"},
		{"status monitoring fix is out", "POST", "/api/v1/incidents/INC-2/updates",
			`{"audience":"internal","state":"monitoring","text":"fix is out"}`, "internal update posted: monitoring"},
		{"status resolved", "POST", "/api/v1/incidents/INC-2/resolve", "", "resolved by ada"},
	} {
		now = now.Add(time.Minute)
		w := slash(srv, now, "U1", "C1", tc.text, nil)
		var reply chatops.Reply
		if err := json.Unmarshal(w.Body.Bytes(), &reply); w.Code != 200 || err != nil || reply.ResponseType != "ephemeral" ||
			!strings.Contains(reply.Text, tc.reply) {
			t.Fatalf("%q: %d %s", tc.text, w.Code, w.Body)
		}
		fromSlack := lastEntry(t, j)
		apiCall(t, srv, tc.method, tc.path, tc.body)
		if fromAPI := lastEntry(t, j); fromSlack != fromAPI {
			t.Errorf("%q journaled\n%s\nthe API\n%s", tc.text, fromSlack, fromAPI)
		}
	}
	d, _ := state.Get("INC-1", 0, 0)
	if d.Status != triage.StatusResolved || d.AcknowledgedBy != "ada" || d.Roles["incident_manager"] != "ben" || len(d.HumanEntries) != 1 {
		t.Errorf("INC-1 after the commands: %+v", d.Summary)
	}
}

// TestSlashCommandRefusals: bad signatures answer 401, bodies that are
// not slash commands 4xx, and nothing is journaled for any of them.
func TestSlashCommandRefusals(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	j, _, srv := slackStack(t, &now)
	before := j.LastSeq()
	for _, tc := range []struct {
		name   string
		at     time.Time
		tamper func(*http.Request)
		want   int
	}{
		{"no signature", now, func(r *http.Request) { r.Header.Del(chatops.SignatureHeader) }, 401},
		{"no timestamp", now, func(r *http.Request) { r.Header.Del(chatops.TimestampHeader) }, 401},
		{"wrong signature", now, func(r *http.Request) { r.Header.Set(chatops.SignatureHeader, "v0="+strings.Repeat("0", 64)) }, 401},
		{"six minutes old", now.Add(-6 * time.Minute), nil, 401},
		{"six minutes ahead", now.Add(6 * time.Minute), nil, 401},
		{"replayed with another timestamp", now, func(r *http.Request) {
			r.Header.Set(chatops.TimestampHeader, strconv.FormatInt(now.Unix()+1, 10))
		}, 401},
		{"not a form", now, func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, 415},
		{"too big", now, func(r *http.Request) {
			r.Body = http.NoBody
			r.Body = io.NopCloser(strings.NewReader(strings.Repeat("x", 64<<10)))
		}, 413},
	} {
		if w := slash(srv, tc.at, "U1", "C1", "ack", tc.tamper); w.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.want)
		}
	}
	// Signed, but not a slash command: no user.
	if w := slash(srv, now, "", "C1", "ack", nil); w.Code != 400 {
		t.Errorf("no user_id: %d %s", w.Code, w.Body)
	}
	// A usage error and an unlinked user are answered 200, for the sender.
	for _, tc := range []struct{ user, text, want string }{
		{"U1", "role im", "role needs a role and a person"},
		{"U9", "ack", "not linked to an on-call person"},
		{"U1", "note INC-77 x", "INC-77: no such incident"},
	} {
		w := slash(srv, now, tc.user, "C1", tc.text, nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), tc.want) || !strings.Contains(w.Body.String(), `"response_type":"ephemeral"`) {
			t.Errorf("%q: %d %s", tc.text, w.Code, w.Body)
		}
	}
	if j.LastSeq() != before {
		t.Errorf("refused commands journaled %d entries", j.LastSeq()-before)
	}
}
