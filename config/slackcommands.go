package config

// Chat configures the chat rooms Klaxon works with; so far, the Slack app
// whose slash commands (/klaxon ack, role, note, status) act on incidents.
type Chat struct {
	Slack SlackCommands `yaml:"slack"`
}

// SlackCommands configures Slack's slash commands (POST /slack/commands),
// which are authenticated by Slack's request signature alone.
type SlackCommands struct {
	// SigningSecret is the Slack app's signing secret, as its Basic
	// Information page shows it; SigningSecretFile reads it from a file
	// instead (give one of them). Without it every command is refused.
	SigningSecret     Secret `yaml:"signing_secret"`
	SigningSecretFile string `yaml:"signing_secret_file"`
}

// check reads the signing secret's file, if named; the secret must be at
// least MinTokenLength bytes (Slack's are 32 hex digits).
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
	return nil
}
