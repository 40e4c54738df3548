package tz_test

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/tz"
)

func TestLoad(t *testing.T) {
	jan := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	jul := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name           string
		janOff, julOff int // seconds east of UTC
	}{
		{"UTC", 0, 0},
		{"Europe/Berlin", 3600, 7200},
		{"America/New_York", -5 * 3600, -4 * 3600},
		{"Asia/Kolkata", 19800, 19800},
		{"Australia/Sydney", 11 * 3600, 10 * 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := tz.Load(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if _, off := jan.In(loc).Zone(); off != tc.janOff {
				t.Errorf("January offset %d, want %d", off, tc.janOff)
			}
			if _, off := jul.In(loc).Zone(); off != tc.julOff {
				t.Errorf("July offset %d, want %d", off, tc.julOff)
			}
			again, _ := tz.Load(tc.name)
			if again != loc {
				t.Error("second Load did not return the cached location")
			}
		})
	}
}

func TestLoadUnknown(t *testing.T) {
	for _, name := range []string{"", "Local", "local", "Mars/Olympus_Mons", "../../etc/passwd", "europe/berlin", "Europe/Berlin/"} {
		if loc, err := tz.Load(name); !errors.Is(err, tz.ErrUnknownZone) {
			t.Errorf("Load(%q) = %v, %v; want ErrUnknownZone", name, loc, err)
		}
	}
}

// The host's zone database must not matter: a child process runs with
// ZONEINFO pointing at a database in which Europe/Berlin is UTC+5 (Karachi's
// rules under Berlin's name), as a zip and as a directory.
func TestHostZoneDatabaseIsIgnored(t *testing.T) {
	if os.Getenv("KLAXON_TZ_CHILD") == "1" {
		childChecks(t)
		return
	}
	karachi := zoneBytes(t, "Asia/Karachi")
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "fake.zip")
	writeZip(t, zipPath, "Europe/Berlin", karachi)
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "Europe"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "Europe", "Berlin"), karachi, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, zoneinfo := range []string{zipPath, tree} {
		t.Run(filepath.Base(zoneinfo), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHostZoneDatabaseIsIgnored$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "KLAXON_TZ_CHILD=1", "ZONEINFO="+zoneinfo)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "fake zone in effect") {
				t.Fatalf("child with ZONEINFO=%s: %v\n%s", zoneinfo, err, out)
			}
		})
	}
}

// childChecks runs under the fake ZONEINFO: it first proves the fake is in
// effect for time.LoadLocation, then that tz and rule calendars ignore it.
func childChecks(t *testing.T) {
	winter := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	host, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if _, off := winter.In(host).Zone(); off != 5*3600 {
		t.Fatalf("the fake database is not in effect: host Berlin offset %d", off)
	}
	t.Log("fake zone in effect")
	loc, err := tz.Load("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if _, off := winter.In(loc).Zone(); off != 3600 {
		t.Errorf("tz.Load Berlin offset %d, want 3600", off)
	}
	rs, err := rules.Compile([]rules.File{{Name: "p.yml", Data: []byte(`
policies:
  SEV3: {page: business_hours, calendar: office}
calendars:
  office: {time_zone: Europe/Berlin, days: [mon-fri], hours: "09:00-17:00"}
`)}})
	if err != nil {
		t.Fatal(err)
	}
	sev3, _ := rs.Level("SEV3")
	// Thursday 2026-01-15 05:00 UTC is 06:00 in Berlin (10:00 under the fake).
	got := rs.Policy(sev3).PageAt(time.Date(2026, 1, 15, 5, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 1, 15, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("PageAt = %s, want %s", got, want)
	}
}

// zoneBytes reads one TZif file from the toolchain's zoneinfo.zip (the same
// file the package embeds).
func zoneBytes(t *testing.T, name string) []byte {
	t.Helper()
	r, err := zip.OpenReader("zoneinfo.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := r.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeZip(t *testing.T, path, name string, data []byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}
