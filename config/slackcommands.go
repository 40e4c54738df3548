package config

import (
	"cmp"
	"io"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// Chat configures the chat rooms Klaxon works with: Slack's slash commands
// (/klaxon ack, role, note, status) that act on incidents, and, with a
// token, a Slack channel per incident (README: "Chat rooms in Slack").
type Chat struct {
	Slack SlackCommands `yaml:"slack"`
}

// Defaults of the chat rooms.
const (
	DefaultSlackAPIURL      = "https://slack.com/api/"
	DefaultSlackMinSeverity = "SEV2"
	DefaultSlackChannelName = "inc-{{.Number}}-{{.Service}}"
	DefaultSlackTimeout     = 10 * time.Second
)

// SlackCommands configures Slack: slash commands (POST /slack/commands),
// which are authenticated by Slack's request signature alone, and chat
// rooms, which the token turns on. Secrets stay here: the workers read
// them; they are never journaled or logged.
type SlackCommands struct {
	// SigningSecret is the Slack app's signing secret, as its Basic
	// Information page shows it; SigningSecretFile reads it from a file
	// instead (give one of them). Without it every command is refused.
	SigningSecret     Secret `yaml:"signing_secret"`
	SigningSecretFile string `yaml:"signing_secret_file"`

	// Rooms is set when a token is given: incidents at or above
	// MinSeverity get a channel.
	Rooms bool `yaml:"-"`
	// Token is the Slack token (xoxb-… or xoxp-…), inline or read from TokenFile.
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// APIURL is the Web API's base URL, ending in a slash.
	APIURL string `yaml:"api_url"`
	// MinSeverity is the severity level name from which incidents get a room.
	MinSeverity string `yaml:"min_severity"`
	// ChannelName is the template of a room's name ({{.Number}}, {{.Key}},
	// {{.Service}}, {{.Severity}}, {{.Title}}), made to fit Slack's rules.
	ChannelName string `yaml:"channel_name"`
	// VideoBridge is the template of the video-bridge link in the topic; "" for none.
	VideoBridge string `yaml:"video_bridge"`
	// ArchiveAfterResolve is how long after resolution a room is archived; 0 for never.
	ArchiveAfterResolve time.Duration `yaml:"archive_after_resolve"`
	// Timeout bounds one Web API call.
	Timeout time.Duration `yaml:"timeout"`
}

// check reads the signing secret's file, if named; the secret must be at
// least MinTokenLength bytes (Slack's are 32 hex digits). Then the rooms.
func (s *SlackCommands) check(m *mapping) error {
	if m.has("signing_secret_file") {
		if !s.SigningSecret.IsZero() {
			return m.errorf("signing_secret_file", "give signing_secret or signing_secret_file, not both")
		}
		if s.SigningSecretFile == "" {
			return m.errorf("signing_secret_file", "must not be empty")
		}
		s.SigningSecretFile = m.d.resolve(s.SigningSecretFile)
		secret, err := readTokenFile(s.SigningSecretFile)
		if err != nil {
			return m.errorf("signing_secret_file", "%w", err)
		}
		s.SigningSecret = NewSecret(secret)
	}
	key := "signing_secret"
	if m.has("signing_secret_file") {
		key = "signing_secret_file"
	}
	if !s.SigningSecret.IsZero() && len(s.SigningSecret.Reveal()) < MinTokenLength {
		return m.errorf(key, "the secret is %d bytes long, at least %d are required", len(s.SigningSecret.Reveal()), MinTokenLength)
	}
	return s.checkRooms(m)
}

// roomKeys are the keys that configure chat rooms, which need a token.
var roomKeys = []string{"api_url", "min_severity", "channel_name", "video_bridge", "archive_after_resolve", "timeout"}

// checkRooms reads the token and validates the rooms' settings.
func (s *SlackCommands) checkRooms(m *mapping) error {
	s.Rooms = m.has("token") || m.has("token_file")
	if !s.Rooms {
		for _, k := range roomKeys {
			if m.has(k) {
				return m.errorf(k, "chat rooms need one of token and token_file")
			}
		}
		return nil
	}
	s.APIURL = cmp.Or(s.APIURL, DefaultSlackAPIURL)
	s.MinSeverity = cmp.Or(s.MinSeverity, DefaultSlackMinSeverity)
	s.ChannelName = cmp.Or(s.ChannelName, DefaultSlackChannelName)
	s.Timeout = cmp.Or(s.Timeout, DefaultSlackTimeout)
	if err := s.readToken(m); err != nil {
		return err
	}
	u, err := parseExternalURL(s.APIURL)
	if err != nil {
		return m.errorf("api_url", "%v", err)
	}
	s.APIURL = u + "/"
	switch {
	case strings.TrimSpace(s.MinSeverity) != s.MinSeverity:
		return m.errorf("min_severity", "name a severity level, e.g. SEV2, without spaces")
	case s.ArchiveAfterResolve < 0:
		return m.errorf("archive_after_resolve", "must not be negative (0 never archives), got %s", s.ArchiveAfterResolve)
	case s.Timeout < 0:
		return m.errorf("timeout", "must be positive, got %s", s.Timeout)
	}
	for _, t := range []struct{ key, text string }{{"channel_name", s.ChannelName}, {"video_bridge", s.VideoBridge}} {
		if err := checkChatTemplate(t.text); err != nil {
			return m.errorf(t.key, "%v", err)
		}
	}
	return nil
}

// readToken reads the token from token or token_file (one of them) and
// checks its form, never echoing it.
func (s *SlackCommands) readToken(m *mapping) error {
	key := "token"
	if m.has("token_file") {
		key = "token_file"
		switch {
		case m.has("token"):
			return m.errorf(key, "give token or token_file, not both")
		case s.TokenFile == "":
			return m.errorf(key, "must not be empty")
		}
		s.TokenFile = m.d.resolve(s.TokenFile)
		tok, err := readTokenFile(s.TokenFile)
		if err != nil {
			return m.errorf(key, "%w", err)
		}
		s.Token = NewSecret(tok)
	}
	if tok := s.Token.Reveal(); !strings.HasPrefix(tok, "xox") || strings.IndexFunc(tok, unicode.IsSpace) >= 0 {
		return m.errorf(key, "want a Slack token (xoxb-… for a bot, xoxp-… for a user), without whitespace")
	}
	return nil
}

// chatTemplateData is what chat templates see, for checking them.
type chatTemplateData struct {
	Number                        uint64
	Key, Service, Severity, Title string
}

// checkChatTemplate parses a channel-name or video-bridge template and
// runs it once, so that a field it names that does not exist is an error.
func checkChatTemplate(text string) error {
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return err
	}
	return t.Execute(io.Discard, chatTemplateData{Number: 42, Key: "INC-42", Service: "checkout", Severity: "SEV1", Title: "Checkout down"})
}
