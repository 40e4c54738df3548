package config

import (
	"cmp"
	"io"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// Defaults of the chat section.
const (
	DefaultSlackAPIURL      = "https://slack.com/api/"
	DefaultSlackMinSeverity = "SEV2"
	DefaultSlackChannelName = "inc-{{.Number}}-{{.Service}}"
	DefaultSlackTimeout     = 10 * time.Second
)

// Chat configures the chat rooms incidents get; off unless slack is set.
type Chat struct {
	Slack Slack `yaml:"slack"`
}

// Slack configures a Slack channel per incident at or above a severity.
// The token and signing secret stay here: they are read by the workers and
// never journaled or logged.
type Slack struct {
	// Enabled is set when the file has a slack section that is not empty.
	Enabled bool `yaml:"-"`
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
	// SigningSecret verifies slash commands from Slack, inline or read from
	// SigningSecretFile; optional.
	SigningSecret     Secret `yaml:"signing_secret"`
	SigningSecretFile string `yaml:"signing_secret_file"`
	// Timeout bounds one Web API call.
	Timeout time.Duration `yaml:"timeout"`
}

// check validates a slack section; an absent or empty one leaves chat
// rooms off.
func (s *Slack) check(m *mapping) error {
	if s.Enabled = len(m.keys) > 0; !s.Enabled {
		return nil
	}
	s.APIURL = cmp.Or(s.APIURL, DefaultSlackAPIURL)
	s.MinSeverity = cmp.Or(s.MinSeverity, DefaultSlackMinSeverity)
	s.ChannelName = cmp.Or(s.ChannelName, DefaultSlackChannelName)
	if s.Timeout == 0 {
		s.Timeout = DefaultSlackTimeout
	}
	tok, key, err := secretOrFile(m, "token", s.Token, &s.TokenFile, true)
	if err != nil {
		return err
	}
	s.Token = tok
	if !strings.HasPrefix(tok.Reveal(), "xox") || strings.IndexFunc(tok.Reveal(), unicode.IsSpace) >= 0 {
		return m.errorf(key, "want a Slack token (xoxb-… for a bot, xoxp-… for a user), without whitespace")
	}
	if s.SigningSecret, _, err = secretOrFile(m, "signing_secret", s.SigningSecret, &s.SigningSecretFile, false); err != nil {
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

// secretOrFile reads the secret given as key or in key_file (exclusive);
// one of them is needed when required. It returns the key used.
func secretOrFile(m *mapping, key string, inline Secret, file *string, required bool) (Secret, string, error) {
	fileKey := key + "_file"
	switch {
	case m.has(key) && m.has(fileKey):
		return Secret{}, fileKey, m.errorf(fileKey, "%s and %s exclude each other; keep one", key, fileKey)
	case m.has(fileKey):
		if *file == "" {
			return Secret{}, fileKey, m.errorf(fileKey, "must not be empty")
		}
		*file = m.d.resolve(*file)
		v, err := readTokenFile(*file)
		if err != nil {
			return Secret{}, fileKey, m.errorf(fileKey, "%w", err)
		}
		return NewSecret(v), fileKey, nil
	case inline.IsZero() && required:
		return Secret{}, key, m.d.errorf(m.pos, "one of %s and %s is required", key, fileKey)
	}
	return inline, key, nil
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
