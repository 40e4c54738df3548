package statuspage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

// many opens n incidents across every service, severity and lifecycle,
// with canaries in every internal field, and archives the oldest.
func many(t testing.TB, n int) *fixture {
	f := newFixture(t)
	services := []string{"shop", "api", "payments", "reports", "ledger-db"}
	for i := range n {
		id := fmt.Sprint(i)
		svc := services[i%len(services)]
		f.alert(id, svc, 1+i%2, true)
		key := f.newest()
		f.ticket(id, svc)
		f.post(key, triage.AudienceInternal, triage.StateInvestigating, "CANARY-internal-update "+id)
		if i%3 == 1 {
			f.post(key, triage.AudienceExternal, triage.StateIdentified, "We found the cause and are fixing it.")
		}
		f.later(time.Minute)
		if i%2 == 0 {
			f.act(triage.ActionAck, key, "")
		}
		if i%3 == 0 {
			f.act(triage.ActionSetSeverity, key, "SEV1")
		}
		if i%4 == 1 {
			f.alert(id, svc, 1+i%2, false)
		}
		if i%5 < 2 {
			f.act(triage.ActionResolve, key, "")
		}
		f.later(time.Hour)
		if i == n/2 {
			f.later(8 * 24 * time.Hour) // the incidents resolved by now leave for the archive
			f.tick()
		}
	}
	return f
}

func TestNothingInternalLeaks(t *testing.T) {
	f := many(t, 40)
	if len(f.arch.items) == 0 {
		t.Fatal("the fixture archived nothing: the archive path is untested")
	}
	for _, lang := range Languages {
		site := f.site(lang, true)
		published := 0
		for path, file := range site.Files {
			if i := bytes.Index(bytes.ToUpper(file.Body), []byte("CANARY")); i >= 0 {
				t.Errorf("%s %s leaks internal data: …%s…", lang, path, file.Body[max(0, i-80):min(len(file.Body), i+80)])
			}
			published += bytes.Count(file.Body, []byte("incident_updates"))
		}
		if published == 0 {
			t.Fatalf("%s: no incident was published: the test cannot fail", lang)
		}
		dir := filepath.Join(t.TempDir(), "out")
		if err := Export(site, dir); err != nil {
			t.Fatal(err)
		}
		err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil || filepath.Base(p) == "out" {
				return err
			}
			if data, _ := os.ReadFile(p); bytes.Contains(bytes.ToUpper(data), []byte("CANARY")) || bytes.Contains([]byte(p), []byte("CANARY")) {
				t.Errorf("exported %s leaks internal data", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestOnlyPublishableIncidentsAppear(t *testing.T) {
	f := standard(t)
	site := f.site("en", false)
	body := string(site.Files["api/v2/incidents.json"].Body)
	for _, name := range []string{"Reports", "Ledger database"} {
		if bytes.Contains([]byte(body), []byte("issues with "+name)) {
			t.Errorf("incidents.json shows an incident of %s", name)
		}
	}
	for _, name := range []string{"Public API", "Payments", "Online Shop"} {
		if !bytes.Contains([]byte(body), []byte("issues with "+name)) {
			t.Errorf("incidents.json lacks the incident of %s", name)
		}
	}
}

func TestTemplatesCannotReachInternalData(t *testing.T) {
	for _, text := range []string{"{{.Labels}}", "{{.Title}}", "{{.Summary.Explanation}}", "{{index . 0}}",
		"{{.Tickets}}", "{{.Duration}}", "{{.Pages}}", "{{.Customers}}", "{{.Roles}}", "{{.Key}}", "{{.TimeToAck}}"} { // the final message's figures are internal
		yml := fmt.Sprintf("investigating: {title: %q, body: b}\nidentified: {title: t, body: b}\nmonitoring: {title: t, body: b}\nresolved: {title: t, body: b}\n", text)
		if _, err := ParseTemplates([]byte(yml)); err == nil {
			t.Errorf("a template using %s was accepted", text)
		}
	}
}

func TestPageSizeWithFiftyIncidents(t *testing.T) {
	f := newFixture(t)
	for i := range 50 {
		f.alert(fmt.Sprint(i), []string{"shop", "api", "payments", "reports"}[i%4], 1+i%2, true)
		f.later(31 * time.Minute)
	}
	for _, lang := range Languages {
		html := f.site(lang, false).Files["index.html"].Body
		if n := bytes.Count(html, []byte("<article")); n < 25 {
			t.Fatalf("%s: only %d incidents on the page", lang, n)
		}
		if len(html) >= 50<<10 {
			t.Errorf("%s: the page is %d bytes, want under 50 KB", lang, len(html))
		}
		t.Logf("%s: %d bytes", lang, len(html))
	}
}
