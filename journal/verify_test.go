package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// damagedStore builds a closed journal in a new directory, with tables,
// value log and memtable log files, and returns its directory and records.
func damagedStore(t *testing.T) (string, []Record) {
	t.Helper()
	dir := t.TempDir()
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: dir, MemTableSize: 1 << 20}, fsm)
	for i := range 400 {
		// Sizes straddle the value threshold: records in tables and in the value log.
		data := bytes.Repeat([]byte{byte(i)}, 100+i*7%3000)
		if _, _, err := j.Append(context.Background(), data, nil); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	recs, _, _, _ := fsm.state()
	return dir, recs
}

// storeFiles lists dir's files with their sizes, LOCK aside.
func storeFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() == "LOCK" {
			continue
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%d", e.Name(), info.Size()))
	}
	return out
}

// firstFile returns the first file in dir with extension ext.
func firstFile(t *testing.T, dir, ext string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no %s file in %s (%v)", ext, dir, err)
	}
	slices.Sort(matches)
	return matches[0]
}

func truncateHalf(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, info.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// overwriteWith returns a damage that replaces a file's bytes with fill's.
func overwriteWith(fill func(n int) []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, fill(int(info.Size())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func zeros(n int) []byte { return make([]byte, n) }
func garbage(n int) []byte {
	n = max(n, 64)
	return bytes.Repeat([]byte("not a badger file "), n/18+1)[:n]
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedStore(t *testing.T) {
	// What the error must name: the damaged file, its base name, or the directory.
	const (
		namePath = iota
		nameBase
		nameDir
	)
	tests := []struct {
		name   string
		file   string // a file name, or an extension for the first file with it
		damage func(t *testing.T, path string)
		names  int
	}{
		{name: "truncated table", file: ".sst", damage: truncateHalf, names: namePath},
		{name: "zeroed table", file: ".sst", damage: overwriteWith(zeros), names: namePath},
		{name: "table listed but missing", file: ".sst", damage: remove, names: nameBase},
		{name: "garbage MANIFEST", file: manifestFile, damage: overwriteWith(garbage), names: namePath},
		{name: "missing MANIFEST", file: manifestFile, damage: remove, names: nameDir},
		{name: "truncated value log", file: ".vlog", damage: truncateHalf, names: namePath},
		{name: "zeroed value log", file: ".vlog", damage: overwriteWith(zeros), names: namePath},
		{name: "missing KEYREGISTRY", file: keyRegistryFile, damage: remove, names: nameDir},
		{name: "garbage KEYREGISTRY", file: keyRegistryFile, damage: overwriteWith(garbage), names: namePath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := damagedStore(t)
			path := filepath.Join(dir, tt.file)
			if strings.HasPrefix(tt.file, ".") {
				path = firstFile(t, dir, tt.file)
			}
			tt.damage(t, path)
			named := map[int]string{namePath: path, nameBase: filepath.Base(path), nameDir: dir}[tt.names]
			before := storeFiles(t, dir)
			j, err := OpenBadger(Options{Dir: dir, MemTableSize: 1 << 20}, &testFSM{})
			if err == nil {
				j.Close()
				t.Fatalf("OpenBadger on a store with %s succeeded", tt.name)
			}
			if !errors.Is(err, errCorrupt) || !strings.HasPrefix(err.Error(), "journal store corrupt: ") {
				t.Errorf("error %q does not start with %q", err, errCorrupt.Error()+": ")
			}
			if !strings.Contains(err.Error(), named) {
				t.Errorf("error %q does not name %s", err, named)
			}
			if after := storeFiles(t, dir); !slices.Equal(after, before) {
				t.Errorf("files changed by the failed open:\n before %v\n after  %v", before, after)
			}
			t.Logf("%s: %v", tt.name, err)
		})
	}
}

// TestDataFilesWithoutManifest is the operator's mistake: MANIFEST gone,
// data files left. Opening must refuse and leave every file in place.
func TestDataFilesWithoutManifest(t *testing.T) {
	dir, _ := damagedStore(t)
	for _, name := range []string{manifestFile, keyRegistryFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	before := storeFiles(t, dir)
	for range 2 { // a second attempt finds the same files
		_, err := OpenBadger(Options{Dir: dir}, &testFSM{})
		if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "no MANIFEST") {
			t.Fatalf("OpenBadger without MANIFEST: %v, want an error naming %s and the missing MANIFEST", err, dir)
		}
	}
	if after := storeFiles(t, dir); !slices.Equal(after, before) {
		t.Errorf("files changed:\n before %v\n after  %v", before, after)
	}
}

// TestUndamagedStoreReopens guards the checks against false alarms.
func TestUndamagedStoreReopens(t *testing.T) {
	dir, want := damagedStore(t)
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: dir, MemTableSize: 1 << 20}, fsm)
	defer j.Close()
	got, _, _, _ := fsm.state()
	if err := diffRecords(got, want); err != nil {
		t.Errorf("reopened state: %v", err)
	}
	if err := diffRecords(readAll(t, j, 0), want); err != nil {
		t.Errorf("stored records: %v", err)
	}
}
