//go:build !linux

package journal

// pageOutMappings is a no-op where MADV_PAGEOUT is not available.
func pageOutMappings(string) error { return nil }
