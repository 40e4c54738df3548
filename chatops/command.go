// Package chatops turns the commands responders type in their incident's
// chat room (Slack's /klaxon slash command) into the same journal entries
// the incident API makes: ack, role, timeline entries and status. It
// parses, verifies Slack's request signature and answers; the HTTP route
// lives in server/.
package chatops

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/triage"
)

// Verbs a command starts with.
const (
	VerbAck    = "ack"
	VerbRole   = "role"
	VerbStatus = "status"
	VerbHelp   = "help"
	VerbEntry  = "entry" // note, observation, theory, experiment, action
)

// MaxText bounds the text of a command, in bytes: a timeline entry's
// limit and room for the words before it.
const MaxText = triage.MaxEntryText + 256

// Command is one parsed /klaxon command.
type Command struct {
	Verb     string
	Incident string // the key given explicitly, or "" for the room's incident
	// Role and Person are role's: the role's id (aliases im, tl, cm
	// expanded) and who takes it, either a Slack user id (SlackUser) or
	// an on-call person's id.
	Role, Person, SlackUser string
	Kind                    triage.EntryKind   // an entry's kind
	State                   triage.UpdateState // status's state
	Text                    string             // an entry's text, or status's optional text
}

// roleAliases are the short names of the default roles.
var roleAliases = map[string]string{"im": "incident_manager", "tl": "technical_lead", "cm": "communications_manager"}

var (
	keyPattern = regexp.MustCompile(`^(?i)INC-[0-9]{1,18}$`)
	// mention is how Slack escapes a user mention: <@U024BE7LH> or <@U024BE7LH|ada>.
	mention = regexp.MustCompile(`^<@([UW][A-Z0-9]{1,40})(\|[^>]*)?>$`)
	// personName is an on-call person's id as a plain word (@ada or ada).
	personName = regexp.MustCompile(`^@?([A-Za-z0-9._-]{1,64})$`)
)

// ErrUsage is wrapped by every parse error: the answer is the help text.
var ErrUsage = errors.New("usage")

// Parse parses the text after /klaxon.
func Parse(text string) (Command, error) {
	if len(text) > MaxText {
		return Command{}, fmt.Errorf("%w: the command is %d bytes, more than %d", ErrUsage, len(text), MaxText)
	}
	if !utf8.ValidString(text) {
		return Command{}, fmt.Errorf("%w: the command is not UTF-8", ErrUsage)
	}
	verb, rest := word(text)
	verb = strings.ToLower(verb)
	var cmd Command
	if verb != VerbHelp && verb != "" {
		if key, after := word(rest); keyPattern.MatchString(key) {
			cmd.Incident, rest = strings.ToUpper(key), after
		}
	}
	switch verb {
	case "", VerbHelp:
		return Command{Verb: VerbHelp}, nil
	case VerbAck:
		cmd.Verb = VerbAck
		if strings.TrimSpace(rest) != "" {
			return Command{}, fmt.Errorf("%w: ack takes no words but an incident key", ErrUsage)
		}
		return cmd, nil
	case VerbRole:
		return parseRole(cmd, rest)
	case VerbStatus:
		return parseStatus(cmd, rest)
	}
	kind, ok := triage.ParseEntryKind(verb)
	if !ok {
		return Command{}, fmt.Errorf("%w: unknown command %q", ErrUsage, verb)
	}
	cmd.Verb, cmd.Kind, cmd.Text = VerbEntry, kind, strings.TrimSpace(rest)
	if cmd.Text == "" {
		return Command{}, fmt.Errorf("%w: %s needs a text", ErrUsage, kind)
	}
	return cmd, nil
}

func parseRole(cmd Command, rest string) (Command, error) {
	role, rest := word(rest)
	who, rest := word(rest)
	if role == "" || who == "" || strings.TrimSpace(rest) != "" {
		return Command{}, fmt.Errorf("%w: role needs a role and a person: role im @ada", ErrUsage)
	}
	cmd.Verb, cmd.Role = VerbRole, strings.ToLower(role)
	if id, ok := roleAliases[cmd.Role]; ok {
		cmd.Role = id
	}
	if m := mention.FindStringSubmatch(who); m != nil {
		cmd.SlackUser = m[1]
		return cmd, nil
	}
	m := personName.FindStringSubmatch(who)
	if m == nil {
		return Command{}, fmt.Errorf("%w: %q names nobody: mention them (@name) or give their on-call id", ErrUsage, who)
	}
	cmd.Person = m[1]
	return cmd, nil
}

func parseStatus(cmd Command, rest string) (Command, error) {
	state, rest := word(rest)
	cmd.Verb, cmd.State, cmd.Text = VerbStatus, triage.UpdateState(strings.ToLower(state)), strings.TrimSpace(rest)
	switch cmd.State {
	case triage.StateInvestigating, triage.StateIdentified, triage.StateMonitoring, triage.StateResolved:
		return cmd, nil
	}
	return Command{}, fmt.Errorf("%w: status is one of investigating, identified, monitoring, resolved", ErrUsage)
}

// word splits off the first word of s (Unicode white space separates).
func word(s string) (first, rest string) {
	s = strings.TrimLeft(s, " \t\r\n\u00a0")
	i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\u00a0' })
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// Help is the answer to /klaxon help and to a command that does not parse.
const Help = "Klaxon commands, in an incident's channel (or name the incident: `/klaxon ack INC-42`):\n" +
	"• `/klaxon ack` acknowledge the incident\n" +
	"• `/klaxon role im|tl|cm|<role> @person` give a role (incident manager, technical lead, communications manager)\n" +
	"• `/klaxon note|observation|theory|experiment|action <text>` add to the timeline\n" +
	"• `/klaxon status investigating|identified|monitoring|resolved [text]` post an internal update; resolved resolves the incident\n" +
	"• `/klaxon help` this text"
