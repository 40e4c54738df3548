package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// abs is path made absolute, as Load resolves it.
func abs(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValid(t *testing.T) {
	secrets := abs(t, "testdata/secrets")
	valid := abs(t, "testdata/valid")
	prom := Token{Name: "prometheus", Token: NewSecret("testdata-prometheus-token-0004")}
	tests := []struct {
		file string
		want *Config
	}{
		{"full.yml", &Config{
			ListenAddress: "0.0.0.0:8080",
			ExternalURL:   "https://klaxon.example.com",
			DataDir:       abs(t, "testdata/var/data"),
			LogLevel:      "debug",
			RuleFiles:     []string{filepath.Join(valid, "rules/*.yml"), "/etc/klaxon/rules.d/*.yml"},
			OnCallFiles:   []string{filepath.Join(valid, "oncall/*.yml")},
			Notify: Notify{AckKeyFile: filepath.Join(secrets, "ack.key"), AckKey: NewSecret(ackKey(t)),
				AckLinkTTL: time.Hour, Timeout: 5 * time.Second},
			Server: Server{
				MaxBodyBytes:    1 << 20,
				ReadTimeout:     90 * time.Second,
				WriteTimeout:    1500 * time.Millisecond,
				ShutdownTimeout: 24 * time.Hour,
			},
			Storage: Storage{MemtableBytes: 2 << 20, BlockCacheBytes: 8 << 20, SnapshotEvery: 1000,
				Retention: 7 * 24 * time.Hour, ArchiveRetention: 365 * 24 * time.Hour, MinFreeBytes: 256_000_000},
			Limits: Limits{ActiveAlerts: 5000, ActiveAlertsPerSource: 3000},
			Auth: Auth{
				Admin: Tokens{
					{Name: "sre", Token: NewSecret("testdata-admin-token-0001"), TokenFile: filepath.Join(secrets, "admin.token")},
					{Name: "oncall-bot", Token: NewSecret("testdata-crlf-token-00000003"), TokenFile: filepath.Join(secrets, "crlf.token")},
				},
				Viewers: Tokens{{Name: "wallboard", Token: NewSecret("testdata-viewer-token-00000005")}},
				Metrics: Tokens{prom},
				Ingest: Ingest{
					Alertmanager: Source{Tokens: Tokens{
						{Name: "am", Token: NewSecret("testdata-alertmanager-token-0002"), TokenFile: filepath.Join(secrets, "alertmanager.token")},
					}},
					Prometheus: Source{Tokens: Tokens{prom}},
					Tickets:    OptionalSource{Tokens: Tokens{{Name: "helpdesk", Token: NewSecret("testdata-tickets-token-000007")}}},
					Mentions:   OptionalSource{Open: true},
					PagerDuty:  OptionalSource{Tokens: Tokens{{Name: "legacy-monitor", Token: NewSecret("testdata-routing-key-00000008")}}},
					Zendesk: Zendesk{SigningSecretFile: filepath.Join(secrets, "zendesk.secret"),
						SigningSecret: NewSecret("testdata-zendesk-signing-secret-0006")},
				},
			},
			Heartbeats: Heartbeats{
				{Name: "prometheus-watchdog", Interval: time.Minute, Grace: DefaultHeartbeatGrace,
					Labels: Labels{"service": "monitoring", "team": "sre"}},
				{Name: "nightly-backup.db_1", Interval: 24 * time.Hour},
			},
			StatusPage: statusPageDefaults(),
			File:       "testdata/valid/full.yml",
		}},
		{"minimal.yml", &Config{
			ListenAddress: DefaultListenAddress,
			ExternalURL:   "http://" + DefaultListenAddress,
			DataDir:       filepath.Join(valid, "data"),
			LogLevel:      DefaultLogLevel,
			Notify:        Notify{Timeout: DefaultNotifyTimeout, AckLinkTTL: DefaultAckLinkTTL},
			Server: Server{
				MaxBodyBytes:    DefaultMaxBodyBytes,
				ReadTimeout:     DefaultReadTimeout,
				WriteTimeout:    DefaultWriteTimeout,
				ShutdownTimeout: DefaultShutdownTimeout,
			},
			Storage: Storage{MemtableBytes: DefaultMemtableBytes, BlockCacheBytes: DefaultBlockCacheBytes, SnapshotEvery: DefaultSnapshotEvery,
				Retention: DefaultRetention, ArchiveRetention: DefaultArchiveRetention},
			Limits: Limits{ActiveAlerts: DefaultActiveAlerts, ActiveAlertsPerSource: DefaultActiveAlertsPerSource},
			Auth: Auth{
				Admin: Tokens{{Name: "sre", Token: NewSecret("testdata-admin-token-0001")}},
				Ingest: Ingest{
					Alertmanager: Source{Tokens: Tokens{{Name: "am", Token: NewSecret("testdata-alertmanager-token-0002")}}},
					Prometheus:   Source{Open: true},
				},
			},
			StatusPage: statusPageDefaults(),
			File:       "testdata/valid/minimal.yml",
		}},
		{"open.yml", &Config{
			ListenAddress: "[::]:9095",
			ExternalURL:   "http://localhost:9095",
			DataDir:       filepath.Join(valid, "data"),
			LogLevel:      DefaultLogLevel,
			Notify:        Notify{Timeout: DefaultNotifyTimeout, AckLinkTTL: DefaultAckLinkTTL},
			Server: Server{
				MaxBodyBytes:    DefaultMaxBodyBytes,
				ReadTimeout:     DefaultReadTimeout,
				WriteTimeout:    DefaultWriteTimeout,
				ShutdownTimeout: DefaultShutdownTimeout,
			},
			Storage: Storage{MemtableBytes: DefaultMemtableBytes, BlockCacheBytes: DefaultBlockCacheBytes, SnapshotEvery: DefaultSnapshotEvery,
				Retention: DefaultRetention, ArchiveRetention: DefaultArchiveRetention},
			Limits: Limits{ActiveAlerts: 0, ActiveAlertsPerSource: DefaultActiveAlertsPerSource},
			Auth: Auth{
				AdminOpen:   true,
				MetricsOpen: true,
				Ingest:      Ingest{Alertmanager: Source{Open: true}, Prometheus: Source{Open: true}},
			},
			StatusPage: statusPageDefaults(),
			File:       "testdata/valid/open.yml",
			Warnings: []string{
				"testdata/valid/open.yml:4: limits.active_alerts: 0 turns the limit off: any ingest token holder can make Klaxon hold alerts until memory runs out",
				"testdata/valid/open.yml:6: auth.admin_open: the incident API and /-/reload are open to anyone who can reach the server",
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Load(filepath.Join("testdata", "valid", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			// Secrets print redacted, so compare them separately for a readable failure.
			if gs, ws := allSecrets(got), allSecrets(tt.want); !reflect.DeepEqual(gs, ws) {
				t.Errorf("secrets differ: got %q, want %q", gs, ws)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// allSecrets reveals every token of cfg, in order.
func allSecrets(cfg *Config) []string {
	var out []string
	in := &cfg.Auth.Ingest
	for _, ts := range []Tokens{cfg.Auth.Admin, cfg.Auth.Metrics, in.Alertmanager.Tokens, in.Prometheus.Tokens,
		in.Tickets.Tokens, in.Mentions.Tokens, in.Heartbeats.Tokens, in.PagerDuty.Tokens} {
		for _, tok := range ts {
			out = append(out, tok.Token.Reveal())
		}
	}
	out = append(out, in.Zendesk.SigningSecret.Reveal())
	return out
}

// invalid maps each file in testdata/invalid to its exact error after the
// file name; {secrets} stands for the absolute path of testdata/secrets.
var invalid = map[string]string{
	"oncall_without_ack_key.yml":   `:1: oncall_files: pages carry signed acknowledgement links: set notify.ack_key_file too`,
	"short_ack_key.yml":            `:2: notify.ack_key_file: the key has 5 bytes; use at least 32 (e.g. head -c 48 /dev/urandom | base64)`,
	"admin_not_list.yml":           `:2: auth.admin: want a list of tokens`,
	"admin_open_and_tokens.yml":    `:6: auth.admin_open: admin_open: true and admin tokens exclude each other; keep one`,
	"bad_bool.yml":                 `:6: auth.metrics_open: want true or false, got "maybe"`,
	"bad_duration.yml":             `:2: server.read_timeout: want a duration such as 30s or 1h30m, got "soon"`,
	"bad_external_url.yml":         `:1: external_url: want an absolute http(s) URL, got "ftp://klaxon.example.com"`,
	"bad_glob.yml":                 `:3: rule_files[1]: glob "rules/[.yml": syntax error in pattern`,
	"bad_int.yml":                  `:2: server.max_body_bytes: want an integer, got "lots"`,
	"bad_listen.yml":               `:1: listen_address: want host:port, got "localhost"`,
	"bad_log_level.yml":            `:1: log_level: want one of debug, info, warn, error, got "verbose"`,
	"bad_port.yml":                 `:1: listen_address: port "http" is not a number from 0 to 65535`,
	"duplicate_name.yml":           `:5: auth.admin[1]: name "sre" is already used by auth.admin[0]`,
	"duplicate_token.yml":          `:5: auth.admin[1]: same token as auth.admin[0] (sre)`,
	"duration_list.yml":            `:2: server.shutdown_timeout: want a duration, got a list`,
	"empty.yml":                    `: auth.admin: at least one admin token is required (admin_open: true leaves the incident API and /-/reload open to anyone)`,
	"empty_data_dir.yml":           `:1: data_dir: must not be empty`,
	"empty_glob.yml":               `:1: rule_files[0]: empty glob`,
	"external_url_credentials.yml": `:1: external_url: URL must not hold credentials`,
	"external_url_query.yml":       `:1: external_url: URL "https://klaxon.example.com/?x=1" must not have a query or fragment`,
	"int_overflow.yml":             `:2: server.max_body_bytes: want an integer, got "99999999999999999999"`,
	"metrics_open_and_tokens.yml":  `:6: auth.metrics_open: metrics_open: true and metrics tokens exclude each other; keep one`,
	"name_control.yml":             `:3: auth.admin[0].name: "sre\a" has unprintable characters`,
	"name_spaces.yml":              `:3: auth.admin[0].name: " sre" has surrounding spaces`,
	"name_too_long.yml":            `:3: auth.admin[0].name: longer than 64 bytes`,
	"negative_duration.yml":        `:2: server.write_timeout: must be positive, got -1s`,
	"negative_limit.yml":           `:3: limits.active_alerts_per_source: must not be negative, got -1`,
	"negative_snapshot.yml":        `:2: storage.snapshot_every: want a non-negative integer, got "-5"`,
	"negative_min_free.yml":        `:2: storage.min_free_bytes: must not be negative (0 derives it from memtable_bytes), got -1`,
	"no_admin.yml":                 `:1: auth.admin: at least one admin token is required (admin_open: true leaves the incident API and /-/reload open to anyone)`,
	"no_auth.yml":                  `: auth.admin: at least one admin token is required (admin_open: true leaves the incident API and /-/reload open to anyone)`,
	"no_ingest.yml":                `:1: auth.ingest.alertmanager.tokens: no tokens: list at least one, or set open: true to accept requests without credentials`,
	"no_name.yml":                  `:3: auth.admin[0].name: is required`,
	"no_token.yml":                 `:3: auth.admin[0]: one of token and token_file is required`,
	"non_string_key.yml":           `:2: server: keys must be strings, got a list`,
	"not_mapping.yml":              `:1: want a mapping of keys, got a list`,
	"relative_external_url.yml":    `:1: external_url: want an absolute http(s) URL, got "/klaxon"`,
	"repeated_key.yml":             `:3: log_level: key repeated (first on line 1)`,
	"rule_file_not_string.yml":     `:2: rule_files[0]: want a string, got a mapping`,
	"rule_files_scalar.yml":        `:1: rule_files: want a list, got "rules/*.yml"`,
	"section_scalar.yml":           `:1: storage: want a mapping, got "big"`,
	"short_token.yml":              `:4: auth.admin[0].token: token is 15 bytes long, at least 16 are required`,
	"small_memtable.yml":           `:2: storage.memtable_bytes: must be at least 1048576 (1 MiB), got 1024`,
	"source_no_tokens.yml":         `:5: auth.ingest.prometheus.tokens: no tokens: list at least one, or set open: true to accept requests without credentials`,
	"source_open_and_tokens.yml":   `:5: auth.ingest.alertmanager.open: open: true and tokens exclude each other; keep one`,
	"syntax.yml":                   `:4: mapping values are not allowed in this context (check the indentation of this line against the lines above it)`,
	"indent.yml":                   `:5: did not find expected key (check the indentation of this line against the lines above it)`,
	"token_and_file.yml":           `:5: auth.admin[0].token_file: token and token_file exclude each other; keep one`,
	"token_file_blank.yml":         `:4: auth.admin[0].token_file: must not be empty`,
	"token_file_dir.yml":           `:4: auth.admin[0].token_file: {secrets} is not a regular file`,
	"token_file_empty.yml":         `:4: auth.admin[0].token_file: {secrets}/empty.token is empty`,
	"token_file_missing.yml":       `:4: auth.admin[0].token_file: stat {secrets}/missing.token: no such file or directory`,
	"token_file_newlines.yml":      `:4: auth.admin[0].token_file: {secrets}/newlines.token is empty`,
	"token_file_short.yml":         `:4: auth.admin[0].token_file: token is 5 bytes long, at least 16 are required`,
	"token_not_string.yml":         `:4: auth.admin[0].token: want a string`,
	"token_unknown_key.yml":        `:4: auth.admin[0].tokne: unknown key (expected one of: name, token, token_file)`,
	"token_whitespace.yml":         `:4: auth.admin[0].token: token must not contain whitespace or control characters`,
	"two_documents.yml":            `:6: a configuration file holds one YAML document, this is a second one`,
	"unknown_key.yml":              `:1: listen_adress: unknown key (expected one of: listen_address, external_url, data_dir, log_level, rule_files, oncall_files, notify, server, storage, limits, auth, heartbeats, statuspage, cluster)`,
	"unknown_nested_key.yml":       `:3: server.max_body_byte: unknown key (expected one of: max_body_bytes, read_timeout, write_timeout, shutdown_timeout)`,
	"unknown_source.yml":           `:6: auth.ingest.opsgenie: unknown key (expected one of: alertmanager, prometheus, tickets, mentions, heartbeats, pagerduty, zendesk)`,
	"zero_block_cache.yml":         `:2: storage.block_cache_bytes: must be positive, got 0`,
	"zero_body.yml":                `:2: server.max_body_bytes: must be positive, got 0`,
	"zero_snapshot.yml":            `:2: storage.snapshot_every: must be positive`,
	"zero_retention.yml":           `:2: storage.retention: must be positive, got 0s`,
	"negative_archive.yml":         `:3: storage.archive_retention: must be positive, got -24h0m0s`,
	"viewers_admin_open.yml":       `:6: auth.viewers: admin_open: true lets anyone read and act, so viewers would be refused nothing; keep one`,
	"viewer_admin_token.yml":       `:8: auth.viewers[1]: same token as auth.admin[0] (sre): a token has one role`,
	"viewer_no_token.yml":          `:4: auth.viewers[0]: one of token and token_file is required`,
	"viewer_short_token.yml":       `:5: auth.viewers[0].token: token is 9 bytes long, at least 16 are required`,
	"viewers_duplicate_name.yml":   `:5: auth.viewers[1]: name "wallboard" is already used by auth.viewers[0]`,
	"viewers_not_list.yml":         `:2: auth.viewers: want a list of tokens`,

	"heartbeat_bad_name.yml":        `:7: heartbeats[0].name: want 1 to 128 letters, digits, '.', '_' or '-', got "nightly backup"`,
	"heartbeat_no_name.yml":         `:7: heartbeats[0].name: want 1 to 128 letters, digits, '.', '_' or '-', got ""`,
	"heartbeat_duplicate.yml":       `:8: heartbeats[1]: name "backup" is already used by heartbeats[0]`,
	"heartbeat_no_interval.yml":     `:7: heartbeats[0].interval: must be positive, got 0s`,
	"heartbeat_negative_grace.yml":  `:7: heartbeats[0].grace: must not be negative, got -1m0s`,
	"heartbeat_label_heartbeat.yml": `:7: heartbeats[0].labels: the heartbeat label is the heartbeat's name; it cannot be set`,
	"heartbeat_bad_label.yml":       `:7: heartbeats[0].labels.team-name: not a valid label name`,
	"heartbeat_empty_label.yml":     `:7: heartbeats[0].labels.service: want a non-empty string value`,
	"heartbeats_mapping.yml":        `:6: heartbeats: want a list of heartbeats`,
	"tickets_open_and_tokens.yml":   `:6: auth.ingest.tickets.open: open: true and tokens exclude each other; keep one`,
	"pagerduty_short_key.yml":       `:6: auth.ingest.pagerduty.tokens[0].token: token is 10 bytes long, at least 16 are required`,
	"zendesk_missing_secret.yml":    `:6: auth.ingest.zendesk.signing_secret_file: stat {secrets}/missing.secret: no such file or directory`,
	"zendesk_short_secret.yml":      `:6: auth.ingest.zendesk.signing_secret_file: the secret is 5 bytes long, at least 16 are required`,
	"zendesk_empty_file_name.yml":   `:6: auth.ingest.zendesk.signing_secret_file: must not be empty`,
}

func TestLoadInvalid(t *testing.T) {
	secrets := abs(t, "testdata/secrets")
	for file, msg := range invalid {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", file)
			want := path + strings.ReplaceAll(msg, "{secrets}", secrets)
			cfg, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", cfg)
			}
			if err.Error() != want {
				t.Errorf("error\n got: %s\nwant: %s", err, want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != path {
				t.Errorf("error %#v is not an *Error for %s", err, path)
			}
		})
	}
}

// TestInvalidTableIsComplete keeps the table and testdata/invalid in step.
func TestInvalidTableIsComplete(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := invalid[filepath.Base(f)]; !ok {
			t.Errorf("%s has no expected error in the invalid table", f)
		}
	}
	if len(files) != len(invalid) {
		t.Errorf("%d files in testdata/invalid, %d in the table", len(files), len(invalid))
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.yml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
	if !strings.Contains(err.Error(), "testdata/no-such-file.yml") {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestParseResolvesAgainstGivenPath(t *testing.T) {
	data := []byte("data_dir: store\nrule_files: [r/*.yml]\nauth: {admin_open: true, ingest: {alertmanager: {open: true}, prometheus: {open: true}}}\n")
	cfg, err := Parse(data, "/etc/klaxon/klaxon.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/etc/klaxon/store" || cfg.RuleFiles[0] != "/etc/klaxon/r/*.yml" {
		t.Errorf("data_dir %q, rule_files %q: want them under /etc/klaxon", cfg.DataDir, cfg.RuleFiles)
	}
}

func TestIngestSource(t *testing.T) {
	in := Ingest{Alertmanager: Source{Open: true}, Prometheus: Source{Tokens: Tokens{{Name: "p"}}},
		Tickets: OptionalSource{Tokens: Tokens{{Name: "t"}}}, Mentions: OptionalSource{Open: true},
		Heartbeats: OptionalSource{Tokens: Tokens{{Name: "h"}}}, PagerDuty: OptionalSource{Tokens: Tokens{{Name: "k"}}}}
	for _, tt := range []struct {
		name string
		want Source
		ok   bool
	}{
		{SourceAlertmanager, in.Alertmanager, true},
		{SourcePrometheus, in.Prometheus, true},
		{SourceTickets, Source(in.Tickets), true},
		{SourceMentions, Source{Open: true}, true},
		{SourceHeartbeats, Source(in.Heartbeats), true},
		{SourcePagerDuty, Source(in.PagerDuty), true},
		{"zendesk", Source{}, false},
		{"opsgenie", Source{}, false},
	} {
		got, ok := in.Source(tt.name)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Source(%q) = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestExampleConfig loads the shipped example from the repository, which
// must work as shipped.
func TestExampleConfig(t *testing.T) {
	cfg, err := Load("../configs/klaxon.yml")
	if err != nil {
		t.Fatal(err)
	}
	if want := abs(t, "../data"); cfg.DataDir != want {
		t.Errorf("data_dir %q, want %q", cfg.DataDir, want)
	}
	if cfg.ListenAddress != "127.0.0.1:9095" || len(cfg.Auth.Admin) != 1 || len(cfg.Auth.Ingest.Alertmanager.Tokens) != 1 || len(cfg.Auth.Ingest.Prometheus.Tokens) != 1 {
		t.Errorf("unexpected example configuration: %+v", cfg)
	}
}

// ackKey is the key in testdata/secrets/ack.key.
func ackKey(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/secrets/ack.key")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(b), "\n")
}

func TestLongJournalRetentionWarnsAboutReportBodies(t *testing.T) {
	cfg, err := Load("testdata/warn/long_retention.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := "testdata/warn/long_retention.yml:2: storage.retention: ticket and mention bodies stay in the journal as long as its entries, 1440h0m0s, longer than the 30 days they are kept anywhere else"
	if !slices.Contains(cfg.Warnings, want) {
		t.Errorf("warnings %q lack %q", cfg.Warnings, want)
	}
}
