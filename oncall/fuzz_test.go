package oncall

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary files to the loader: it must never panic, and
// whatever it accepts must answer who is on call, where the gaps are and
// what a policy pages without panicking either.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*.yml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, src := range []string{layered, officeOnly, policies, oneRotation("Europe/Berlin", "hourly", "2026-03-29T00:00")} {
		f.Add([]byte(src))
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Loader{Zone: time.LoadLocation}.Load([]File{{Name: "fuzz.yml", Data: data}})
		if err != nil {
			if cfg != nil {
				t.Fatal("a failed load returned a configuration")
			}
			return
		}
		for _, s := range cfg.Schedules {
			s.OnCallAt(from, nil)
			s.Gaps(from, from.Add(72*time.Hour), nil)
		}
		for id := range cfg.Policies {
			if _, err := cfg.Plan(id, from, time.Time{}, nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}
