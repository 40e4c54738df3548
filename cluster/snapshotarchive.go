package cluster

// A replica that catches up by InstallSnapshot skips the log range in which
// some incidents left the live state for the archive; without more, its own
// archive would miss them. So a snapshot sent to a follower carries the
// sender's whole archive after the triage state, and the follower stores it
// before it restores the state.
//
// Why the whole archive, and why only when sent: raft's InstallSnapshot
// lets the receiver report nothing (no watermark reaches the sender), and
// the snapshot a leader sends was written long before it knew who would
// need it. Writing the archive into every periodic snapshot would copy it
// to disk every few minutes on every node; appending it when raft opens a
// snapshot to send costs nothing until a follower falls behind the log.
// The archive is bounded by its retention (400 days by default); 40,000
// archived incidents are measured by BenchmarkSnapshotArchive (README).
//
// Storing is idempotent (items are keyed): the receiver stores the items in
// fsync'd batches, then records the snapshot's last sequence in the
// archive mark, and only then restores the triage state. A crash in
// between leaves items that are stored twice at the next start, when raft
// restores the same snapshot again and the mark is still behind it.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/klaxonhq/klaxon/journal"
)

// Archive section framing: each item is itemTag, the key's length
// (uvarint), the key, its time (Unix nanoseconds), the data's length
// (uvarint) and the data; endTag and the item count close the section, so
// that a cut stream is told from a whole one.
const (
	itemTag byte = 'i'
	endTag  byte = 'e'
	// restoreBatchItems and restoreBatchBytes bound one fsync'd batch of
	// archived items stored on restore.
	restoreBatchItems = 1024
	restoreBatchBytes = 8 << 20
	// archiveMarkFile, in the raft directory, holds the last sequence of the
	// newest snapshot whose archive this replica stored whole.
	archiveMarkFile = "archive-restored"
)

// snapshotStore is raft's file snapshot store; a snapshot opened to be sent
// to a follower carries this replica's archive after the state.
type snapshotStore struct {
	*raft.FileSnapshotStore
	archive *journal.Badger
	dir     string // where the archive is staged while it is sent
	// sending is set once raft has started: until then raft opens the
	// newest snapshot only to restore this node, whose archive is on disk;
	// afterwards it opens one to send it, or to restore one it received,
	// which carries its archive already.
	sending atomic.Bool
}

// Open opens snapshot id; once raft runs, a snapshot of this node's own
// (without an archive) comes with the archive appended and its size grown
// to match.
func (s *snapshotStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := s.FileSnapshotStore.Open(id)
	if err != nil || !s.sending.Load() || s.archive == nil {
		return meta, rc, err
	}
	head := make([]byte, snapshotHeaderLen)
	n, err := io.ReadFull(rc, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		rc.Close()
		return nil, nil, fmt.Errorf("read snapshot %s: %w", id, err)
	}
	head = head[:n]
	if n < snapshotHeaderLen || !bytes.Equal(head[:4], snapshotMagic) || head[flagsOffset]&flagArchive != 0 {
		return meta, &multiReadCloser{Reader: io.MultiReader(bytes.NewReader(head), rc), closers: []io.Closer{rc}}, nil
	}
	staged, size, err := stageArchive(s.dir, s.archive)
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	head[flagsOffset] |= flagArchive
	grown := *meta
	grown.Size += size
	r := io.MultiReader(bytes.NewReader(head), rc, staged)
	return &grown, &multiReadCloser{Reader: r, closers: []io.Closer{rc, staged}}, nil
}

// multiReadCloser reads Reader and closes every closer.
type multiReadCloser struct {
	io.Reader
	closers []io.Closer
}

func (m *multiReadCloser) Close() error {
	var errs []error
	for _, c := range m.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// stageArchive writes archive's items as a snapshot's archive section to an
// unlinked file in dir, and returns it, rewound, with its size. One
// consistent scan fixes the size raft announces before it streams.
func stageArchive(dir string, archive *journal.Badger) (*os.File, int64, error) {
	f, err := os.CreateTemp(dir, "send-archive-*")
	if err != nil {
		return nil, 0, fmt.Errorf("stage archive: %w", err)
	}
	os.Remove(f.Name()) //nolint:errcheck // the open file lives on; a leftover is harmless
	size, err := writeArchiveSection(f, archive)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stage archive: %w", err)
	}
	return f, size, nil
}

// writeArchiveSection writes every archived item and the end of the section
// to w, and returns the bytes written.
func writeArchiveSection(w io.Writer, archive *journal.Badger) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countingWriter{w: bw}
	var count uint64
	err := archive.ScanArchive("", func(item journal.ArchiveItem) (bool, error) {
		count++
		return true, writeArchiveItem(cw, item)
	})
	if err != nil {
		return 0, fmt.Errorf("scan archive: %w", err)
	}
	var end [9]byte
	end[0] = endTag
	binary.BigEndian.PutUint64(end[1:], count)
	cw.Write(end[:]) //nolint:errcheck // the error is kept in cw
	if cw.err == nil {
		cw.err = bw.Flush()
	}
	return cw.n, cw.err
}

// writeArchiveItem frames item.
func writeArchiveItem(w io.Writer, item journal.ArchiveItem) error {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+8+len(item.Key))
	b = append(b, itemTag)
	b = binary.AppendUvarint(b, uint64(len(item.Key)))
	b = append(b, item.Key...)
	b = binary.BigEndian.AppendUint64(b, uint64(item.Time.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(item.Data)))
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := w.Write(item.Data)
	return err
}

// countingWriter counts what it writes and keeps the first error.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// restoreArchive stores the archive section read from r in archive, in
// fsync'd batches, taking now as the newest record's time; it returns how
// many items it stored. A section cut short stores what it read and fails.
func restoreArchive(r *bufio.Reader, archive *journal.Badger, now time.Time) (int, error) {
	var batch []journal.ArchiveItem
	bytesInBatch, stored := 0, 0
	flush := func() error {
		if err := archive.PutArchive(now, batch); err != nil {
			return fmt.Errorf("store archived items: %w", err)
		}
		stored += len(batch)
		batch, bytesInBatch = nil, 0
		return nil
	}
	for {
		tag, err := r.ReadByte()
		if err != nil {
			return stored, fmt.Errorf("%w: snapshot archive cut after %d items: %w", errBadCommand, stored+len(batch), err)
		}
		if tag == endTag {
			if err := checkArchiveEnd(r, stored+len(batch)); err != nil {
				return stored, err
			}
			return stored, flush()
		}
		if tag != itemTag {
			return stored, fmt.Errorf("%w: snapshot archive: byte %#x where an item starts", errBadCommand, tag)
		}
		item, err := readArchiveItem(r)
		if err != nil {
			return stored, fmt.Errorf("%w: snapshot archive item %d: %w", errBadCommand, stored+len(batch)+1, err)
		}
		batch = append(batch, item)
		if bytesInBatch += len(item.Data); len(batch) >= restoreBatchItems || bytesInBatch >= restoreBatchBytes {
			if err := flush(); err != nil {
				return stored, err
			}
		}
	}
}

// checkArchiveEnd checks the section's item count against the items read.
func checkArchiveEnd(r *bufio.Reader, read int) error {
	var count [8]byte
	if _, err := io.ReadFull(r, count[:]); err != nil {
		return fmt.Errorf("%w: snapshot archive end: %w", errBadCommand, err)
	}
	if want := binary.BigEndian.Uint64(count[:]); want != uint64(read) {
		return fmt.Errorf("%w: snapshot archive holds %d items, its end says %d", errBadCommand, read, want)
	}
	return nil
}

// readArchiveItem reads one framed item after its tag.
func readArchiveItem(r *bufio.Reader) (journal.ArchiveItem, error) {
	key, err := readChunk(r)
	if err != nil {
		return journal.ArchiveItem{}, fmt.Errorf("key: %w", err)
	}
	var nanos [8]byte
	if _, err := io.ReadFull(r, nanos[:]); err != nil {
		return journal.ArchiveItem{}, fmt.Errorf("time: %w", err)
	}
	data, err := readChunk(r)
	if err != nil {
		return journal.ArchiveItem{}, fmt.Errorf("data: %w", err)
	}
	t := time.Unix(0, int64(binary.BigEndian.Uint64(nanos[:]))).UTC()
	return journal.ArchiveItem{Key: string(key), Time: t, Data: data}, nil
}

// readChunk reads a uvarint length and that many bytes, up to MaxRecordSize.
func readChunk(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > MaxRecordSize {
		return nil, fmt.Errorf("length %d exceeds %d", n, MaxRecordSize)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

// readArchiveMark returns the last sequence of the newest snapshot whose
// archive is stored whole here (0 if none).
func readArchiveMark(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read archive mark: %w", err)
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("archive mark %s: %w", path, err)
	}
	return seq, nil
}

// writeArchiveMark records seq as the archive mark, durably: a new file
// renamed over the old one, both fsync'd.
func writeArchiveMark(path string, seq uint64) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write archive mark: %w", err)
	}
	_, err = f.WriteString(strconv.FormatUint(seq, 10) + "\n")
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("write archive mark: %w", err)
	}
	return nil
}

// syncDir fsyncs a directory, so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
