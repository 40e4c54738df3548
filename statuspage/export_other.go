//go:build !linux

package statuspage

import "os"

// exchange swaps two directories; off Linux there is a moment in which b
// is missing (never a mix of old and new).
func exchange(a, b string) error {
	old := a + ".old"
	if err := os.Rename(b, old); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		return err
	}
	return os.Rename(old, a)
}
