package hugeheap

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// madviseMode says whether the kernel leaves THP to madvise. Where it does
// not, the tests check that Prepare does nothing, rather than skip.
func madviseMode(t *testing.T) bool {
	t.Helper()
	mode, err := os.ReadFile(modeFile)
	return err == nil && bytes.Contains(mode, []byte("[madvise]"))
}

func TestPrepareAdvisesAndReleaseWithdraws(t *testing.T) {
	const n = 256 << 20
	r, err := Prepare(n)
	if err != nil {
		t.Fatal(err)
	}
	if !madviseMode(t) {
		if r.Bytes() != 0 {
			t.Fatalf("THP mode is not madvise, yet %d bytes were advised", r.Bytes())
		}
		return
	}
	if r.Bytes() < n-2*hugePage || r.Bytes() > n {
		t.Fatalf("advised %d bytes, want about %d", r.Bytes(), n)
	}
	if r.start%hugePage != 0 || r.end%hugePage != 0 {
		t.Fatalf("region %#x-%#x is not aligned to huge pages", r.start, r.end)
	}
	wantFlags(t, r, "hg", "nh")

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > n/2 {
		t.Errorf("heap holds %d bytes after Prepare: the buffer was not freed", ms.HeapAlloc)
	}

	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	wantFlags(t, r, "nh", "hg")
}

func TestPrepareIgnoresSmallRegions(t *testing.T) {
	r, err := Prepare(minBytes - 1)
	if err != nil || r.Bytes() != 0 {
		t.Fatalf("Prepare(%d) = %d bytes, %v; want nothing", minBytes-1, r.Bytes(), err)
	}
	if err := r.Release(); err != nil {
		t.Fatalf("the zero Region's Release: %v", err)
	}
}

func TestPrepareKeepsUnderHalfTheMemoryLimit(t *testing.T) {
	const limit = 400 << 20
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	r, err := Prepare(4 << 30)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if r.Bytes() > limit/2 {
		t.Fatalf("advised %d bytes under a memory limit of %d", r.Bytes(), limit)
	}
	if madviseMode(t) && r.Bytes() == 0 {
		t.Fatal("advised nothing, want half the memory limit")
	}
}

// wantFlags fails unless every mapping overlapping r has VmFlags flag and
// lacks not, as /proc/self/smaps shows them.
func wantFlags(t *testing.T, r Region, flag, not string) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var overlaps bool
	covered := uintptr(0)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			overlaps = lo < r.end && hi > r.start
			if overlaps {
				covered += min(hi, r.end) - max(lo, r.start)
			}
			continue
		}
		if !overlaps || !strings.HasPrefix(line, "VmFlags:") {
			continue
		}
		flags := strings.Fields(strings.TrimPrefix(line, "VmFlags:"))
		if !slices.Contains(flags, flag) || slices.Contains(flags, not) {
			t.Errorf("mapping in %#x-%#x has VmFlags %v; want %q and not %q", r.start, r.end, flags, flag, not)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if covered != r.end-r.start {
		t.Fatalf("mappings cover %d of the region's %d bytes", covered, r.end-r.start)
	}
}

// mappingRange parses the address range that starts a mapping's lines in
// smaps ("c000000000-c004000000 rw-p ...").
func mappingRange(line string) (lo, hi uintptr, ok bool) {
	addrs, _, found := strings.Cut(line, " ")
	a, b, found2 := strings.Cut(addrs, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	l, err1 := strconv.ParseUint(a, 16, 64)
	h, err2 := strconv.ParseUint(b, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(l), uintptr(h), true
}
