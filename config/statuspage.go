package config

import (
	"slices"
	"strings"
	"time"
)

// Defaults of the statuspage section.
const (
	DefaultStatusPageName           = "Status"
	DefaultStatusPageLanguage       = "en"
	DefaultStatusPageRenderInterval = time.Second
	DefaultStatusPageHistoryDays    = 90
)

// StatusPage configures the external (public) status page at /status.
type StatusPage struct {
	// Enabled serves the page (default true); it shows public names only.
	Enabled bool   `yaml:"enabled"`
	Name    string `yaml:"name"` // the page's title
	// URL is where the public reaches the page, for links in feeds and
	// JSON; default external_url + "/status".
	URL      string `yaml:"url"`
	Language string `yaml:"language"`  // en or de: the page's wording and templates
	TimeZone string `yaml:"time_zone"` // IANA name times are shown in; default UTC
	// TemplatesDir holds external.<language>.yml; default the templates
	// built in (the same as configs/templates).
	TemplatesDir string `yaml:"templates_dir"`
	// ExportDir, if set, receives the page as static files on every
	// change, replaced atomically, for a CDN.
	ExportDir string `yaml:"export_dir"`
	// RenderInterval is the least time between two renderings.
	RenderInterval time.Duration `yaml:"render_interval"`
	HistoryDays    int           `yaml:"history_days"`
	// ComponentStates maps severity levels to the state their open
	// incidents put components in; default SEV1 major_outage, SEV2
	// partial_outage, others degraded_performance.
	ComponentStates []ComponentState `yaml:"component_states"`
}

// ComponentState maps one severity level to a component state.
type ComponentState struct {
	Severity string `yaml:"severity"`
	Status   string `yaml:"status"`
}

// statusPageLanguages are the languages templates ship in.
var statusPageLanguages = []string{"en", "de"}

// componentStates are Statuspage's component states.
var componentStates = []string{"operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"}

func (s *StatusPage) check(m *mapping) error {
	if !m.has("enabled") {
		s.Enabled = true
	}
	if s.Name == "" {
		s.Name = DefaultStatusPageName
	}
	if s.Language == "" {
		s.Language = DefaultStatusPageLanguage
	}
	if s.RenderInterval == 0 {
		s.RenderInterval = DefaultStatusPageRenderInterval
	}
	if s.HistoryDays == 0 {
		s.HistoryDays = DefaultStatusPageHistoryDays
	}
	switch {
	case !slices.Contains(statusPageLanguages, s.Language):
		return m.errorf("language", "want one of %s, got %q", strings.Join(statusPageLanguages, ", "), s.Language)
	case s.RenderInterval < 0:
		return m.errorf("render_interval", "must be positive, got %s", s.RenderInterval)
	case s.HistoryDays < 1 || s.HistoryDays > 366:
		return m.errorf("history_days", "want 1 to 366, got %d", s.HistoryDays)
	}
	if s.URL != "" {
		u, err := parseExternalURL(s.URL)
		if err != nil {
			return m.errorf("url", "%v", err)
		}
		s.URL = u
	}
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			return m.errorf("time_zone", "%v", err)
		}
	}
	if s.TemplatesDir != "" {
		s.TemplatesDir = m.d.resolve(s.TemplatesDir)
	}
	if s.ExportDir != "" {
		s.ExportDir = m.d.resolve(s.ExportDir)
	}
	seen := map[string]bool{}
	for i, cs := range s.ComponentStates {
		if seen[cs.Severity] {
			return m.d.errorf(m.elemAt("component_states", i), "severity %q mapped twice", cs.Severity)
		}
		seen[cs.Severity] = true
	}
	return nil
}

func (c *ComponentState) check(m *mapping) error {
	switch {
	case c.Severity == "":
		return m.errorf("severity", "name a severity level, e.g. SEV1")
	case !slices.Contains(componentStates, c.Status):
		return m.errorf("status", "want one of %s, got %q", strings.Join(componentStates, ", "), c.Status)
	}
	return nil
}
