package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// MinTokenLength is the shortest bearer token accepted, in bytes.
const MinTokenLength = 16

// maxTokenFileBytes bounds what is read from a token_file.
const maxTokenFileBytes = 4096

// maxNameLength bounds a principal's name.
const maxNameLength = 64

// Names of the ingest sources, as Ingest.Source takes them.
const (
	SourceAlertmanager = "alertmanager"
	SourcePrometheus   = "prometheus"
	SourceTickets      = "tickets"
	SourceMentions     = "mentions"
	SourceHeartbeats   = "heartbeats"
	SourcePagerDuty    = "pagerduty"
)

// Auth says who may call which endpoint. An endpoint is open to anyone only
// when the file says so explicitly.
type Auth struct {
	// AdminOpen leaves the incident API and /-/reload open; it excludes Admin.
	AdminOpen bool `yaml:"admin_open"`
	// Admin are the principals allowed on the incident API and /-/reload.
	Admin Tokens `yaml:"admin"`
	// Viewers are read-only principals, for dashboards and wallboards: they
	// may read the incident, on-call and silence APIs and /metrics, and
	// nothing else.
	Viewers Tokens `yaml:"viewers"`
	// MetricsOpen serves /metrics without credentials; it excludes Metrics.
	MetricsOpen bool `yaml:"metrics_open"`
	// Metrics are principals allowed on /metrics besides the admins.
	Metrics Tokens `yaml:"metrics"`
	// Ingest configures each ingest source.
	Ingest Ingest `yaml:"ingest"`
}

// Ingest configures who may send signals through each ingest source.
type Ingest struct {
	Alertmanager Source `yaml:"alertmanager"`
	Prometheus   Source `yaml:"prometheus"`
	// Tickets, Mentions and Heartbeats take bearer tokens; PagerDuty's
	// tokens are the routing keys accepted in the body of POST /v2/enqueue.
	// Left out, each refuses every request.
	Tickets    OptionalSource `yaml:"tickets"`
	Mentions   OptionalSource `yaml:"mentions"`
	Heartbeats OptionalSource `yaml:"heartbeats"`
	PagerDuty  OptionalSource `yaml:"pagerduty"`
	// Zendesk is authenticated by its webhook signature, not by a token.
	Zendesk Zendesk `yaml:"zendesk"`
}

// Source is one ingest endpoint's access: open to anyone, or to its tokens.
type Source struct {
	Open   bool   `yaml:"open"`
	Tokens Tokens `yaml:"tokens"`
}

// Token is one principal: a name for timelines and logs, and its bearer token.
type Token struct {
	Name string `yaml:"name"`
	// Token is the bearer token, given inline or read from TokenFile.
	Token Secret `yaml:"token"`
	// TokenFile is the resolved path the token was read from, if any.
	TokenFile string `yaml:"token_file"`
}

// Tokens is a list of principals with distinct names and tokens.
type Tokens []Token

// Source gives the access settings of the named ingest source.
func (i *Ingest) Source(name string) (Source, bool) {
	switch name {
	case SourceAlertmanager:
		return i.Alertmanager, true
	case SourcePrometheus:
		return i.Prometheus, true
	case SourceTickets:
		return Source(i.Tickets), true
	case SourceMentions:
		return Source(i.Mentions), true
	case SourceHeartbeats:
		return Source(i.Heartbeats), true
	case SourcePagerDuty:
		return Source(i.PagerDuty), true
	}
	return Source{}, false
}

// check requires admin tokens unless admin_open says otherwise, and keeps
// each open flag exclusive of its tokens.
func (a *Auth) check(m *mapping) error {
	switch {
	case a.AdminOpen && len(a.Admin) > 0:
		return m.errorf("admin_open", "admin_open: true and admin tokens exclude each other; keep one")
	case !a.AdminOpen && len(a.Admin) == 0:
		return m.errorf("admin", "at least one admin token is required (admin_open: true leaves the incident API and /-/reload open to anyone)")
	case a.AdminOpen:
		m.d.warnf(m.at("admin_open"), "the incident API and /-/reload are open to anyone who can reach the server")
	}
	if a.MetricsOpen && len(a.Metrics) > 0 {
		return m.errorf("metrics_open", "metrics_open: true and metrics tokens exclude each other; keep one")
	}
	return a.checkViewers(m)
}

// checkViewers keeps each token to one role: a token both admin and
// viewer would be read-only or not depending on which is checked first.
func (a *Auth) checkViewers(m *mapping) error {
	if a.AdminOpen && len(a.Viewers) > 0 {
		return m.errorf("viewers", "admin_open: true lets anyone read and act, so viewers would be refused nothing; keep one")
	}
	for i, v := range a.Viewers {
		for j, ad := range a.Admin {
			if v.Token == ad.Token {
				return m.d.errorf(m.elemAt("viewers", i), "same token as auth.admin[%d] (%s): a token has one role", j, ad.Name)
			}
		}
	}
	return nil
}

// check requires tokens unless the source is explicitly open.
func (s *Source) check(m *mapping) error {
	switch {
	case s.Open && len(s.Tokens) > 0:
		return m.errorf("open", "open: true and tokens exclude each other; keep one")
	case !s.Open && len(s.Tokens) == 0:
		return m.errorf("tokens", "no tokens: list at least one, or set open: true to accept requests without credentials")
	}
	return nil
}

// check requires a name and exactly one of token and token_file, reads the
// token file and checks the token's form. Errors never include the token.
func (t *Token) check(m *mapping) error {
	if err := checkName(t.Name); err != nil {
		return m.errorf("name", "%w", err)
	}
	key := "token"
	switch {
	case m.has("token") && m.has("token_file"):
		return m.errorf("token_file", "token and token_file exclude each other; keep one")
	case m.has("token_file"):
		key = "token_file"
		if t.TokenFile == "" {
			return m.errorf(key, "must not be empty")
		}
		t.TokenFile = m.d.resolve(t.TokenFile)
		s, err := readTokenFile(t.TokenFile)
		if err != nil {
			return m.errorf(key, "%w", err)
		}
		t.Token = NewSecret(s)
	case !m.has("token"):
		return m.d.errorf(m.pos, "one of token and token_file is required")
	}
	if err := checkToken(t.Token.Reveal()); err != nil {
		return m.errorf(key, "%w", err)
	}
	m.d.warnExample(m.at(key), "token", t.Token)
	return nil
}

// checkName accepts a non-empty printable name without surrounding spaces.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("is required")
	case len(name) > maxNameLength:
		return fmt.Errorf("longer than %d bytes", maxNameLength)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%q has surrounding spaces", name)
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fmt.Errorf("%q has unprintable characters", name)
	}
	return nil
}

// checkToken requires MinTokenLength bytes and no whitespace or control
// characters, which could not travel in an Authorization header.
func checkToken(tok string) error {
	if len(tok) < MinTokenLength {
		return fmt.Errorf("token is %d bytes long, at least %d are required", len(tok), MinTokenLength)
	}
	if strings.IndexFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return errors.New("token must not contain whitespace or control characters")
	}
	return nil
}

// readTokenFile reads a token from a regular file, dropping trailing newlines.
func readTokenFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxTokenFileBytes {
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxTokenFileBytes)
	}
	tok := strings.TrimRight(string(data), "\r\n")
	if tok == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return tok, nil
}

// unmarshalNode decodes the list element by element and rejects a name or a
// token given twice.
func (ts *Tokens) unmarshalNode(d *decoder, n *yaml.Node, p pos) error {
	secrets := make(map[Secret]int, len(n.Content))
	list, err := decodeNamed(d, n, p, "tokens", func(t *Token) string { return t.Name }, func(list []Token, i int, ep pos) error {
		if j, dup := secrets[list[i].Token]; dup {
			return d.errorf(ep, "same token as %s[%d] (%s)", p.path, j, list[j].Name)
		}
		secrets[list[i].Token] = i
		return nil
	})
	*ts = list
	return err
}
