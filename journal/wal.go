package journal

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// The write-ahead log makes a commit durable with one flush of the device.
//
// Badger fsyncs a transaction by syncing its value log and then its
// memtable's log: two device flushes a commit, even when nothing went to
// the value log (some 0.47 ms a commit here, most of it waiting on the
// two). With the log, the committer writes a batch to badger unsynced,
// appends the same records to a segment of the log and fdatasyncs that one
// file. A segment is written full of zeros when it is made, so that
// overwriting it changes no file metadata and its fdatasync costs one
// flush. A full segment is checkpointed in the background: syncing the
// filesystem (syncfs) makes everything badger wrote before it durable, and
// the segment is then reused from its start. Recovery writes back into
// badger every record in the log that badger lacks or holds otherwise,
// which only a crash of the machine can cause: the page cache that holds
// badger's unsynced writes survives a crash of the process.
//
// A segment holds frames: a 16-byte header (the payload's length, the
// CRC-32C of the sequence number and payload, the sequence number; little
// endian) and the record's value. A segment's frames have increasing
// sequence numbers; reading stops at the first that does not, or whose CRC
// does not match, which is where the frames of a reused segment's previous
// use, or a torn write, begin.
type wal struct {
	dir     string
	segSize int64
	sync    func() error // makes everything written to the store before it durable

	cur *os.File // the segment being appended to
	off int64    // where the next frame goes in cur
	buf []byte   // frames being written

	full chan *os.File // segments to checkpoint
	wg   sync.WaitGroup

	mu   sync.Mutex
	free []*os.File // checkpointed segments, ready for reuse
	next int        // number of the next new segment file
	err  error      // the first failure; the log refuses appends after it
}

const (
	walHeaderLen = 16
	walSpares    = 2 // checkpointed segments kept for reuse; more are deleted
	walSuffix    = ".seg"
)

// errWALTooLarge says a batch does not fit in one segment; its commit is
// made durable by syncing badger itself.
var errWALTooLarge = errors.New("batch larger than a log segment")

// openWAL opens the log in dir, creating dir and a first segment if there
// is none, and starts its checkpointer. sync makes durable everything
// written to the store before it is called.
func openWAL(dir string, segSize int64, sync func() error) (*wal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open write-ahead log: %w", err)
	}
	names, err := segmentNames(dir)
	if err != nil {
		return nil, err
	}
	w := &wal{dir: dir, segSize: segSize, sync: sync, full: make(chan *os.File, 16)}
	for _, name := range names {
		var n int
		if _, err := fmt.Sscanf(name, "%d"+walSuffix, &n); err == nil && n >= w.next {
			w.next = n + 1
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR, 0)
		if err != nil {
			w.closeFiles()
			return nil, fmt.Errorf("open write-ahead log: %w", err)
		}
		// Recovery has written every record of the log into the store and
		// synced it: every segment is free.
		w.free = append(w.free, f)
	}
	if w.cur, err = w.take(); err != nil {
		w.closeFiles()
		return nil, err
	}
	w.wg.Add(1)
	go w.checkpointer()
	return w, nil
}

// segmentNames lists the segment files in dir.
func segmentNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read write-ahead log: %w", err)
	}
	var names []string
	for _, e := range entries {
		switch name := e.Name(); {
		case !e.Type().IsRegular():
		case strings.HasSuffix(name, walSuffix):
			names = append(names, name)
		case strings.HasSuffix(name, walSuffix+".tmp"):
			os.Remove(filepath.Join(dir, name)) // a segment whose making was cut short
		}
	}
	return names, nil
}

// take returns a free segment, or a new one.
func (w *wal) take() (*os.File, error) {
	w.mu.Lock()
	if n := len(w.free); n > 0 {
		f := w.free[n-1]
		w.free = w.free[:n-1]
		w.mu.Unlock()
		return f, nil
	}
	name := filepath.Join(w.dir, fmt.Sprintf("%08d%s", w.next, walSuffix))
	w.next++
	w.mu.Unlock()
	return createSegment(name, w.segSize)
}

// createSegment writes a segment of size zero bytes under a temporary name,
// syncs it and renames it to name.
func createSegment(name string, size int64) (*os.File, error) {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create log segment: %w", err)
	}
	zeros := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size && err == nil; off += int64(len(zeros)) {
		_, err = f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err == nil {
		err = syncDir(filepath.Dir(name))
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("create log segment %s: %w", filepath.Base(name), err)
	}
	return f, nil
}

// syncDir fsyncs directory dir, making the names in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// append writes the records of batch, the first numbered first, and
// fdatasyncs them. Once a write or sync has failed, it fails again: whether
// the failed write reached the disk is not known. Failing to make a new
// segment (a full disk) fails only that append.
func (w *wal) append(first uint64, batch []*request) error {
	if err := w.failed(); err != nil {
		return err
	}
	w.buf = w.buf[:0]
	for i, req := range batch {
		w.buf = appendFrame(w.buf, first+uint64(i), req.value)
	}
	if int64(len(w.buf)) > w.segSize {
		return errWALTooLarge
	}
	if w.off+int64(len(w.buf)) > w.segSize {
		if err := w.rotate(); err != nil {
			return err // nothing was written: the next commit tries again
		}
	}
	if _, err := w.cur.WriteAt(w.buf, w.off); err != nil {
		return w.fail(fmt.Errorf("write log segment: %w", err))
	}
	if err := fdatasync(w.cur); err != nil {
		return w.fail(fmt.Errorf("sync log segment: %w", err))
	}
	w.off += int64(len(w.buf))
	return nil
}

// rotate hands the current segment to the checkpointer and continues in
// another.
func (w *wal) rotate() error {
	next, err := w.take()
	if err != nil {
		return err
	}
	w.full <- w.cur
	w.cur, w.off = next, 0
	return nil
}

// checkpointer syncs the store for each full segment, then frees it, until
// full is closed; it also keeps a spare segment made ahead.
func (w *wal) checkpointer() {
	defer w.wg.Done()
	w.spare()
	for f := range w.full {
		if err := w.sync(); err != nil {
			w.fail(fmt.Errorf("checkpoint write-ahead log: %w", err))
			f.Close()
			continue
		}
		w.release(f)
	}
}

// spare makes a segment ahead, so that a rotation does not write one.
func (w *wal) spare() {
	w.mu.Lock()
	have := len(w.free)
	w.mu.Unlock()
	if have > 0 {
		return
	}
	f, err := w.take()
	if err != nil {
		return // a rotation tries again, and fails the commit if it cannot
	}
	w.release(f)
}

// release frees a checkpointed segment, or deletes it when enough are free.
func (w *wal) release(f *os.File) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.free) < walSpares {
		w.free = append(w.free, f)
		return
	}
	f.Close()
	os.Remove(f.Name())
}

func (w *wal) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// fail records err as the log's failure, if it is the first, and returns it.
func (w *wal) fail(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	return err
}

// close stops the checkpointer and closes the segments. With empty, which
// the caller passes once the store durably holds every record, it first
// marks each segment empty, so that the next open has nothing to restore.
func (w *wal) close(empty bool) error {
	close(w.full)
	w.wg.Wait()
	var errs []error
	if empty {
		for _, f := range append([]*os.File{w.cur}, w.free...) {
			errs = append(errs, markEmpty(f))
		}
	}
	return errors.Join(append(errs, w.closeFiles())...)
}

// markEmpty zeroes the first frame header of segment f, where reading stops.
func markEmpty(f *os.File) error {
	if _, err := f.WriteAt(make([]byte, walHeaderLen), 0); err != nil {
		return err
	}
	return fdatasync(f)
}

func (w *wal) closeFiles() error {
	var errs []error
	if w.cur != nil {
		errs = append(errs, w.cur.Close())
	}
	for _, f := range w.free {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// appendFrame appends the frame of record seq to buf.
func appendFrame(buf []byte, seq uint64, value []byte) []byte {
	var h [walHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(value)))
	binary.LittleEndian.PutUint64(h[8:], seq)
	crc := crc32.Update(crc32.Checksum(h[8:], castagnoli), castagnoli, value)
	binary.LittleEndian.PutUint32(h[4:], crc)
	return append(append(buf, h[:]...), value...)
}

// walRecord is a record read back from the log.
type walRecord struct {
	seq   uint64
	value []byte
}

// readFrames returns the valid frames at the start of segment data, in
// order: it stops at a torn or zeroed frame, or one whose sequence number
// does not follow its predecessor's.
func readFrames(data []byte) []walRecord {
	var recs []walRecord
	var last uint64
	for len(data) >= walHeaderLen {
		n := uint64(binary.LittleEndian.Uint32(data[0:]))
		seq := binary.LittleEndian.Uint64(data[8:])
		if n > uint64(len(data)-walHeaderLen) || seq <= last {
			break
		}
		value := data[walHeaderLen : walHeaderLen+n]
		crc := crc32.Update(crc32.Checksum(data[8:walHeaderLen], castagnoli), castagnoli, value)
		if crc != binary.LittleEndian.Uint32(data[4:]) {
			break
		}
		recs = append(recs, walRecord{seq: seq, value: value})
		last = seq
		data = data[walHeaderLen+n:]
	}
	return recs
}

// readWAL returns the records of every segment in dir, by sequence number,
// and the function that releases them: their values are read in place, not
// copied into the heap that recovery is about to grow.
func readWAL(dir string) ([]walRecord, func(), error) {
	names, err := segmentNames(dir)
	if err != nil {
		return nil, nil, err
	}
	var recs []walRecord
	var maps [][]byte
	release := func() {
		for _, m := range maps {
			unmapSegment(m)
		}
	}
	for _, name := range names {
		data, err := mapSegment(filepath.Join(dir, name))
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("read write-ahead log: %w", err)
		}
		maps = append(maps, data)
		recs = append(recs, readFrames(data)...)
	}
	slices.SortStableFunc(recs, func(a, b walRecord) int { return cmp.Compare(a.seq, b.seq) })
	return recs, release, nil
}
