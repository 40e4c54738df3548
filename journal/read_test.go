package journal

import (
	"context"
	"testing"
)

func TestReadDirReadsAStoppedJournal(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenBadger(Options{Dir: dir}, nopFSM{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a", "b", "c"} {
		if _, _, err := j.Append(context.Background(), []byte(d), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := ReadDir(dir, 1, func(Record) error { return nil }); err == nil {
		t.Fatal("ReadDir opened a directory in use")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := ReadDir(dir, 2, func(r Record) error { got += string(r.Data); return nil }); err != nil {
		t.Fatal(err)
	}
	if got != "bc" {
		t.Fatalf("read %q, want %q", got, "bc")
	}
}

type nopFSM struct{}

func (nopFSM) Apply(Record) any { return nil }
func (nopFSM) Snapshot() SnapshotFunc {
	return func() ([]byte, error) { return []byte("{}"), nil }
}
func (nopFSM) Restore([]byte) error { return nil }
