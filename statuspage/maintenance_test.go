package statuspage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

// TestMaintenanceOnThePage schedules a window on Reporting (an hour from
// now, for two hours) and reads the page before, during and after it.
func TestMaintenanceOnThePage(t *testing.T) {
	tests := []struct {
		name      string
		after     time.Duration
		status    string // in scheduled-maintenances.json
		component string // Reporting's state in components.json
		open      bool   // listed in summary.json and the HTML
	}{
		{"before", 0, `"status": "scheduled"`, "operational", true},
		{"during", 90 * time.Minute, `"status": "in_progress"`, "under_maintenance", true},
		{"after", 4 * time.Hour, `"status": "completed"`, "operational", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.apply(&triage.Entry{Maintenance: &triage.MaintenanceChange{Title: "Reporting database upgrade",
				Components: []string{"Reporting", "CANARY-component"}, Start: f.now.Add(time.Hour), End: f.now.Add(3 * time.Hour),
				By: "CANARY-person@example.com"}})
			f.later(tt.after)
			f.tick()
			site := f.site("en", false)
			all := string(site.Files["api/v2/scheduled-maintenances.json"].Body)
			if !strings.Contains(all, "Reporting database upgrade") || !strings.Contains(all, tt.status) {
				t.Errorf("scheduled-maintenances.json lacks the window or %s:\n%s", tt.status, all)
			}
			comps := string(site.Files["api/v2/components.json"].Body)
			if want := `"name": "Reporting",` + "\n      \"status\": \"" + tt.component + `"`; !strings.Contains(comps, want) {
				t.Errorf("components.json: Reporting is not %s:\n%s", tt.component, comps)
			}
			summary := string(site.Files["api/v2/summary.json"].Body)
			html := string(site.Files["index.html"].Body)
			for doc, body := range map[string]string{"summary.json": summary, "index.html": html} {
				if strings.Contains(body, "Reporting database upgrade") != tt.open {
					t.Errorf("%s lists the window: %v, want %v", doc, !tt.open, tt.open)
				}
			}
			for path, file := range site.Files {
				if strings.Contains(strings.ToUpper(string(file.Body)), "CANARY") {
					t.Errorf("%s leaks internal data", path)
				}
			}
		})
	}
}

func TestInternalTemplates(t *testing.T) {
	for _, lang := range Languages {
		tpl, err := LoadInternalTemplates("", lang)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		_, body, err := tpl.Render(Investigating, InternalInputs{Service: "checkout", Severity: "SEV1", State: "investigating", Started: "09:00"})
		if err != nil || !strings.Contains(body, "checkout") || !strings.Contains(body, "SEV1") {
			t.Errorf("%s: %q, %v: want the service and severity named", lang, body, err)
		}
	}
	dir := t.TempDir()
	bad := "investigating: {title: t, body: '{{.PublicName}}'}\nidentified: {title: t, body: b}\nmonitoring: {title: t, body: b}\nresolved: {title: t, body: b}\n"
	if err := os.WriteFile(filepath.Join(dir, "internal.en.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadInternalTemplates(dir, "en"); err == nil || !strings.Contains(err.Error(), ".Service, .Severity, .State and .Started") {
		t.Errorf("a template naming an unknown input: %v", err)
	}
}
