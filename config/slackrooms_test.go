package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSlackRoomsValid(t *testing.T) {
	dir := abs(t, "testdata/chat")
	tests := []struct {
		file string
		want SlackCommands
	}{
		{"full.yml", SlackCommands{Rooms: true, Token: NewSecret("xoxb-1234-5678-testdata"), TokenFile: filepath.Join(dir, "slack.token"),
			APIURL: "http://127.0.0.1:9/api/", MinSeverity: "SEV1", ChannelName: "incident-{{.Number}}",
			VideoBridge: "https://meet.example.com/{{.Key}}", ArchiveAfterResolve: 24 * time.Hour,
			SigningSecret: NewSecret("8f742231b10e8888abcd99yyyzzz85a5"), SigningSecretFile: filepath.Join(dir, "signing.secret"),
			Timeout: 3 * time.Second}},
		{"minimal.yml", SlackCommands{Rooms: true, Token: NewSecret("xoxb-inline-token"), APIURL: DefaultSlackAPIURL,
			MinSeverity: DefaultSlackMinSeverity, ChannelName: DefaultSlackChannelName, Timeout: DefaultSlackTimeout}},
		{"off.yml", SlackCommands{}},
		{"commands_only.yml", SlackCommands{SigningSecret: NewSecret("8f742231b10e8888abcd99yyyzzz85a5"), SigningSecretFile: filepath.Join(dir, "signing.secret")}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg, err := Load(filepath.Join("testdata", "chat", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Chat.Slack, tt.want) {
				t.Errorf("got  %+v\nwant %+v", cfg.Chat.Slack, tt.want)
			}
			if s := fmt.Sprintf("%v %+v %#v", cfg.Chat, cfg.Chat, cfg.Chat); strings.Contains(s, "xoxb") || strings.Contains(s, "8f7422") {
				t.Errorf("a secret prints: %s", s)
			}
		})
	}
}

func TestSlackRoomsInvalid(t *testing.T) {
	tests := map[string]string{
		"no_token.yml":            ":9: chat.slack.min_severity: chat rooms need one of token and token_file",
		"token_and_file.yml":      ":10: chat.slack.token_file: give token or token_file, not both",
		"bad_token.yml":           ":9: chat.slack.token: want a Slack token (xoxb-… for a bot, xoxp-… for a user), without whitespace",
		"bad_field.yml":           `:10: chat.slack.channel_name: template: :1:6: executing "" at <.Nmber>: can't evaluate field Nmber in type config.chatTemplateData`,
		"bad_template.yml":        `:10: chat.slack.video_bridge: template: :1: unclosed action`,
		"negative_archive.yml":    ":10: chat.slack.archive_after_resolve: must not be negative (0 never archives), got -1h0m0s",
		"bad_api_url.yml":         `:10: chat.slack.api_url: want an absolute http(s) URL, got "slack.com/api"`,
		"missing_secret_file.yml": ":10: chat.slack.signing_secret_file: ",
		"unknown_key.yml":         ":10: chat.slack.channel: unknown key",
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", "chat", file)
			_, err := Load(path)
			if err == nil || !strings.HasPrefix(err.Error(), path+want) {
				t.Errorf("error\n got %v\nwant %s%s…", err, path, want)
			}
		})
	}
}
