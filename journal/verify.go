package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
	"go.uber.org/zap"
)

// Names of badger's files in a store directory.
const (
	manifestFile    = "MANIFEST"
	keyRegistryFile = badger.KeyRegistryFileName
)

// dataFileExts are the extensions of badger's data files: tables, value
// logs and memtable logs.
var dataFileExts = []string{".sst", ".vlog", ".mem"}

// checkBeforeOpen checks the store in dir before badger opens it: badger
// deletes the files it cannot account for, and panics, in goroutines of its
// own, on some damaged tables. It refuses a store with data files but no
// MANIFEST or KEYREGISTRY, an unreadable MANIFEST or KEYREGISTRY, a table
// the MANIFEST lists that is missing or fails its checksums, and a
// filesystem without the reserve free. It writes nothing.
func checkBeforeOpen(dir string, vlogSize int64, space *spaceGuard) error {
	if err := checkStore(dir, vlogSize); err != nil {
		return err
	}
	return checkOpenSpace(space)
}

// checkStore runs the checks of checkBeforeOpen on the store's files.
func checkStore(dir string, vlogSize int64) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a new store
	}
	if err != nil {
		return fmt.Errorf("open journal store: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	data := dataFiles(names)
	if len(data) == 0 {
		return nil // nothing badger could delete or misread
	}
	for _, want := range []string{manifestFile, keyRegistryFile} {
		if !slices.Contains(names, want) {
			return fmt.Errorf("%w: %s: %d data files (%s) but no %s; klaxon will not open it, as badger would delete them: restore the directory from a backup",
				errCorrupt, dir, len(data), summarise(data), want)
		}
	}
	if err := checkKeyRegistry(dir); err != nil {
		return err
	}
	tables, err := manifestTables(dir)
	if err != nil {
		return err
	}
	for _, id := range tables {
		if err := checkTable(table.NewFilename(id, dir)); err != nil {
			return err
		}
	}
	return checkLastValueLog(dir, names, vlogSize)
}

// dataFiles returns the names among names that are badger data files.
func dataFiles(names []string) []string {
	var out []string
	for _, n := range names {
		if slices.Contains(dataFileExts, filepath.Ext(n)) {
			out = append(out, n)
		}
	}
	return out
}

// summarise lists up to three names, then how many more there are.
func summarise(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}

// checkKeyRegistry reads the key registry without changing it.
func checkKeyRegistry(dir string) error {
	kr, err := badger.OpenKeyRegistry(badger.KeyRegistryOptions{Dir: dir, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errCorrupt, filepath.Join(dir, keyRegistryFile), err)
	}
	return kr.Close()
}

// manifestTables replays the MANIFEST and returns the ids of the tables it
// lists, failing if it is unreadable or one of them is missing.
func manifestTables(dir string) ([]uint64, error) {
	path := filepath.Join(dir, manifestFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open journal store: %w", err)
	}
	defer f.Close()
	m, _, err := badger.ReplayManifestFile(f, storeMagic, badgerOptions(Options{Dir: dir, Logger: zap.NewNop()}))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errCorrupt, path, err)
	}
	ids := make([]uint64, 0, len(m.Tables))
	for id := range m.Tables {
		name := table.NewFilename(id, dir)
		if _, err := os.Stat(name); err != nil {
			return nil, fmt.Errorf("%w: %s: table %s listed but unreadable: %w", errCorrupt, path, filepath.Base(name), err)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// checkTable opens the table at path with badger's table package and
// verifies every block's checksum. Badger panics on some damaged tables, so
// the check runs on its own goroutine and turns a panic into an error.
func checkTable(path string) error {
	errc := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				errc <- fmt.Errorf("%w: %s: unreadable table: %s", errCorrupt, path, oneLine(fmt.Sprint(r), 200))
			}
		}()
		errc <- openTable(path)
	}()
	return <-errc
}

// oneLine collapses s's white space and cuts it to at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// openTable opens, verifies and closes one table file. The mapping is
// released on every path, unless OpenTable's own error path already did.
func openTable(path string) (err error) {
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errCorrupt, path, err)
	}
	opened := false
	defer func() {
		if opened {
			return
		}
		// OpenTable closes the file (unmapping it) on some errors only;
		// a file still open is still mapped.
		if cerr := mf.Fd.Close(); !errors.Is(cerr, os.ErrClosed) {
			_ = z.Munmap(mf.Data)
		}
	}()
	t, err := table.OpenTable(mf, table.Options{
		ReadOnly:    true,
		ChkMode:     options.OnTableAndBlockRead,
		BlockSize:   badger.DefaultOptions("").BlockSize,
		Compression: options.None,
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errCorrupt, path, err)
	}
	opened = true
	_ = t // closing the table would delete the file: release the mapping only
	if err := mf.Close(-1); err != nil {
		return fmt.Errorf("close table %s: %w", path, err)
	}
	return nil
}

// vlogHeaderSize is the size of the header badger writes at the start of
// every value log file.
const vlogHeaderSize = 20

// checkLastValueLog checks the newest value log file, the one badger
// truncates as it opens at the first entry it cannot read, to drop a write
// torn by a crash. A file badger closed cleanly was cut to the end of its
// last entry, so every entry up to its end must be whole and match its
// checksum; otherwise truncating would delete acknowledged records. A file
// still at the size badger maps new files at was being written when the
// process died: its unwritten tail is left to badger.
func checkLastValueLog(dir string, names []string, vlogSize int64) error {
	var last string
	for _, n := range names {
		if filepath.Ext(n) == ".vlog" && n > last { // fixed-width names sort by id
			last = n
		}
	}
	if last == "" {
		return nil
	}
	path := filepath.Join(dir, last)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open journal store: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open journal store: %w", err)
	}
	if info.Size() == 2*vlogSize {
		return nil
	}
	if err := walkValueLog(bufio.NewReader(f), info.Size(), vlogSize); err != nil {
		return fmt.Errorf("%w: %s: %w", errCorrupt, path, err)
	}
	return nil
}

// walkValueLog reads a value log of size bytes entry by entry, checking
// each entry's checksum, and fails unless the entries end exactly at size.
// An entry is badger's header (meta and user meta bytes, then key length,
// value length and expiry as uvarints), the key, the value, and a
// big-endian CRC-32C of all of those.
func walkValueLog(r *bufio.Reader, size, vlogSize int64) error {
	if size < vlogHeaderSize {
		return fmt.Errorf("value log of %d bytes is shorter than its %d-byte header", size, vlogHeaderSize)
	}
	if _, err := r.Discard(vlogHeaderSize); err != nil {
		return fmt.Errorf("read value log header: %w", err)
	}
	for off := int64(vlogHeaderSize); off < size; {
		n, err := readValueLogEntry(r, vlogSize)
		if err != nil {
			return fmt.Errorf("entry at offset %d of %d: %w", off, size, err)
		}
		off += n
	}
	return nil
}

// readValueLogEntry reads one value log entry, checks its checksum and
// returns its length.
func readValueLogEntry(r *bufio.Reader, vlogSize int64) (int64, error) {
	head := make([]byte, 2, 2+3*binary.MaxVarintLen64)
	if _, err := io.ReadFull(r, head); err != nil {
		return 0, fmt.Errorf("header: %w", err)
	}
	var lens [3]uint64
	for i := range lens {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return 0, fmt.Errorf("header: %w", err)
		}
		lens[i] = v
		head = binary.AppendUvarint(head, v)
	}
	klen, vlen := lens[0], lens[1]
	if klen > 1<<16 || vlen > uint64(vlogSize) {
		return 0, fmt.Errorf("implausible key length %d or value length %d", klen, vlen)
	}
	h := crc32.New(castagnoli)
	h.Write(head)
	if _, err := io.CopyN(h, r, int64(klen+vlen)); err != nil {
		return 0, fmt.Errorf("key and value: %w", err)
	}
	var crc [crc32.Size]byte
	if _, err := io.ReadFull(r, crc[:]); err != nil {
		return 0, fmt.Errorf("checksum: %w", err)
	}
	if got, want := h.Sum32(), binary.BigEndian.Uint32(crc[:]); got != want {
		return 0, fmt.Errorf("checksum %08x, want %08x", got, want)
	}
	return int64(len(head)) + int64(klen+vlen) + crc32.Size, nil
}
