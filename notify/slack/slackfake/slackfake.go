// Package slackfake is a fake Slack Web API for tests: the methods Klaxon's
// chat rooms call, with state (channels, topics, members, messages, user
// statuses) and Slack's documented answers: {"ok":false,"error":"…"}
// bodies, HTTP 429 with Retry-After, and requests that never get an answer.
//
// slack-go's slacktest answers these methods with fixed bodies and keeps
// no state, so a test could not tell a room set up right from one that was
// not; this fake keeps what each call did.
package slackfake

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// BotUser is the fake bot's own user ID: inviting it is cant_invite_self.
const BotUser = "UBOT"

// Channel is a channel as the fake keeps it.
type Channel struct {
	ID       string
	Name     string
	Topic    string
	Members  []string
	Messages []string
	Archived bool

	metadata []string // each message's metadata as posted (JSON), "" for none
}

// Fault is an answer the next call of a method gets instead of its own.
type Fault struct {
	RetryAfter int    // HTTP 429 with this Retry-After (seconds)
	Error      string // {"ok":false,"error":Error}
	Status     int    // this HTTP status with an HTML body, as Slack's 5xx pages
	Hang       bool   // no answer until the client gives up
	Lost       bool   // the call takes effect, but no answer comes until the client gives up
}

// Server is a running fake.
type Server struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	channels []*Channel
	statuses map[string]string // user -> status text
	users    map[string]bool   // known users
	faults   map[string][]Fault
	calls    []string // "method" per request answered or faulted
	hanging  int      // requests hanging now
}

// New starts a fake that accepts token, knows users, and listens on ln
// (nil: a new 127.0.0.1 port).
func New(token string, ln net.Listener, users ...string) *Server {
	s := &Server{token: token, statuses: map[string]string{}, users: map[string]bool{BotUser: true}, faults: map[string][]Fault{}}
	for _, u := range users {
		s.users[u] = true
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if ln != nil {
		s.srv.Listener.Close()
		s.srv.Listener = ln
	}
	s.srv.Start()
	return s
}

// URL is the Web API's base URL, for slack.OptionAPIURL.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// Close stops the fake, cutting hanging requests.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Fail queues faults for the next calls of method (e.g. "chat.postMessage").
func (s *Server) Fail(method string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], faults...)
}

// HangAll makes every call hang until the client gives up, or stops that.
func (s *Server) HangAll(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.faults["*"] = []Fault{{Hang: true}}
	} else {
		delete(s.faults, "*")
	}
}

// AddChannel adds a channel made by someone else (archived or not), with
// members other than the bot.
func (s *Server) AddChannel(name string, archived bool, members ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addChannel(name, archived, members...).ID
}

// Channels returns copies of every channel, oldest first.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Channel, len(s.channels))
	for i, c := range s.channels {
		out[i] = *c
		out[i].Members = slices.Clone(c.Members)
		out[i].Messages = slices.Clone(c.Messages)
		out[i].metadata = slices.Clone(c.metadata)
	}
	return out
}

// Status returns a user's status text.
func (s *Server) Status(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statuses[user]
}

// Calls lists the methods called so far, in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Hanging is how many requests are waiting for an answer now.
func (s *Server) Hanging() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hanging
}

func (s *Server) addChannel(name string, archived bool, members ...string) *Channel {
	c := &Channel{ID: fmt.Sprintf("C%04d", len(s.channels)+1), Name: name, Archived: archived, Members: members}
	s.channels = append(s.channels, c)
	return c
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	f, faulted := s.nextFault(method)
	s.calls = append(s.calls, method)
	if faulted && f.Hang {
		s.hanging++
	}
	s.mu.Unlock()
	if faulted && !f.Lost {
		s.fault(w, r, f)
		return
	}
	token := r.Form.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if token != s.token {
		answer(w, "invalid_auth", nil)
		return
	}
	s.mu.Lock()
	code, body := s.call(method, r.Form)
	if faulted { // Lost: done, but the answer goes nowhere
		s.hanging++
		s.mu.Unlock()
		s.fault(w, r, Fault{Hang: true})
		return
	}
	s.mu.Unlock()
	answer(w, code, body)
}

// call runs method on the fake's state; s.mu is held.
func (s *Server) call(method string, form map[string][]string) (string, any) {
	h, ok := map[string]func(url map[string][]string) (string, any){
		"conversations.create":    s.create,
		"conversations.list":      s.list,
		"conversations.setTopic":  s.setTopic,
		"conversations.invite":    s.invite,
		"chat.postMessage":        s.post,
		"users.profile.set":       s.profile,
		"conversations.archive":   s.archive,
		"conversations.unarchive": s.unarchive,
		"conversations.join":      s.join,
		"conversations.history":   s.history,
	}[method]
	if !ok {
		return "unknown_method", nil
	}
	return h(form)
}

func (s *Server) nextFault(method string) (Fault, bool) {
	if all := s.faults["*"]; len(all) > 0 {
		return all[0], true
	}
	q := s.faults[method]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[method] = q[1:]
	return q[0], true
}

func (s *Server) fault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch {
	case f.Hang:
		<-r.Context().Done()
		s.mu.Lock()
		s.hanging--
		s.mu.Unlock()
	case f.RetryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		w.WriteHeader(http.StatusTooManyRequests)
		answer(w, "ratelimited", nil)
	case f.Status > 0:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		fmt.Fprint(w, "<html><body>Slack is having trouble</body></html>")
	default:
		answer(w, f.Error, nil)
	}
}

// answer writes Slack's envelope: ok, or the error code, with body's fields.
func answer(w http.ResponseWriter, code string, body any) {
	out := map[string]any{"ok": code == ""}
	if code != "" {
		out["error"] = code
	}
	if m, ok := body.(map[string]any); ok {
		for k, v := range m {
			out[k] = v
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) channel(id string) *Channel {
	for _, c := range s.channels {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func channelJSON(c *Channel) map[string]any {
	return map[string]any{"id": c.ID, "name": c.Name, "is_channel": true, "is_archived": c.Archived,
		"topic": map[string]any{"value": c.Topic}}
}

// create follows conversations.create: a name of at most 80 lower-case
// letters, digits, hyphens and underscores, unique among channels.
func (s *Server) create(f map[string][]string) (string, any) {
	name := first(f["name"])
	if name == "" || len(name) > 80 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return "invalid_name_specials", nil
	}
	for _, c := range s.channels {
		if c.Name == name {
			return "name_taken", nil
		}
	}
	return "", map[string]any{"channel": channelJSON(s.addChannel(name, false, BotUser))}
}

// list follows conversations.list, in one page.
func (s *Server) list(f map[string][]string) (string, any) {
	var out []any
	for _, c := range s.channels {
		if !(c.Archived && first(f["exclude_archived"]) == "true") {
			out = append(out, channelJSON(c))
		}
	}
	return "", map[string]any{"channels": out, "response_metadata": map[string]any{"next_cursor": ""}}
}

// live finds a channel that can still change.
func (s *Server) live(f map[string][]string) (*Channel, string) {
	c := s.channel(first(f["channel"]))
	switch {
	case c == nil:
		return nil, "channel_not_found"
	case c.Archived:
		return nil, "is_archived"
	}
	return c, ""
}

func (s *Server) setTopic(f map[string][]string) (string, any) {
	c, code := s.live(f)
	if c == nil {
		return code, nil
	}
	topic := first(f["topic"])
	if len([]rune(topic)) > 250 {
		return "too_long", nil
	}
	c.Topic = topic
	return "", map[string]any{"channel": channelJSON(c)}
}

// invite follows conversations.invite without force: one bad user fails
// the call.
func (s *Server) invite(f map[string][]string) (string, any) {
	c, code := s.live(f)
	if c == nil {
		return code, nil
	}
	users := strings.Split(first(f["users"]), ",")
	for _, u := range users {
		switch {
		case u == BotUser:
			return "cant_invite_self", nil
		case !s.users[u]:
			return "user_not_found", nil
		case slices.Contains(c.Members, u):
			return "already_in_channel", nil
		}
	}
	c.Members = append(c.Members, users...)
	return "", map[string]any{"channel": channelJSON(c)}
}

func (s *Server) post(f map[string][]string) (string, any) {
	c, code := s.live(f)
	if c == nil {
		return code, nil
	}
	text := first(f["text"])
	if text == "" {
		return "no_text", nil
	}
	meta := first(f["metadata"])
	if meta != "" && !validMetadata(meta) {
		return "invalid_metadata_format", nil
	}
	c.Messages = append(c.Messages, text)
	c.metadata = append(c.metadata, meta)
	return "", map[string]any{"channel": c.ID, "ts": messageTS(len(c.Messages))}
}

func messageTS(n int) string { return fmt.Sprintf("1700000000.%06d", n) }

// validMetadata checks chat.postMessage's metadata: a JSON object with an
// event_type and an event_payload object.
func validMetadata(meta string) bool {
	var m struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	return json.Unmarshal([]byte(meta), &m) == nil && m.EventType != "" && m.EventPayload != nil
}

// history follows conversations.history: the latest messages first, up to
// limit (default 100, at most 999), each with its metadata when
// include_all_metadata is set; archived channels can still be read.
func (s *Server) history(f map[string][]string) (string, any) {
	c := s.channel(first(f["channel"]))
	if c == nil {
		return "channel_not_found", nil
	}
	limit, err := strconv.Atoi(first(f["limit"]))
	if err != nil || limit <= 0 {
		limit = 100
	}
	limit = min(limit, 999)
	withMeta := first(f["include_all_metadata"]) == "1" || first(f["include_all_metadata"]) == "true"
	var msgs []map[string]any
	for i := len(c.Messages) - 1; i >= 0 && len(msgs) < limit; i-- {
		m := map[string]any{"type": "message", "user": BotUser, "text": c.Messages[i], "ts": messageTS(i + 1)}
		if withMeta && c.metadata[i] != "" {
			m["metadata"] = json.RawMessage(c.metadata[i])
		}
		msgs = append(msgs, m)
	}
	return "", map[string]any{"messages": msgs, "has_more": len(msgs) < len(c.Messages),
		"response_metadata": map[string]any{"next_cursor": ""}}
}

// profile follows users.profile.set for status_text.
func (s *Server) profile(f map[string][]string) (string, any) {
	user := first(f["user"])
	if !s.users[user] {
		return "user_not_found", nil
	}
	var p struct {
		StatusText string `json:"status_text"`
	}
	if err := json.Unmarshal([]byte(first(f["profile"])), &p); err != nil {
		return "invalid_profile", nil
	}
	s.statuses[user] = p.StatusText
	return "", map[string]any{"profile": map[string]any{"status_text": p.StatusText}}
}

// join follows conversations.join: a member already gets a warning, not an error.
func (s *Server) join(f map[string][]string) (string, any) {
	c, code := s.live(f)
	if c == nil {
		return code, nil
	}
	if slices.Contains(c.Members, BotUser) {
		return "", map[string]any{"channel": channelJSON(c), "warning": "already_in_channel"}
	}
	c.Members = append(c.Members, BotUser)
	return "", map[string]any{"channel": channelJSON(c)}
}

func (s *Server) archive(f map[string][]string) (string, any) {
	c := s.channel(first(f["channel"]))
	switch {
	case c == nil:
		return "channel_not_found", nil
	case c.Archived:
		return "already_archived", nil
	}
	c.Archived = true
	return "", nil
}

// unarchive follows conversations.unarchive: the calling user is added to
// the channel. Slack refuses bot tokens here; Fail makes the fake do so.
func (s *Server) unarchive(f map[string][]string) (string, any) {
	c := s.channel(first(f["channel"]))
	switch {
	case c == nil:
		return "channel_not_found", nil
	case !c.Archived:
		return "not_archived", nil
	}
	c.Archived = false
	if !slices.Contains(c.Members, BotUser) {
		c.Members = append(c.Members, BotUser)
	}
	return "", nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
