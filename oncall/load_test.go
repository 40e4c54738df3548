package oncall

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/tz"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestLoadErrors loads each testdata/bad/*.yml and compares every problem
// it reports, as file:line: message, with the .err golden file beside it.
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Loader{Zone: time.LoadLocation}.Load([]File{{Name: filepath.Base(name), Data: data}})
			if err == nil {
				t.Fatal("loaded without error")
			}
			golden := strings.TrimSuffix(name, ".yml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if got := err.Error() + "\n"; got != string(want) {
				t.Errorf("errors differ from %s (-update to rewrite)\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestErrorsNeverPrintSecrets: what a contact method holds (URLs with
// credentials, API keys) stays out of every message.
func TestErrorsNeverPrintSecrets(t *testing.T) {
	data, err := os.ReadFile("testdata/bad/secrets.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Loader{Zone: time.LoadLocation}.Load([]File{{Name: "secrets.yml", Data: data}})
	if err == nil {
		t.Fatal("loaded without error")
	}
	for _, secret := range []string{"hunter2", "topsecret", "sekrit", "%zz"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows %q:\n%v", secret, err)
		}
	}
}

func TestDefinitionsAcrossFiles(t *testing.T) {
	a := File{Name: "a.yml", Data: []byte(people)}
	b := File{Name: "b.yml", Data: []byte("people:\n  a: {name: A2, time_zone: UTC, contact_methods: [{name: x, webhook_configs: [{url: 'http://127.0.0.1:9099/x'}]}]}\n" +
		"teams:\n  t: {members: [a, b, zed]}\n")}
	_, err := Loader{Zone: time.LoadLocation}.Load([]File{a, b})
	want := "b.yml:2: person \"a\" is already defined at a.yml:3\n" +
		"b.yml:4: unknown person \"zed\" (defined: a, b, c, d)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if _, err := (Loader{Zone: time.LoadLocation}).Load([]File{a, {Name: "c.yml", Data: []byte("teams:\n  t: {members: [a, b]}\n")}}); err != nil {
		t.Errorf("a team in one file naming people of another: %v", err)
	}
}

func TestDefaultZoneLoaderIsTheBinarys(t *testing.T) {
	cfg, err := Load([]File{{Name: "b.yml", Data: []byte(oneRotation("Europe/Berlin", "daily", "2026-01-01T00:00"))}})
	if err != nil {
		t.Fatal(err)
	}
	berlin, err := tz.Load("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Schedules["s"].Zone; got.String() != berlin.String() {
		t.Errorf("zone %v, want the embedded Europe/Berlin", got)
	}
	_, err = Load([]File{{Name: "m.yml", Data: []byte(oneRotation("Mars/Olympus", "daily", "2026-01-01T00:00"))}})
	if err == nil || !strings.Contains(err.Error(), `m.yml:10: schedule "s": time_zone: cannot load "Mars/Olympus"`) {
		t.Errorf("got %v", err)
	}
}

func TestEmptyFilesLoad(t *testing.T) {
	cfg, err := Load([]File{{Name: "empty.yml"}, {Name: "null.yml", Data: []byte("people:\n")}})
	if err != nil || len(cfg.People) != 0 {
		t.Errorf("got %v, %v", cfg, err)
	}
}

// TestNamedReceivers: a receivers section defines receivers by name, which
// Receivers lists under NamedKey beside contact methods and fallbacks.
func TestNamedReceivers(t *testing.T) {
	data := people + `
receivers:
  - name: sre-announce
    webhook_configs: [{url: "http://127.0.0.1:9099/announce"}]
`
	cfg, err := Loader{Zone: time.LoadLocation}.Load([]File{{Name: "r.yml", Data: []byte(data)}})
	if err != nil {
		t.Fatal(err)
	}
	rc := cfg.Receivers()[NamedKey("sre-announce")]
	if rc == nil || len(rc.WebhookConfigs) != 1 || string(rc.WebhookConfigs[0].URL) != "http://127.0.0.1:9099/announce" {
		t.Errorf("Receivers()[%q] = %+v", NamedKey("sre-announce"), rc)
	}
}
