//go:build linux

package pageout

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMapsLine(t *testing.T) {
	tests := []struct {
		line string
		want mapping
		ok   bool
	}{
		{
			line: "7f1c2a000000-7f1c2e000000 rw-s 00000000 fd:01 1234                       /tmp/j dir/000001.vlog",
			want: mapping{start: 0x7f1c2a000000, end: 0x7f1c2e000000, path: "/tmp/j dir/000001.vlog"},
			ok:   true,
		},
		{
			line: "c000000000-c000400000 rw-p 00000000 00:00 0 ",
			want: mapping{start: 0xc000000000, end: 0xc000400000},
			ok:   true,
		},
		{
			line: "c000000000-c000400000 rw-p 00000000 00:00 0",
			want: mapping{start: 0xc000000000, end: 0xc000400000},
			ok:   true,
		},
		{line: "c000000000-c000400000 rw-p 00000000 00:00", ok: false},
		{line: "zz-c000400000 rw-p 00000000 00:00 0", ok: false},
		{line: "c000400000-c000000000 rw-p 00000000 00:00 0", ok: false},
		{line: "", ok: false},
	}
	for _, tt := range tests {
		got, ok := parseMapsLine(tt.line)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseMapsLine(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseMapsLine(f *testing.F) {
	f.Add("7f1c2a000000-7f1c2e000000 rw-s 00000000 fd:01 1234   /data/000001.vlog")
	f.Add("c000000000-c000400000 rw-p 00000000 00:00 0")
	f.Fuzz(func(t *testing.T, line string) {
		if m, ok := parseMapsLine(line); ok && m.end < m.start {
			t.Errorf("parseMapsLine(%q) = %+v with end before start", line, m)
		}
	})
}

func TestFiles(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir += string(filepath.Separator)
	const size = 4 << 20
	path := dir + "mapped"
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	for i := 0; i < size; i += 4096 {
		mem[i] = 1
	}
	if err := unix.Msync(mem, unix.MS_SYNC); err != nil {
		t.Fatal(err)
	}
	if rss := mappedRSS(t, path); rss < size/2 {
		t.Fatalf("only %d bytes of the touched mapping are resident", rss)
	}
	if err := Files(dir); err != nil {
		t.Skipf("page out unsupported here: %v", err)
	}
	if rss := mappedRSS(t, path); rss > size/4 {
		t.Errorf("%d bytes of the mapping still resident after paging out", rss)
	}
	if mem[4096] != 1 {
		t.Error("paged-out data lost")
	}
}

// mappedRSS returns the resident bytes of this process's mappings of path.
func mappedRSS(t *testing.T, path string) int {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	total, in := 0, false
	for _, line := range strings.Split(string(smaps), "\n") {
		if m, ok := parseMapsLine(line); ok {
			in = m.path == path
			continue
		}
		if kb, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			total += n << 10
		}
	}
	return total
}
