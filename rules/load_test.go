package rules

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"b.yml": "services: {}\n", "a.yml": "severity: {}\n", "sub/c.yml": "calendars: {}\n", "notes.txt": "x",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Load(dir, []string{"*.yml", "sub/*.yml", "a.yml", "missing/*.yml", filepath.Join(dir, "sub", "c.yml")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	want := []string{"a.yml", "b.yml", filepath.Join(dir, "sub", "c.yml"), filepath.Join("sub", "c.yml")}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("Load names = %v, want %v", names, want)
	}
	if string(files[0].Data) != "severity: {}\n" && string(files[1].Data) != "severity: {}\n" {
		t.Error("file contents not read")
	}

	if files, err := Load(dir, []string{"nothing-*.yml"}); err != nil || len(files) != 0 {
		t.Errorf("a glob matching nothing: %v, %v", files, err)
	}
	if _, err := Load(dir, []string{"sub"}); err == nil || !strings.Contains(err.Error(), "sub") {
		t.Errorf("a directory as a rule file: %v", err)
	}
	if _, err := Load(dir, []string{"[.yml"}); err == nil {
		t.Error("a malformed glob was accepted")
	}
}
