package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// statusPageDefaults is the statuspage section of a file without one.
func statusPageDefaults() StatusPage {
	return StatusPage{Enabled: true, Name: DefaultStatusPageName, Language: DefaultStatusPageLanguage,
		RenderInterval: DefaultStatusPageRenderInterval, HistoryDays: DefaultStatusPageHistoryDays}
}

func TestStatusPageSection(t *testing.T) {
	cfg, err := Parse([]byte(`auth: {admin_open: true, metrics_open: true, ingest: {alertmanager: {open: true}, prometheus: {open: true}}}
statuspage:
  enabled: false
  name: Acme Status
  url: https://status.example.com/
  language: de
  time_zone: Europe/Berlin
  templates_dir: templates
  export_dir: public
  render_interval: 250ms
  history_days: 30
  component_states:
    - {severity: SEV1, status: major_outage}
    - {severity: SEV2, status: degraded_performance}
`), "/etc/klaxon/klaxon.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := StatusPage{Name: "Acme Status", URL: "https://status.example.com", Language: "de", TimeZone: "Europe/Berlin",
		TemplatesDir: filepath.FromSlash("/etc/klaxon/templates"), ExportDir: filepath.FromSlash("/etc/klaxon/public"),
		RenderInterval: 250 * time.Millisecond, HistoryDays: 30,
		ComponentStates: []ComponentState{{"SEV1", "major_outage"}, {"SEV2", "degraded_performance"}}}
	got := cfg.StatusPage
	if got.Enabled || got.Name != want.Name || got.URL != want.URL || got.Language != want.Language || got.TimeZone != want.TimeZone ||
		got.TemplatesDir != want.TemplatesDir || got.ExportDir != want.ExportDir || got.RenderInterval != want.RenderInterval ||
		got.HistoryDays != want.HistoryDays || len(got.ComponentStates) != 2 || got.ComponentStates[1] != want.ComponentStates[1] {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// openAuth is an auth section that passes, for tests of other sections.
const openAuth = "auth: {admin_open: true, metrics_open: true, ingest: {alertmanager: {open: true}, prometheus: {open: true}}}"

func TestStatusPageInvalid(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"statuspage: {language: fr}", `:1: statuspage.language: want one of en, de, got "fr"`},
		{"statuspage: {time_zone: Mars/Olympus}", `:1: statuspage.time_zone: unknown time zone Mars/Olympus`},
		{"statuspage: {history_days: 400}", `:1: statuspage.history_days: want 1 to 366, got 400`},
		{"statuspage: {render_interval: -1s}", `:1: statuspage.render_interval: must be positive, got -1s`},
		{"statuspage: {url: /status}", `:1: statuspage.url: want an absolute http(s) URL, got "/status"`},
		{"statuspage:\n  component_states:\n    - {severity: SEV1, status: down}", `:3: statuspage.component_states[0].status: want one of operational, under_maintenance, degraded_performance, partial_outage, major_outage, got "down"`},
		{"statuspage:\n  component_states:\n    - {status: major_outage}", `:3: statuspage.component_states[0].severity: name a severity level, e.g. SEV1`},
		{"statuspage:\n  component_states:\n    - {severity: SEV1, status: major_outage}\n    - {severity: SEV1, status: partial_outage}", `:4: statuspage.component_states[1]: severity "SEV1" mapped twice`},
		{"statuspage: {colour: red}", `:1: statuspage.colour: unknown key`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.yaml+"\n"+openAuth), "k.yml")
		if err == nil || !strings.HasPrefix(err.Error(), "k.yml"+tt.want) {
			t.Errorf("%q: got %v, want k.yml%s", tt.yaml, err, tt.want)
		}
	}
}
