package cluster

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

func TestBadgerStoreKeepsEntriesAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := openBadgerStore(dir, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 123).UTC()
	var logs []*raft.Log
	for i := uint64(1); i <= 10; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: 1 + i/5, Type: raft.LogCommand, Data: []byte{byte(i)}, Extensions: []byte("x"), AppendedAt: at})
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(1, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = openBadgerStore(dir, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		name      string
		got, want uint64
	}{
		{"first index", must(s.FirstIndex()), 4},
		{"last index", must(s.LastIndex()), 10},
		{"current term", must(s.GetUint64([]byte("CurrentTerm"))), 7},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	var l raft.Log
	if err := s.GetLog(2, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Errorf("deleted entry: %v, want raft.ErrLogNotFound", err)
	}
	if err := s.GetLog(7, &l); err != nil {
		t.Fatal(err)
	}
	want := logs[6]
	if l.Index != 7 || l.Term != want.Term || l.Type != want.Type || !bytes.Equal(l.Data, want.Data) ||
		!bytes.Equal(l.Extensions, want.Extensions) || !l.AppendedAt.Equal(at) {
		t.Errorf("entry 7 read back as %+v, want %+v", l, *want)
	}
	// raft tells a fresh store from a broken one by this exact error text.
	if _, err := s.GetUint64([]byte("LastVoteTerm")); err == nil || err.Error() != "not found" {
		t.Errorf("missing stable key: %v, want \"not found\"", err)
	}
}

func TestBadgerStoreIsEmptyWhenNew(t *testing.T) {
	s, err := openBadgerStore(t.TempDir(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if first, last := must(s.FirstIndex()), must(s.LastIndex()); first != 0 || last != 0 {
		t.Errorf("new store: first %d, last %d, want 0 and 0", first, last)
	}
}

func must(v uint64, err error) uint64 {
	if err != nil {
		panic(err)
	}
	return v
}
