package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSlackSigningSecret(t *testing.T) {
	dir := t.TempDir()
	secret := "8f742231b10e8888abcd99yyyzzz85a5"
	for name, data := range map[string]string{"slack.secret": secret + "\n", "short.secret": "abc\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, yaml, want, err string }{
		{"none", "", "", ""},
		{"inline", "chat: {slack: {signing_secret: " + secret + "}}", secret, ""},
		{"file", "chat: {slack: {signing_secret_file: slack.secret}}", secret, ""},
		{"both", "chat: {slack: {signing_secret: " + secret + ", signing_secret_file: slack.secret}}", "",
			"chat.slack.signing_secret_file: give signing_secret or signing_secret_file, not both"},
		{"short", "chat: {slack: {signing_secret_file: short.secret}}", "",
			"chat.slack.signing_secret_file: the secret is 3 bytes long, at least 16 are required"},
		{"short inline", "chat: {slack: {signing_secret: abc}}", "", "chat.slack.signing_secret: the secret is 3 bytes long"},
		{"missing file", "chat: {slack: {signing_secret_file: nope}}", "", "chat.slack.signing_secret_file: stat"},
		{"postmortem template", "postmortem: {template_file: pm.md.tmpl}", "", ""},
	} {
		cfg, err := Parse([]byte("auth: {admin_open: true, ingest: {alertmanager: {open: true}, prometheus: {open: true}}}\n"+tc.yaml), filepath.Join(dir, "klaxon.yml"))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error shows the secret: %v", tc.name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case cfg.Chat.Slack.SigningSecret.Reveal() != tc.want:
			t.Errorf("%s: secret %q, want %q", tc.name, cfg.Chat.Slack.SigningSecret.Reveal(), tc.want)
		case tc.name == "postmortem template" && cfg.Postmortem.TemplateFile != filepath.Join(dir, "pm.md.tmpl"):
			t.Errorf("template file %q is not resolved against the configuration's directory", cfg.Postmortem.TemplateFile)
		}
	}
}
