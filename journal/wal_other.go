//go:build !linux

package journal

import (
	"errors"
	"os"
)

// walSupported says whether commits go through the write-ahead log, which
// needs syncfs to checkpoint; elsewhere badger fsyncs every commit itself.
const walSupported = false

func fdatasync(f *os.File) error { return f.Sync() }

func syncFS(string) error { return errors.New("syncfs is not available on this system") }

func mapSegment(path string) ([]byte, error) { return os.ReadFile(path) }

func unmapSegment([]byte) {}
