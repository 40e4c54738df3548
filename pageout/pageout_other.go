//go:build !linux

package pageout

// Files is a no-op where MADV_PAGEOUT is not available.
func Files(string) error { return nil }
