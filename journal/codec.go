package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// Key layout. Records are "r/" + big-endian seq so that badger's ordered
// iteration is sequence order. A snapshot is a metadata key plus chunks keyed
// "s/" + big-endian seq + big-endian chunk index.
var (
	recordPrefix = []byte("r/")
	chunkPrefix  = []byte("s/")
	snapMetaKey  = []byte("m/snapshot")
)

const (
	recordKeyLen = 2 + 8
	chunkKeyLen  = 2 + 8 + 4
	// timeLen is the size of the timestamp stored in front of each record's data.
	timeLen = 8
	// snapMetaVersion is the format version of the snapshot metadata value.
	snapMetaVersion = 1
	// snapMetaLen is the size of an encoded snapshotMeta.
	snapMetaLen = 1 + 8 + 8 + 4 + 8 + 4
	// maxSnapshotSize bounds a snapshot: badger's value log addresses at most 4 GiB.
	maxSnapshotSize = 1 << 32
)

// errCorrupt marks stored bytes that cannot be decoded.
var errCorrupt = errors.New("journal store corrupt")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// putRecordKey writes the key of record seq into dst, which must hold recordKeyLen bytes.
func putRecordKey(dst []byte, seq uint64) {
	copy(dst, recordPrefix)
	binary.BigEndian.PutUint64(dst[len(recordPrefix):], seq)
}

// recordKey returns the key of record seq.
func recordKey(seq uint64) []byte {
	k := make([]byte, recordKeyLen)
	putRecordKey(k, seq)
	return k
}

// decodeRecordKey returns the sequence number stored in a record key.
func decodeRecordKey(k []byte) (uint64, error) {
	if len(k) != recordKeyLen || string(k[:len(recordPrefix)]) != string(recordPrefix) {
		return 0, fmt.Errorf("%w: bad record key %x", errCorrupt, k)
	}
	return binary.BigEndian.Uint64(k[len(recordPrefix):]), nil
}

// newRecordValue allocates a record value with room for the timestamp and
// copies data behind it; the timestamp is filled in by setRecordTime.
func newRecordValue(data []byte) []byte {
	v := make([]byte, timeLen+len(data))
	copy(v[timeLen:], data)
	return v
}

// setRecordTime stores the acceptance time, in Unix nanoseconds, at the front of v.
func setRecordTime(v []byte, nanos int64) {
	binary.BigEndian.PutUint64(v, uint64(nanos))
}

// recordTime turns stored Unix nanoseconds into the Time handed to the FSM,
// in UTC so that live and replayed records are identical.
func recordTime(nanos int64) time.Time {
	return time.Unix(0, nanos).UTC()
}

// decodeRecord rebuilds the record seq from its stored value; Data aliases v.
func decodeRecord(seq uint64, v []byte) (Record, error) {
	if len(v) < timeLen {
		return Record{}, fmt.Errorf("%w: record %d: value of %d bytes is shorter than its %d-byte timestamp",
			errCorrupt, seq, len(v), timeLen)
	}
	nanos := int64(binary.BigEndian.Uint64(v))
	return Record{Seq: seq, Time: recordTime(nanos), Data: v[timeLen:]}, nil
}

// chunkKey returns the key of chunk i of the snapshot taken at seq.
func chunkKey(seq uint64, i uint32) []byte {
	k := make([]byte, chunkKeyLen)
	copy(k, chunkPrefix)
	binary.BigEndian.PutUint64(k[len(chunkPrefix):], seq)
	binary.BigEndian.PutUint32(k[len(chunkPrefix)+8:], i)
	return k
}

// snapshotMeta describes the stored snapshot: the FSM state after applying
// every record up to Seq, whose time was Nanos, split into Chunks chunks.
type snapshotMeta struct {
	Seq    uint64
	Nanos  int64
	Chunks uint32
	Size   uint64
	CRC    uint32
}

// encode returns the stored form of m.
func (m snapshotMeta) encode() []byte {
	b := make([]byte, snapMetaLen)
	b[0] = snapMetaVersion
	binary.BigEndian.PutUint64(b[1:], m.Seq)
	binary.BigEndian.PutUint64(b[9:], uint64(m.Nanos))
	binary.BigEndian.PutUint32(b[17:], m.Chunks)
	binary.BigEndian.PutUint64(b[21:], m.Size)
	binary.BigEndian.PutUint32(b[29:], m.CRC)
	return b
}

// decodeSnapshotMeta parses the stored form of a snapshotMeta.
func decodeSnapshotMeta(b []byte) (snapshotMeta, error) {
	if len(b) != snapMetaLen {
		return snapshotMeta{}, fmt.Errorf("%w: snapshot metadata is %d bytes, want %d", errCorrupt, len(b), snapMetaLen)
	}
	if b[0] != snapMetaVersion {
		return snapshotMeta{}, fmt.Errorf("%w: snapshot metadata version %d, want %d", errCorrupt, b[0], snapMetaVersion)
	}
	m := snapshotMeta{
		Seq:    binary.BigEndian.Uint64(b[1:]),
		Nanos:  int64(binary.BigEndian.Uint64(b[9:])),
		Chunks: binary.BigEndian.Uint32(b[17:]),
		Size:   binary.BigEndian.Uint64(b[21:]),
		CRC:    binary.BigEndian.Uint32(b[29:]),
	}
	if m.Size > maxSnapshotSize {
		return snapshotMeta{}, fmt.Errorf("%w: snapshot of %d bytes exceeds the %d-byte limit", errCorrupt, m.Size, uint64(maxSnapshotSize))
	}
	if (m.Size == 0) != (m.Chunks == 0) || uint64(m.Chunks) > m.Size {
		return snapshotMeta{}, fmt.Errorf("%w: snapshot metadata has %d chunks for %d bytes", errCorrupt, m.Chunks, m.Size)
	}
	return m, nil
}
