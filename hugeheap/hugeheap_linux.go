package hugeheap

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"
)

// modeFile holds the kernel's THP mode, the chosen one in brackets.
const modeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

// hugePage is the size of a transparent huge page on amd64 and arm64 with
// 4 KiB base pages.
const hugePage = 2 << 20

// Prepare grows the Go heap by about n bytes of address space, none of it
// touched, and advises the kernel to back that space with huge pages when
// the collector hands it out. It acts only when the THP mode is "madvise":
// under "always" the heap has huge pages already, under "never" it cannot.
// n is capped at half the physical memory and half the soft memory limit,
// so that the reservation itself never fails; below 64 MiB nothing is done.
func Prepare(n uint64) (Region, error) {
	mode, err := os.ReadFile(modeFile)
	if err != nil || !bytes.Contains(mode, []byte("[madvise]")) {
		return Region{}, nil // no THP, or the kernel decides alone
	}
	n = min(n, capBytes())
	if n < minBytes {
		return Region{}, nil
	}
	r, err := advise(make([]byte, n))
	if err != nil {
		return Region{}, err
	}
	// The buffer is garbage now: collect it, so that the allocations of
	// recovery take its pages (Go's page allocator hands out the lowest
	// free addresses first, and the heap was small before it).
	runtime.GC()
	return r, nil
}

// advise asks for huge pages over the 2 MiB pages b covers entirely. A
// fresh allocation this large is mapped, not written: the kernel has
// backed none of it yet.
func advise(b []byte) (Region, error) {
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	r := Region{
		start: (base + hugePage - 1) &^ (hugePage - 1),
		end:   (base + uintptr(len(b))) &^ (hugePage - 1),
	}
	if r.end <= r.start {
		return Region{}, nil
	}
	if err := r.madvise(unix.MADV_HUGEPAGE); err != nil {
		return Region{}, fmt.Errorf("advise %d bytes of heap for huge pages: %w", r.Bytes(), err)
	}
	runtime.KeepAlive(b)
	return r, nil
}

// Release withdraws the advice. The huge pages recovery faulted in stay
// until the collector returns part of one to the kernel.
func (r Region) Release() error {
	if r.end <= r.start {
		return nil
	}
	if err := r.madvise(unix.MADV_NOHUGEPAGE); err != nil {
		return fmt.Errorf("withdraw huge-page advice from %d bytes of heap: %w", r.Bytes(), err)
	}
	return nil
}

// madvise gives the region advice. It passes addresses, not a slice: a
// pointer into the freed buffer would keep the collector from freeing it.
func (r Region) madvise(advice int) error {
	_, _, errno := unix.Syscall(unix.SYS_MADVISE, r.start, r.end-r.start, uintptr(advice))
	if errno != 0 {
		return errno
	}
	return nil
}

// capBytes is the most Prepare reserves: half the physical memory, and half
// the soft memory limit when one is set.
func capBytes() uint64 {
	var info unix.Sysinfo_t
	limit := uint64(math.MaxUint64)
	if unix.Sysinfo(&info) == nil {
		limit = uint64(info.Totalram) * uint64(info.Unit) / 2
	}
	if soft := debug.SetMemoryLimit(-1); soft != math.MaxInt64 && soft > 0 {
		limit = min(limit, uint64(soft)/2)
	}
	return limit
}
