//go:build unix

package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// statfsFree returns the bytes available to unprivileged users on the
// filesystem holding dir, or on that of its nearest existing parent when dir
// does not exist yet (so that nothing is created before the check).
func statfsFree(dir string) (int64, error) {
	path := dir
	for {
		var st unix.Statfs_t
		err := unix.Statfs(path, &st)
		if err == nil {
			return int64(st.Bavail) * int64(st.Bsize), nil //nolint:unconvert // Bsize is not int64 everywhere
		}
		parent := filepath.Dir(path)
		if !errors.Is(err, fs.ErrNotExist) || parent == path {
			return 0, fmt.Errorf("free space of %s: %w", dir, &os.PathError{Op: "statfs", Path: path, Err: err})
		}
		path = parent
	}
}
