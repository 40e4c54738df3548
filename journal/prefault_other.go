//go:build !linux

package journal

// prefault does nothing where MADV_POPULATE_WRITE does not exist.
func prefault([]byte) {}
