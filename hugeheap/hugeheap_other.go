//go:build !linux

package hugeheap

// Prepare does nothing outside Linux.
func Prepare(n uint64) (Region, error) { return Region{}, nil }

// Release does nothing outside Linux.
func (r Region) Release() error { return nil }
