//go:build linux

// Package pageout drops the pages a process has mapped from files out of
// its resident memory, where they would otherwise stay until the kernel is
// pressed for memory.
package pageout

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Files asks the kernel to drop from this process's memory every page it
// has mapped from files whose path starts with prefix (a directory ends in
// a separator).
//
// MADV_PAGEOUT reclaims those pages now; the data stays on disk and is
// faulted back in when it is read again. Unlike MADV_DONTNEED it never
// discards anonymous memory, so a mapping replaced between reading
// /proc/self/maps and the madvise call cannot be corrupted.
func Files(prefix string) error {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return fmt.Errorf("page out %s: %w", prefix, err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 4096), 1<<20)
	for s.Scan() {
		m, ok := parseMapsLine(s.Text())
		if !ok || !strings.HasPrefix(m.path, prefix) {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_PAGEOUT)
		switch {
		case errno == 0, errno == unix.ENOMEM: // ENOMEM: unmapped meanwhile
		case errno == unix.EINVAL:
			return fmt.Errorf("page out %s: %w (MADV_PAGEOUT needs Linux 5.4)", m.path, errno)
		default:
			return fmt.Errorf("page out %s: %w", m.path, errno)
		}
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("page out %s: read /proc/self/maps: %w", prefix, err)
	}
	return nil
}

// mapping is one line of /proc/self/maps.
type mapping struct {
	start, end uint64
	path       string
}

// parseMapsLine parses "start-end perms offset dev inode [path]".
func parseMapsLine(line string) (mapping, bool) {
	var fields [5]string
	rest := line
	for i := range fields {
		rest = strings.TrimLeft(rest, " ")
		fields[i], rest, _ = strings.Cut(rest, " ")
		if fields[i] == "" {
			return mapping{}, false
		}
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if err := errors.Join(err1, err2); err != nil || end < start {
		return mapping{}, false
	}
	return mapping{start: start, end: end, path: strings.TrimLeft(rest, " ")}, true
}
