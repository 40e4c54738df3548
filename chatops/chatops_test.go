package chatops

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Command
		err  string
	}{
		{"", Command{Verb: VerbHelp}, ""},
		{"help", Command{Verb: VerbHelp}, ""},
		{"ack", Command{Verb: VerbAck}, ""},
		{"ACK inc-42", Command{Verb: VerbAck, Incident: "INC-42"}, ""},
		{"ack now please", Command{}, "ack takes no words but an incident key"},
		{"role im @ada", Command{Verb: VerbRole, Role: "incident_manager", Person: "ada"}, ""},
		{"role INC-7 tl <@U024BE7LH|ben>", Command{Verb: VerbRole, Incident: "INC-7", Role: "technical_lead", SlackUser: "U024BE7LH"}, ""},
		{"role scribe <@W0123>", Command{Verb: VerbRole, Role: "scribe", SlackUser: "W0123"}, ""},
		{"role cm", Command{}, "role needs a role and a person"},
		{"role cm @a @b", Command{}, "role needs a role and a person"},
		{"role cm <#C123>", Command{}, `"<#C123>" names nobody`},
		{"note the cache is cold", Command{Verb: VerbEntry, Kind: triage.EntryNote, Text: "the cache is cold"}, ""},
		{"Theory INC-3  bad deploy\nof v42 ", Command{Verb: VerbEntry, Incident: "INC-3", Kind: triage.EntryTheory, Text: "bad deploy\nof v42"}, ""},
		{"observation", Command{}, "observation needs a text"},
		{"experiment INC-3", Command{}, "experiment needs a text"},
		{"action rolled back", Command{Verb: VerbEntry, Kind: triage.EntryAction, Text: "rolled back"}, ""},
		{"note INC-3x is the host", Command{Verb: VerbEntry, Kind: triage.EntryNote, Text: "INC-3x is the host"}, ""},
		{"status identified", Command{Verb: VerbStatus, State: triage.StateIdentified}, ""},
		{"status INC-9 Monitoring fix deployed", Command{Verb: VerbStatus, Incident: "INC-9", State: triage.StateMonitoring, Text: "fix deployed"}, ""},
		{"status resolved", Command{Verb: VerbStatus, State: triage.StateResolved}, ""},
		{"status fine", Command{}, "status is one of investigating"},
		{"dance", Command{}, `unknown command "dance"`},
		{"note \xff", Command{}, "not UTF-8"},
		{"note " + strings.Repeat("x", MaxText), Command{}, "more than"},
	} {
		got, err := Parse(tc.text)
		switch {
		case tc.err != "":
			if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%.40q) = %+v, %v; want error %q", tc.text, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.text, got, err, tc.want)
		}
	}
}

// FuzzParse: any text parses or is refused as usage, never panics, and
// what parses is well formed.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "help", "ack INC-1", "role im <@U1|a>", "role tl @ada", "note x", "theory INC-2 y",
		"status identified z", "status resolved", "note \xff", "role im <@U1", "\u00a0ack\u00a0INC-3"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := Parse(text)
		if err != nil {
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("Parse(%q): %v is not a usage error", text, err)
			}
			return
		}
		switch cmd.Verb {
		case VerbHelp, VerbAck:
		case VerbRole:
			if cmd.Role == "" || (cmd.Person == "") == (cmd.SlackUser == "") {
				t.Fatalf("Parse(%q) = %+v: a role needs a role and one person", text, cmd)
			}
		case VerbEntry:
			if triage.CheckEntryText(cmd.Text) != nil {
				t.Fatalf("Parse(%q) = %+v: an entry's text triage refuses", text, cmd)
			}
		case VerbStatus:
			if cmd.State == "" {
				t.Fatalf("Parse(%q) = %+v: no state", text, cmd)
			}
		default:
			t.Fatalf("Parse(%q) = %+v: unknown verb", text, cmd)
		}
		if cmd.Incident != "" && !keyPattern.MatchString(cmd.Incident) {
			t.Fatalf("Parse(%q): incident %q", text, cmd.Incident)
		}
	})
}

// sign signs body as Slack does.
func sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

func TestVerify(t *testing.T) {
	// The example of Slack's "Verifying requests from Slack".
	secret := "8f742231b10e8888abcd99yyyzzz85a5"
	body := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
	const ts, docSig = "1531420618", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	at := time.Unix(1531420618, 0)
	for _, tc := range []struct {
		name, secret, sig, ts string
		body                  []byte
		now                   time.Time
		err                   string
	}{
		{"Slack's example", secret, docSig, ts, body, at, ""},
		{"five minutes late", secret, docSig, ts, body, at.Add(Window), ""},
		{"too late", secret, docSig, ts, body, at.Add(Window + time.Second), "more than 5m0s"},
		{"from the future", secret, docSig, ts, body, at.Add(-Window - time.Second), "more than 5m0s"},
		{"another body", secret, docSig, ts, append(body, 'x'), at, "does not match"},
		{"another secret", secret + "x", docSig, ts, body, at, "does not match"},
		{"another timestamp", secret, docSig, "1531420619", body, at, "does not match"},
		{"no v0", secret, strings.TrimPrefix(docSig, "v0="), ts, body, at, "not v0="},
		{"not hex", secret, "v0=zz", ts, body, at, "not v0="},
		{"no timestamp", secret, docSig, "", body, at, "not a Unix time"},
		{"no secret", "", docSig, ts, body, at, "no signing secret"},
	} {
		err := Verify([]byte(tc.secret), tc.sig, tc.ts, tc.body, tc.now)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
		case err != nil && strings.Contains(err.Error(), secret):
			t.Errorf("%s: the error shows the secret", tc.name)
		}
	}
	if got := sign(secret, ts, body); got != docSig {
		t.Errorf("sign = %s, want Slack's %s", got, docSig)
	}
}

// fakes: rooms and people as tables, and an engine that records.
type rooms map[string]string

func (r rooms) IncidentForChannel(id string) (string, bool) { k, ok := r[id]; return k, ok }

type people map[string]string

func (p people) PersonForSlackUser(id string) (string, bool) { k, ok := p[id]; return k, ok }

type incidents map[string]bool

func (i incidents) Exists(key string) (bool, bool) { return i[key], i[key] }

type recorder struct {
	got []string
	err error
}

func (r *recorder) Act(_ context.Context, a triage.Action) error {
	r.got = append(r.got, fmt.Sprintf("%s %s by=%s role=%s person=%s kind=%s note=%q", a.Kind, a.Incident, a.By, a.Role, a.Person, a.EntryKind, a.Note))
	return r.err
}

func (r *recorder) Update(_ context.Context, u triage.UpdateChange) error {
	r.got = append(r.got, fmt.Sprintf("update %s %s by=%s %s/%s %q", u.Op, u.Incident, u.By, u.Audience, u.State, u.Text))
	return r.err
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name, channel, user, text string
		engineErr                 error
		journaled                 string // "" when nothing may be journaled
		reply                     string // a substring of the answer
	}{
		{"ack in the room", "C1", "U1", "ack", nil, `ack INC-1 by=ada role= person= kind= note=""`, "INC-1: acknowledged by ada"},
		{"ack named elsewhere", "C9", "U1", "ack INC-5", nil, `ack INC-5 by=ada role= person= kind= note=""`, "INC-5: acknowledged"},
		{"no such incident", "C1", "U1", "ack INC-6", nil, "", "INC-6: no such incident"},
		{"ack outside a room", "C9", "U1", "ack", nil, "", "This channel is not an incident's room"},
		{"unlinked sender", "C1", "U9", "ack", nil, "", "Your Slack user (U9) is not linked"},
		{"role by mention", "C1", "U1", "role im <@U2|ben>", nil,
			`assign_role INC-1 by=ada role=incident_manager person=ben kind= note=""`, "ben is now incident_manager"},
		{"role by id", "C1", "U1", "role tl cy", nil, `assign_role INC-1 by=ada role=technical_lead person=cy kind= note=""`, "cy is now"},
		{"role of an unlinked mention", "C1", "U1", "role im <@U7>", nil, "", "<@U7> is not linked"},
		{"note", "C1", "U2", "theory the cache", nil, `timeline_post INC-1 by=ben role= person= kind=theory note="the cache"`, "theory added"},
		{"status", "C1", "U1", "status identified", nil,
			`update post INC-1 by=ada internal/identified "Status: identified (set by ada from Slack)."`, "internal update posted: identified"},
		{"status with text", "C1", "U1", "status monitoring fix is out", nil, `update post INC-1 by=ada internal/monitoring "fix is out"`, "posted"},
		{"status resolved resolves", "C1", "U1", "status resolved", nil, `resolve INC-1 by=ada role= person= kind= note=""`, "resolved by ada"},
		{"help", "C1", "U1", "help", nil, "", "/klaxon ack"},
		{"usage error", "C1", "U1", "role im", nil, "", "role needs a role and a person"},
		{"triage refuses", "C1", "U1", "ack", fmt.Errorf("%w: INC-1 is resolved and cannot be acknowledged", triage.ErrConflict),
			`ack INC-1 by=ada role= person= kind= note=""`, "INC-1: INC-1 is resolved and cannot be acknowledged"},
		{"store down", "C1", "U1", "ack", errors.New("store unavailable"), `ack INC-1 by=ada role= person= kind= note=""`, "try again"},
	} {
		rec := &recorder{err: tc.engineErr}
		h := &Handler{Rooms: rooms{"C1": "INC-1"}, People: people{"U1": "ada", "U2": "ben"},
			Incidents: incidents{"INC-1": true, "INC-5": true}, Actor: rec, Updater: rec}
		reply := h.Run(context.Background(), Request{Command: "/klaxon", Text: tc.text, UserID: tc.user, ChannelID: tc.channel})
		if reply.ResponseType != "ephemeral" || !strings.Contains(reply.Text, tc.reply) {
			t.Errorf("%s: reply %+v, want it to say %q", tc.name, reply, tc.reply)
		}
		if got := strings.Join(rec.got, "\n"); got != tc.journaled {
			t.Errorf("%s: journaled %q, want %q", tc.name, got, tc.journaled)
		}
	}
}

func TestParseRequest(t *testing.T) {
	r, err := ParseRequest([]byte("command=%2Fklaxon&text=ack+INC-4&user_id=U1&user_name=ada&channel_id=C1&team_id=T1"))
	if err != nil || r != (Request{Command: "/klaxon", Text: "ack INC-4", UserID: "U1", UserName: "ada", ChannelID: "C1", TeamID: "T1"}) {
		t.Errorf("ParseRequest = %+v, %v", r, err)
	}
	if r, err := ParseRequest([]byte("ssl_check=1&token=x")); err != nil || !r.SSLCheck {
		t.Errorf("ssl_check: %+v, %v", r, err)
	}
	for _, body := range []string{"text=ack&user_id=U1", "command=%2Fklaxon&text=ack", "command=%zz"} {
		if _, err := ParseRequest([]byte(body)); err == nil {
			t.Errorf("ParseRequest(%q) accepted it", body)
		}
	}
}
