package chatops

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

// Headers of a signed Slack request.
const (
	SignatureHeader = "X-Slack-Signature"
	TimestampHeader = "X-Slack-Request-Timestamp"
)

// Window is how far a signed request's timestamp may be from now, either
// way, as Slack's documentation advises against replays.
const Window = 5 * time.Minute

// ErrSignature is wrapped by every reason a request's signature is refused.
var ErrSignature = errors.New("slack signature")

// Verify checks Slack's signature of body: header must be "v0=" and the
// hex HMAC-SHA256, under secret, of "v0:" + timestamp + ":" + body, and
// the timestamp (Unix seconds) within Window of now. The comparison takes
// the same time however much of the signature matches.
func Verify(secret []byte, header, timestamp string, body []byte, now time.Time) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no signing secret is configured (chat.slack.signing_secret_file)", ErrSignature)
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not a Unix time", ErrSignature, TimestampHeader)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Window || d < -Window {
		return fmt.Errorf("%w: the request's timestamp is %s from now, more than %s", ErrSignature, d.Round(time.Second), Window)
	}
	got, ok := strings.CutPrefix(header, "v0=")
	sum, err := hex.DecodeString(got)
	if !ok || err != nil {
		return fmt.Errorf("%w: %s is not v0= and hex digits", ErrSignature, SignatureHeader)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	if !hmac.Equal(sum, mac.Sum(nil)) {
		return fmt.Errorf("%w: it does not match the body", ErrSignature)
	}
	return nil
}

// Request is what Klaxon reads of a slash command's form-encoded payload.
type Request struct {
	Command   string // "/klaxon"
	Text      string // what follows the command
	UserID    string // the Slack user who typed it
	UserName  string
	ChannelID string // where it was typed
	TeamID    string
	// SSLCheck marks Slack's check that the endpoint answers (ssl_check=1),
	// which carries no command; it is answered 200 and nothing else.
	SSLCheck bool
}

// ParseRequest parses a slash command's form-encoded body.
func ParseRequest(body []byte) (Request, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return Request{}, fmt.Errorf("slash command payload: %w", err)
	}
	r := Request{Command: v.Get("command"), Text: v.Get("text"), UserID: v.Get("user_id"), UserName: v.Get("user_name"),
		ChannelID: v.Get("channel_id"), TeamID: v.Get("team_id"), SSLCheck: v.Get("ssl_check") == "1"}
	switch {
	case r.SSLCheck:
		return r, nil
	case r.Command == "":
		return r, errors.New("slash command payload: no command")
	case r.UserID == "":
		return r, errors.New("slash command payload: no user_id")
	}
	return r, nil
}

// Reply is the answer to a slash command, as Slack takes it.
type Reply struct {
	ResponseType string `json:"response_type"` // "ephemeral": only the sender sees it
	Text         string `json:"text"`
}

func ephemeral(format string, args ...any) Reply {
	return Reply{ResponseType: "ephemeral", Text: fmt.Sprintf(format, args...)}
}

// Rooms finds the incident a chat room (a Slack channel) was opened for.
type Rooms interface {
	IncidentForChannel(channelID string) (key string, ok bool)
}

// People finds the on-call person behind a Slack user.
type People interface {
	PersonForSlackUser(userID string) (person string, ok bool)
}

// Actor journals human actions (engine.Engine), as the incident API does.
type Actor interface {
	Act(ctx context.Context, act triage.Action) error
}

// Updater journals decisions about incident updates (engine.Engine).
type Updater interface {
	Update(ctx context.Context, uc triage.UpdateChange) error
}

// Incidents says whether the live state holds an incident
// (triage.State), so that a command for none journals nothing, as the API
// does.
type Incidents interface {
	Exists(key string) (exists, open bool)
}

// Handler carries out slash commands.
type Handler struct {
	Rooms     Rooms
	People    People
	Incidents Incidents
	Actor     Actor
	Updater   Updater
}

// Run carries out one command and says how it went; every answer is for
// the sender only.
func (h *Handler) Run(ctx context.Context, req Request) Reply {
	cmd, err := Parse(req.Text)
	if err != nil {
		return ephemeral("%s\n\n%s", strings.TrimPrefix(err.Error(), ErrUsage.Error()+": "), Help)
	}
	if cmd.Verb == VerbHelp {
		return ephemeral("%s", Help)
	}
	key := cmd.Incident
	if key == "" {
		var ok bool
		if key, ok = h.Rooms.IncidentForChannel(req.ChannelID); !ok {
			return ephemeral("This channel is not an incident's room: name the incident, e.g. `/klaxon %s INC-42 …`", firstWord(req.Text))
		}
	}
	by, ok := h.People.PersonForSlackUser(req.UserID)
	if !ok {
		return ephemeral("Your Slack user (%s) is not linked to an on-call person, so Klaxon cannot say who did this.", req.UserID)
	}
	if exists, _ := h.Incidents.Exists(key); !exists {
		return ephemeral("%s: no such incident, or it was resolved and archived", key)
	}
	msg, err := h.carryOut(ctx, cmd, key, by)
	if err != nil {
		return ephemeral("%s: %s", key, explain(err))
	}
	return ephemeral("%s: %s", key, msg)
}

// carryOut journals the entry the incident API would for cmd.
func (h *Handler) carryOut(ctx context.Context, cmd Command, key, by string) (string, error) {
	switch cmd.Verb {
	case VerbAck:
		return "acknowledged by " + by, h.Actor.Act(ctx, triage.Action{Kind: triage.ActionAck, Incident: key, By: by})
	case VerbRole:
		person := cmd.Person
		if cmd.SlackUser != "" {
			var ok bool
			if person, ok = h.People.PersonForSlackUser(cmd.SlackUser); !ok {
				return "", fmt.Errorf("%w: <@%s> is not linked to an on-call person", triage.ErrInvalid, cmd.SlackUser)
			}
		}
		return fmt.Sprintf("%s is now %s", person, cmd.Role),
			h.Actor.Act(ctx, triage.Action{Kind: triage.ActionAssignRole, Incident: key, Role: cmd.Role, Person: person, By: by})
	case VerbEntry:
		return fmt.Sprintf("%s added to the timeline", cmd.Kind),
			h.Actor.Act(ctx, triage.Action{Kind: triage.ActionTimelinePost, Incident: key, EntryKind: cmd.Kind, Note: cmd.Text, By: by})
	}
	if cmd.State == triage.StateResolved {
		return "resolved by " + by, h.Actor.Act(ctx, triage.Action{Kind: triage.ActionResolve, Incident: key, By: by, Note: cmd.Text})
	}
	text := cmd.Text
	if text == "" {
		text = fmt.Sprintf("Status: %s (set by %s from Slack).", cmd.State, by)
	}
	uc := triage.UpdateChange{Op: triage.UpdatePost, Incident: key, Audience: triage.AudienceInternal, State: cmd.State, Text: text, By: by}
	if err := uc.Check(); err != nil {
		return "", err
	}
	return fmt.Sprintf("internal update posted: %s", cmd.State), h.Updater.Update(ctx, uc)
}

// explain words an engine or triage error for the sender.
func explain(err error) string {
	for _, known := range []error{triage.ErrInvalid, triage.ErrConflict, triage.ErrNotFound} {
		if errors.Is(err, known) {
			return strings.TrimPrefix(err.Error(), known.Error()+": ")
		}
	}
	return "Klaxon could not store this now; try again. (" + err.Error() + ")"
}

func firstWord(text string) string {
	w, _ := word(text)
	return strings.ToLower(w)
}
