package cluster

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.uber.org/zap"
)

// freeAddresses returns n loopback addresses nothing listens on now.
func freeAddresses(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ln.Addr().String())
		_ = ln.Close()
	}
	return out
}

// tcpCluster starts three nodes over real TCP on loopback with real stores.
func tcpCluster(t testing.TB, tune func(*Options)) ([]*Node, []*testFSM) {
	t.Helper()
	addrs := freeAddresses(t, 3)
	var peers []Peer
	for i, a := range addrs {
		peers = append(peers, Peer{ID: fmt.Sprintf("n%d", i), RaftAddress: a, APIURL: "http://" + a})
	}
	nodes := make([]*Node, 3)
	fsms := make([]*testFSM, 3)
	for i := range nodes {
		fsms[i] = &testFSM{}
		opts := Options{NodeID: peers[i].ID, RaftAddress: addrs[i], Peers: peers, Dir: t.TempDir()}
		if tune != nil {
			tune(&opts)
		}
		n, err := Open(opts, fsms[i])
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
		t.Cleanup(func() { _ = n.Close() })
	}
	return nodes, fsms
}

func tcpLeader(t testing.TB, nodes []*Node) *Node {
	var l *Node
	until(t, "a leader", func() bool {
		for _, n := range nodes {
			if n.IsLeader() {
				l = n
				return true
			}
		}
		return false
	})
	return l
}

func TestReplicatesOverTCP(t *testing.T) {
	nodes, fsms := tcpCluster(t, nil)
	l := tcpLeader(t, nodes)
	var last uint64
	for k := range 20 {
		rec, _, err := l.Append(context.Background(), fmt.Appendf(nil, "r%d", k), nil)
		if err != nil {
			t.Fatal(err)
		}
		last = rec.Seq
	}
	until(t, "every node applies the last record", func() bool {
		for _, n := range nodes {
			if n.LastSeq() < last {
				return false
			}
		}
		return true
	})
	for i, f := range fsms {
		if got := len(f.records()); got != 20 {
			t.Errorf("node %d applied %d records, want 20", i, got)
		}
	}
}

// BenchmarkAppendParallel appends 200-byte records from 64 goroutines to
// a three-node cluster over loopback TCP, every append committed on a
// majority's disk, and reports how many records one raft batch carried:
// on the log store Klaxon uses (badger), on raft-boltdb, and in memory
// (no disk: the ceiling raft itself sets on this machine).
func BenchmarkAppendParallel(b *testing.B) {
	for _, store := range benchStores {
		b.Run(store.name, func(b *testing.B) {
			tune := func(o *Options) { o.openLogStore = store.open }
			if store.name == "badger" {
				tune = nil // as Klaxon opens it
			}
			nodes, _ := tcpCluster(b, tune)
			benchmarkAppend(b, tcpLeader(b, nodes))
		})
	}
}

// benchStores are the raft log stores the benchmarks compare: badger (what
// Klaxon uses), raft-boltdb, and memory (no disk: raft's own ceiling here).
var benchStores = []struct {
	name string
	open func(dir string) (logStore, error)
}{
	{"badger", func(dir string) (logStore, error) { return openBadgerStore(dir, zap.NewNop()) }},
	{"boltdb", func(dir string) (logStore, error) {
		return raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	}},
	{"memory", func(string) (logStore, error) { return inmemStore{raft.NewInmemStore()}, nil }},
}

// inmemStore is raft's in-memory store, closable.
type inmemStore struct{ *raft.InmemStore }

func (inmemStore) Close() error { return nil }

func benchmarkAppend(b *testing.B, l *Node) {
	data := make([]byte, 200)
	batches := l.fsm.batches.Load()
	b.SetParallelism(32) // × GOMAXPROCS senders
	b.ResetTimer()
	var failed atomic.Int64
	var firstErr atomic.Pointer[error]
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := l.Append(context.Background(), data, nil); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, &err)
			}
		}
	})
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d appends failed, the first with: %v", failed.Load(), *firstErr.Load())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.N)/float64(l.fsm.batches.Load()-batches), "records/batch")
}

// BenchmarkLogStore compares raft log stores: the time to store one batch
// of 64 entries of 200 bytes, fsync'd, as a leader's group commit does.
func BenchmarkLogStore(b *testing.B) {
	batch := func(first uint64) []*raft.Log {
		logs := make([]*raft.Log, 64)
		for i := range logs {
			logs[i] = &raft.Log{Index: first + uint64(i), Term: 1, Type: raft.LogCommand, Data: make([]byte, 200)}
		}
		return logs
	}
	for _, store := range benchStores {
		b.Run(store.name, func(b *testing.B) {
			s, err := store.open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for i := range b.N {
				if err := s.StoreLogs(batch(uint64(i)*64 + 1)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
