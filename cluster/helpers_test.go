package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap/zaptest"

	"github.com/klaxonhq/klaxon/journal"
)

// waitFor is how long a test waits for a condition before failing; generous,
// since the machine is shared. Nothing is asserted about speed.
const waitFor = 60 * time.Second

// testFSM keeps every record it applies; records whose data starts with
// "archive:" move the rest of the data to the archive.
type testFSM struct {
	mu       sync.Mutex
	recs     []journal.Record
	archived []journal.ArchiveItem
	restores int
}

func (f *testFSM) Apply(rec journal.Record) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec.Data = bytes.Clone(rec.Data)
	rec.Decoded = nil
	f.recs = append(f.recs, rec)
	if key, ok := strings.CutPrefix(string(rec.Data), "archive:"); ok {
		f.archived = append(f.archived, journal.ArchiveItem{Key: key, Time: rec.Time, Data: rec.Data})
	}
	return len(f.recs)
}

func (f *testFSM) Snapshot() journal.SnapshotFunc {
	f.mu.Lock()
	recs := append([]journal.Record(nil), f.recs...)
	f.mu.Unlock()
	return func() ([]byte, error) { return json.Marshal(recs) }
}

func (f *testFSM) Restore(data []byte) error {
	var recs []journal.Record
	if err := json.Unmarshal(data, &recs); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs = recs
	f.restores++
	return nil
}

func (f *testFSM) TakeArchive() []journal.ArchiveItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.archived
	f.archived = nil
	return out
}

// records returns a copy of what was applied.
func (f *testFSM) records() []journal.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]journal.Record(nil), f.recs...)
}

func (f *testFSM) restored() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.restores
}

// testCluster is n nodes in one process over raft's in-memory transport,
// each with real stores in its own temporary directory.
type testCluster struct {
	t          *testing.T
	peers      []Peer
	dirs       []string
	nodes      []*Node
	fsms       []*testFSM
	transports []*raft.InmemTransport
	tune       func(*Options)
}

func newTestCluster(t *testing.T, n int, tune func(*Options)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, nodes: make([]*Node, n), fsms: make([]*testFSM, n), transports: make([]*raft.InmemTransport, n), tune: tune}
	for i := range n {
		c.peers = append(c.peers, Peer{ID: fmt.Sprintf("n%d", i), RaftAddress: fmt.Sprintf("inmem-%d", i), APIURL: fmt.Sprintf("http://n%d.invalid", i)})
		c.dirs = append(c.dirs, t.TempDir())
	}
	for i := range n {
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	return c
}

// start opens node i on its directory, connected to every running node.
func (c *testCluster) start(i int) {
	c.t.Helper()
	_, tr := raft.NewInmemTransport(raft.ServerAddress(c.peers[i].RaftAddress))
	c.transports[i] = tr
	for j, other := range c.transports {
		if j != i && other != nil {
			tr.Connect(other.LocalAddr(), other)
			other.Connect(tr.LocalAddr(), tr)
		}
	}
	opts := Options{
		NodeID: c.peers[i].ID, Peers: c.peers, Dir: c.dirs[i],
		Timing: 0.5, Transport: tr, Logger: zaptest.NewLogger(c.t).Named(c.peers[i].ID),
	}
	if c.tune != nil {
		c.tune(&opts)
	}
	c.fsms[i] = &testFSM{}
	n, err := Open(opts, c.fsms[i])
	if err != nil {
		c.t.Fatalf("open node %d: %v", i, err)
	}
	c.nodes[i] = n
}

// stop closes node i, if it runs, and cuts it off from the others.
func (c *testCluster) stop(i int) {
	c.t.Helper()
	if c.nodes[i] == nil {
		return
	}
	for j, other := range c.transports {
		if j != i && other != nil {
			other.Disconnect(c.transports[i].LocalAddr())
		}
	}
	if err := c.nodes[i].Close(); err != nil {
		c.t.Errorf("close node %d: %v", i, err)
	}
	c.nodes[i], c.transports[i] = nil, nil
}

// isolate cuts node i off from every other node, both ways, without stopping it.
func (c *testCluster) isolate(i int) {
	for j, other := range c.transports {
		if j != i && other != nil {
			other.Disconnect(c.transports[i].LocalAddr())
			c.transports[i].Disconnect(other.LocalAddr())
		}
	}
}

// until waits for cond, failing the test with what after waitFor.
func until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// leader waits until one running node leads and every running node
// knows it, and returns its index.
func (c *testCluster) leader() int {
	c.t.Helper()
	found := -1
	until(c.t, "a leader every running node knows", func() bool {
		found = c.leaderNow()
		if found < 0 {
			return false
		}
		for _, n := range c.nodes {
			if n == nil {
				continue
			}
			if id, _ := n.Leader(); id != c.peers[found].ID {
				return false
			}
		}
		return true
	})
	return found
}

// leaderNow returns the index of a running node that leads now, or -1.
func (c *testCluster) leaderNow() int {
	for i, n := range c.nodes {
		if n != nil && n.IsLeader() {
			return i
		}
	}
	return -1
}

// appendN appends n records named prefix-0 … concurrently, first on node
// i, and returns them as acknowledged. Like a sender, each append that is
// refused as unavailable (leadership moved) is retried on the leader.
func (c *testCluster) appendN(i, n int, prefix string) []journal.Record {
	c.t.Helper()
	recs := make([]journal.Record, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() { recs[k], errs[k] = c.appendOne(i, fmt.Appendf(nil, "%s-%d", prefix, k)) })
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			c.t.Fatalf("append %s-%d: %v", prefix, k, err)
		}
	}
	return recs
}

// appendOne appends data on node i, retrying on the leader while the
// cluster answers unavailable, until waitFor runs out.
func (c *testCluster) appendOne(i int, data []byte) (journal.Record, error) {
	deadline := time.Now().Add(waitFor)
	for {
		rec, _, err := c.nodes[i].Append(context.Background(), data, nil)
		if err == nil || !errors.Is(err, journal.ErrUnavailable) || time.Now().After(deadline) {
			return rec, err
		}
		time.Sleep(10 * time.Millisecond)
		if l := c.leaderNow(); l >= 0 {
			i = l
		}
	}
}

// converged waits until every running node has applied seq.
func (c *testCluster) converged(seq uint64) {
	c.t.Helper()
	until(c.t, fmt.Sprintf("every running node applies record %d", seq), func() bool {
		for _, n := range c.nodes {
			if n != nil && n.LastSeq() < seq {
				return false
			}
		}
		return true
	})
}

// maxSeq is the largest Seq in recs.
func maxSeq(recs []journal.Record) uint64 {
	var m uint64
	for _, r := range recs {
		m = max(m, r.Seq)
	}
	return m
}

// hasAll reports which of acked the FSM lacks, by sequence, time and data.
func missing(fsm *testFSM, acked []journal.Record) []string {
	have := map[uint64]journal.Record{}
	for _, r := range fsm.records() {
		have[r.Seq] = r
	}
	var out []string
	for _, a := range acked {
		r, ok := have[a.Seq]
		if !ok || !r.Time.Equal(a.Time) || !bytes.Equal(r.Data, a.Data) {
			out = append(out, fmt.Sprintf("%d %q", a.Seq, a.Data))
		}
	}
	return out
}
