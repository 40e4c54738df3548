package journal

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// walSupported says whether commits go through the write-ahead log, which
// needs syncfs to checkpoint; elsewhere badger fsyncs every commit itself.
const walSupported = true

// fdatasync flushes f's data, and the metadata needed to read it back.
func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// syncFS makes everything written to the filesystem holding dir durable.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = unix.Syncfs(int(d.Fd()))
	return errors.Join(err, d.Close())
}

// mapSegment maps the segment file at path for reading.
func mapSegment(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil, err
	}
	return unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
}

func unmapSegment(data []byte) {
	if data != nil {
		_ = unix.Munmap(data)
	}
}
