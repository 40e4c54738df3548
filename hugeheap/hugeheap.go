// Package hugeheap backs the heap that recovery is about to grow into with
// transparent huge pages, on kernels that give them only where asked.
//
// Recovery grows Klaxon's heap from nothing to about 1.2 GB for a million
// alerts. On the 2-core virtual machine of `make bench`, faulting in fresh
// memory 4 KiB at a time cost 3.2 s per GiB, a third of recovery's CPU; in
// 2 MiB pages it cost 0.07 s. Go's runtime maps its heap without asking for
// huge pages, so on a kernel whose THP mode is "madvise" (Debian's and
// most distributions' default) the heap never gets them. Prepare grows the
// heap ahead of recovery and asks for them there; Release withdraws the
// advice once recovery is done, so that khugepaged never refills, 2 MiB at
// a time, pages the collector has given back.
package hugeheap

// minBytes is the least Prepare acts on: below it the page faults cost
// recovery milliseconds.
const minBytes = 64 << 20

// Region is heap address space advised for huge pages. The zero Region
// advises nothing.
type Region struct {
	start, end uintptr
}

// Bytes is the size of the advised address space.
func (r Region) Bytes() uint64 { return uint64(r.end - r.start) }
