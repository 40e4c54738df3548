// Package config loads Klaxon's configuration file: one strictly decoded
// YAML document whose every error names the file, the line and the key.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults for keys the file leaves out.
const (
	DefaultListenAddress   = "127.0.0.1:9095"
	DefaultDataDir         = "data"
	DefaultLogLevel        = "info"
	DefaultMaxBodyBytes    = 4 << 20
	DefaultReadTimeout     = 10 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
	DefaultMemtableBytes   = 16 << 20
	DefaultBlockCacheBytes = 16 << 20
	DefaultSnapshotEvery   = 50_000
	// DefaultActiveAlerts and DefaultActiveAlertsPerSource bound the alerts
	// triage holds: twice and once the 100,000 Klaxon is sized for.
	DefaultActiveAlerts          = 200_000
	DefaultActiveAlertsPerSource = 100_000

	DefaultRetention        = 14 * 24 * time.Hour
	DefaultArchiveRetention = 400 * 24 * time.Hour

	DefaultNotifyTimeout = 10 * time.Second
	DefaultAckLinkTTL    = 24 * time.Hour
)

// MinMemtableBytes is the smallest memtable the journal's store accepts.
const MinMemtableBytes = 1 << 20

// Config is Klaxon's whole configuration; Load and Parse return it
// validated, with defaults filled in and relative paths resolved.
type Config struct {
	ListenAddress string   `yaml:"listen_address"`
	ExternalURL   string   `yaml:"external_url"` // absolute http(s) URL without a trailing slash
	DataDir       string   `yaml:"data_dir"`     // resolved against the file's directory
	LogLevel      string   `yaml:"log_level"`    // debug, info, warn or error
	RuleFiles     []string `yaml:"rule_files"`   // globs, resolved against the file's directory
	OnCallFiles   []string `yaml:"oncall_files"` // globs of people, schedules and escalation policies
	Notify        Notify   `yaml:"notify"`
	Server        Server   `yaml:"server"`
	Storage       Storage  `yaml:"storage"`
	Limits        Limits   `yaml:"limits"`
	Auth          Auth     `yaml:"auth"`
	// Heartbeats are the jobs expected to report in; read at start-up.
	Heartbeats Heartbeats `yaml:"heartbeats"`
	StatusPage StatusPage `yaml:"statuspage"`
	// Cluster replicates Klaxon across machines; absent, it runs alone.
	Cluster Cluster `yaml:"cluster"`

	// File is the path the configuration was read from, as given.
	File string `yaml:"-"`
	// Warnings are legal but risky settings, for the caller to log.
	Warnings []string `yaml:"-"`
}

// Server configures the HTTP server.
type Server struct {
	MaxBodyBytes    int64         `yaml:"max_body_bytes"`
	ReadTimeout     time.Duration `yaml:"read_timeout"`
	WriteTimeout    time.Duration `yaml:"write_timeout"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Storage sizes the embedded journal store.
type Storage struct {
	MemtableBytes   int64  `yaml:"memtable_bytes"`
	BlockCacheBytes int64  `yaml:"block_cache_bytes"`
	SnapshotEvery   uint64 `yaml:"snapshot_every"`
	// Retention is how long journal entries are kept once a snapshot covers them (the replay window).
	Retention time.Duration `yaml:"retention"`
	// ArchiveRetention is how long archived state (resolved incidents out of memory) stays readable.
	ArchiveRetention time.Duration `yaml:"archive_retention"`
	// MinFreeBytes is the free space kept on the data directory's
	// filesystem; below it writes answer 503. 0 derives it from MemtableBytes.
	MinFreeBytes int64 `yaml:"min_free_bytes"`
}

// Limits bounds the firing alerts triage holds, so that no sender can
// exhaust memory; 0 turns a limit off.
type Limits struct {
	ActiveAlerts          int `yaml:"active_alerts"`
	ActiveAlertsPerSource int `yaml:"active_alerts_per_source"`
}

// logLevels are the accepted log_level values.
var logLevels = []string{"debug", "info", "warn", "error"}

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a configuration read from path; path names the file in
// errors and is the base of its relative paths. Errors are *Error.
func Parse(data []byte, path string) (*Config, error) {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	cfg := defaults()
	d := &decoder{file: path, dir: dir}
	if err := d.document(data, cfg); err != nil {
		return nil, err
	}
	cfg.File = path
	cfg.Warnings = d.warnings
	return cfg, nil
}

// defaults is a Config holding every default.
func defaults() *Config {
	return &Config{
		ListenAddress: DefaultListenAddress,
		DataDir:       DefaultDataDir,
		LogLevel:      DefaultLogLevel,
		Server: Server{
			MaxBodyBytes:    DefaultMaxBodyBytes,
			ReadTimeout:     DefaultReadTimeout,
			WriteTimeout:    DefaultWriteTimeout,
			ShutdownTimeout: DefaultShutdownTimeout,
		},
		Storage: Storage{
			MemtableBytes:   DefaultMemtableBytes,
			BlockCacheBytes: DefaultBlockCacheBytes,
			SnapshotEvery:   DefaultSnapshotEvery,

			Retention:        DefaultRetention,
			ArchiveRetention: DefaultArchiveRetention,
		},
		Limits: Limits{
			ActiveAlerts:          DefaultActiveAlerts,
			ActiveAlertsPerSource: DefaultActiveAlertsPerSource,
		},
		Notify: Notify{Timeout: DefaultNotifyTimeout, AckLinkTTL: DefaultAckLinkTTL},
	}
}

// check validates the top-level keys, resolves paths and derives the
// external URL from the listen address when the file gives none.
func (c *Config) check(m *mapping) error {
	host, port, err := net.SplitHostPort(c.ListenAddress)
	if err != nil {
		return m.errorf("listen_address", "want host:port, got %q", c.ListenAddress)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return m.errorf("listen_address", "port %q is not a number from 0 to 65535", port)
	}
	if !m.has("external_url") {
		if host == "" || net.ParseIP(host).IsUnspecified() {
			host = "localhost"
		}
		c.ExternalURL = "http://" + net.JoinHostPort(host, port)
	}
	u, err := parseExternalURL(c.ExternalURL)
	if err != nil {
		return m.errorf("external_url", "%v", err)
	}
	c.ExternalURL = u
	if c.DataDir == "" {
		return m.errorf("data_dir", "must not be empty")
	}
	c.DataDir = m.d.resolve(c.DataDir)
	if !validLogLevel(c.LogLevel) {
		return m.errorf("log_level", "want one of %s, got %q", strings.Join(logLevels, ", "), c.LogLevel)
	}
	for _, globs := range []struct {
		key  string
		list []string
	}{{"rule_files", c.RuleFiles}, {"oncall_files", c.OnCallFiles}} {
		for i, g := range globs.list {
			if g == "" {
				return m.d.errorf(m.elemAt(globs.key, i), "empty glob")
			}
			if _, err := filepath.Match(g, ""); err != nil {
				return m.d.errorf(m.elemAt(globs.key, i), "glob %q: %w", g, err)
			}
			globs.list[i] = m.d.resolve(g)
		}
	}
	if len(c.OnCallFiles) > 0 && c.Notify.AckKey.IsZero() {
		return m.errorf("oncall_files", "pages carry signed acknowledgement links: set notify.ack_key_file too")
	}
	return nil
}

// Notify configures the delivery of pages.
type Notify struct {
	// AckKeyFile holds the key (at least 32 bytes) that signs the
	// acknowledgement links in pages.
	AckKeyFile string `yaml:"ack_key_file"`
	AckKey     Secret `yaml:"-"`
	// AckLinkTTL is how long an acknowledgement link works.
	AckLinkTTL time.Duration `yaml:"ack_link_ttl"`
	// Timeout bounds one delivery attempt to one receiver.
	Timeout time.Duration `yaml:"timeout"`
}

// minAckKeyBytes is the shortest acknowledgement-link key accepted.
const minAckKeyBytes = 32

func (n *Notify) check(m *mapping) error {
	switch {
	case n.Timeout <= 0:
		return m.errorf("timeout", "must be positive, got %s", n.Timeout)
	case n.AckLinkTTL <= 0:
		return m.errorf("ack_link_ttl", "must be positive, got %s", n.AckLinkTTL)
	case n.AckKeyFile == "":
		return nil
	}
	n.AckKeyFile = m.d.resolve(n.AckKeyFile)
	key, err := readTokenFile(n.AckKeyFile)
	if err != nil {
		return m.errorf("ack_key_file", "%w", err)
	}
	if len(key) < minAckKeyBytes {
		return m.errorf("ack_key_file", "the key has %d bytes; use at least %d (e.g. head -c 48 /dev/urandom | base64)", len(key), minAckKeyBytes)
	}
	n.AckKey = NewSecret(key)
	m.d.warnExample(m.at("ack_key_file"), "key", n.AckKey)
	return nil
}

// parseExternalURL checks that s is an absolute http(s) URL without
// credentials, query or fragment, and drops a trailing slash.
func parseExternalURL(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", fmt.Errorf("want an absolute http(s) URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("want an absolute http(s) URL, got %q", s)
	case u.Host == "":
		return "", fmt.Errorf("URL %q has no host", s)
	case u.User != nil:
		return "", fmt.Errorf("URL must not hold credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("URL %q must not have a query or fragment", s)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// validLogLevel reports whether s is one of logLevels.
func validLogLevel(s string) bool {
	for _, l := range logLevels {
		if s == l {
			return true
		}
	}
	return false
}

// check validates the HTTP server's limits.
func (s *Server) check(m *mapping) error {
	if s.MaxBodyBytes <= 0 {
		return m.errorf("max_body_bytes", "must be positive, got %d", s.MaxBodyBytes)
	}
	for _, t := range []struct {
		key string
		v   time.Duration
	}{
		{"read_timeout", s.ReadTimeout},
		{"write_timeout", s.WriteTimeout},
		{"shutdown_timeout", s.ShutdownTimeout},
	} {
		if t.v <= 0 {
			return m.errorf(t.key, "must be positive, got %s", t.v)
		}
	}
	return nil
}

// check validates the store's sizes.
func (s *Storage) check(m *mapping) error {
	switch {
	case s.MemtableBytes < MinMemtableBytes:
		return m.errorf("memtable_bytes", "must be at least %d (1 MiB), got %d", MinMemtableBytes, s.MemtableBytes)
	case s.BlockCacheBytes <= 0:
		return m.errorf("block_cache_bytes", "must be positive, got %d", s.BlockCacheBytes)
	case s.SnapshotEvery == 0:
		return m.errorf("snapshot_every", "must be positive")
	case s.Retention <= 0:
		return m.errorf("retention", "must be positive, got %s", s.Retention)
	case s.ArchiveRetention <= 0:
		return m.errorf("archive_retention", "must be positive, got %s", s.ArchiveRetention)
	case s.MinFreeBytes < 0:
		return m.errorf("min_free_bytes", "must not be negative (0 derives it from memtable_bytes), got %d", s.MinFreeBytes)
	}
	if s.Retention > MaxReportBodyDays*24*time.Hour {
		m.d.warnf(m.at("retention"), "ticket and mention bodies stay in the journal as long as its entries, %s, longer than the %d days they are kept anywhere else",
			s.Retention, MaxReportBodyDays)
	}
	return nil
}

// MaxReportBodyDays is how many days ticket and mention bodies are kept
// (triage.ReportTextRetention): a longer journal retention keeps them longer.
const MaxReportBodyDays = 30

// check validates the limits; turning one off is legal but warned about.
func (l *Limits) check(m *mapping) error {
	for _, f := range []struct {
		key string
		v   int
	}{
		{"active_alerts", l.ActiveAlerts},
		{"active_alerts_per_source", l.ActiveAlertsPerSource},
	} {
		switch {
		case f.v < 0:
			return m.errorf(f.key, "must not be negative, got %d", f.v)
		case f.v == 0:
			m.d.warnf(m.at(f.key), "0 turns the limit off: any ingest token holder can make Klaxon hold alerts until memory runs out")
		}
	}
	return nil
}
