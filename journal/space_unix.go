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

// statfs describes the filesystem holding dir, or that of its nearest
// existing parent when dir does not exist yet (so that nothing is created
// before the check).
func statfs(dir string) (fsSpace, error) {
	path := dir
	for {
		var st unix.Statfs_t
		err := unix.Statfs(path, &st)
		if err == nil {
			return fsSpace{
				free:     int64(st.Bavail) * int64(st.Bsize), //nolint:unconvert // Bsize is not int64 everywhere
				readOnly: uint64(st.Flags)&unix.ST_RDONLY != 0,
			}, nil
		}
		parent := filepath.Dir(path)
		if !errors.Is(err, fs.ErrNotExist) || parent == path {
			return fsSpace{}, fmt.Errorf("free space of %s: %w", dir, &os.PathError{Op: "statfs", Path: path, Err: err})
		}
		path = parent
	}
}
