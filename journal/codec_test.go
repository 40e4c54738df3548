package journal

import (
	"errors"
	"testing"
)

func TestSnapshotMetaRoundTrip(t *testing.T) {
	tests := []snapshotMeta{
		{},
		{Seq: 1, Nanos: -5, Chunks: 1, Size: 1, CRC: 0xdeadbeef},
		{Seq: 1 << 60, Nanos: 1 << 62, Chunks: 40, Size: 40 << 20, CRC: 1},
	}
	for _, m := range tests {
		got, err := decodeSnapshotMeta(m.encode())
		if err != nil || got != m {
			t.Errorf("round trip of %+v gave %+v, %v", m, got, err)
		}
	}
}

func TestDecodeSnapshotMetaRejects(t *testing.T) {
	valid := snapshotMeta{Seq: 3, Chunks: 1, Size: 10}.encode()
	tests := map[string][]byte{
		"empty":           nil,
		"short":           valid[:10],
		"long":            append(valid, 0),
		"version":         append([]byte{9}, valid[1:]...),
		"chunks no bytes": snapshotMeta{Seq: 3, Chunks: 1}.encode(),
		"bytes no chunks": snapshotMeta{Seq: 3, Size: 10}.encode(),
		"too many chunks": snapshotMeta{Seq: 3, Chunks: 11, Size: 10}.encode(),
		"too large":       snapshotMeta{Seq: 3, Chunks: 1, Size: 1 << 40}.encode(),
	}
	for name, b := range tests {
		if _, err := decodeSnapshotMeta(b); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v, want errCorrupt", name, err)
		}
	}
}

func TestRecordCodec(t *testing.T) {
	v := newRecordValue([]byte("payload"))
	setRecordTime(v, epoch.UnixNano())
	rec, err := decodeRecord(7, v)
	if err != nil || rec.Seq != 7 || !rec.Time.Equal(epoch) || string(rec.Data) != "payload" {
		t.Errorf("decodeRecord = %+v, %v", rec, err)
	}
	if _, err := decodeRecord(7, v[:timeLen-1]); !errors.Is(err, errCorrupt) {
		t.Errorf("short value: %v, want errCorrupt", err)
	}
	seq, err := decodeRecordKey(recordKey(1 << 40))
	if err != nil || seq != 1<<40 {
		t.Errorf("decodeRecordKey = %d, %v", seq, err)
	}
	for _, k := range [][]byte{nil, []byte("r/"), chunkKey(1, 0), append([]byte("x/"), make([]byte, 8)...)} {
		if _, err := decodeRecordKey(k); !errors.Is(err, errCorrupt) {
			t.Errorf("decodeRecordKey(%x): %v, want errCorrupt", k, err)
		}
	}
}

func FuzzDecodeSnapshotMeta(f *testing.F) {
	f.Add(snapshotMeta{Seq: 3, Chunks: 2, Size: 2 << 20, CRC: 7}.encode())
	f.Add([]byte{})
	f.Add([]byte{snapMetaVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeSnapshotMeta(b)
		if err != nil {
			return
		}
		if again, err := decodeSnapshotMeta(m.encode()); err != nil || again != m {
			t.Errorf("re-encoding %+v gave %+v, %v", m, again, err)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	v := newRecordValue([]byte("payload"))
	setRecordTime(v, epoch.UnixNano())
	f.Add(uint64(1), v)
	f.Add(uint64(0), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, seq uint64, b []byte) {
		rec, err := decodeRecord(seq, b)
		if err != nil {
			return
		}
		if rec.Seq != seq || len(rec.Data) != len(b)-timeLen {
			t.Errorf("decodeRecord(%d, %x) = %+v", seq, b, rec)
		}
	})
}
