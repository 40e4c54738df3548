package cluster

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/klaxonhq/klaxon/journal"
)

func TestReplicatesInLogOrderOnEveryNode(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	l := c.leader()
	acked := c.appendN(l, 200, "signal")
	acked = append(acked, c.appendN(l, 1, "archive:INC-1")...)
	c.converged(maxSeq(acked))
	want := c.fsms[l].records()
	for i, f := range c.fsms {
		if m := missing(f, acked); len(m) > 0 {
			t.Errorf("node %d lacks %d acknowledged records, e.g. %s", i, len(m), m[0])
		}
		got := f.records()
		if !slices.EqualFunc(got, want, sameRecord) {
			t.Errorf("node %d applied %d records differently from the leader's %d", i, len(got), len(want))
		}
		if !slices.IsSortedFunc(got, func(a, b journal.Record) int { return int(a.Seq) - int(b.Seq) }) {
			t.Errorf("node %d applied records out of order", i)
		}
		item, ok, err := c.nodes[i].Archived("INC-1-0")
		if err != nil || !ok || string(item.Data) != "archive:INC-1-0" {
			t.Errorf("node %d archive: %v %v %q", i, ok, err, item.Data)
		}
	}
}

func sameRecord(a, b journal.Record) bool {
	return a.Seq == b.Seq && a.Time.Equal(b.Time) && string(a.Data) == string(b.Data)
}

func TestFollowerAppendIsUnavailable(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	l := c.leader()
	f := (l + 1) % 3
	_, _, err := c.nodes[f].Append(context.Background(), []byte("x"), nil)
	if !errors.Is(err, journal.ErrUnavailable) || !errors.Is(err, ErrNotLeader) {
		t.Fatalf("append on a follower: %v, want ErrNotLeader wrapping journal.ErrUnavailable", err)
	}
}

func TestLeaderLossElectsANewLeaderThatHasEveryAcknowledgedRecord(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	old := c.leader()
	acked := c.appendN(old, 100, "before")
	c.stop(old)
	l := c.leader()
	if l == old {
		t.Fatalf("the stopped node %d still leads", old)
	}
	acked = append(acked, c.appendN(l, 100, "after")...)
	c.converged(maxSeq(acked))
	for i, f := range c.fsms {
		if c.nodes[i] == nil {
			continue
		}
		if m := missing(f, acked); len(m) > 0 {
			t.Errorf("survivor %d lacks %d acknowledged records, e.g. %s", i, len(m), m[0])
		}
	}
}

func TestRestartedFollowerCatchesUpByLog(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	l := c.leader()
	f := (l + 1) % 3
	acked := c.appendN(l, 50, "before")
	c.converged(maxSeq(acked))
	c.stop(f)
	acked = append(acked, c.appendN(l, 50, "while-down")...)
	c.start(f)
	c.converged(maxSeq(acked))
	if m := missing(c.fsms[f], acked); len(m) > 0 {
		t.Fatalf("restarted follower lacks %d records, e.g. %s", len(m), m[0])
	}
	if r := c.fsms[f].restored(); r != 0 {
		t.Errorf("follower restored %d snapshots; it should have caught up by log alone", r)
	}
}

func TestFarBehindFollowerCatchesUpBySnapshot(t *testing.T) {
	c := newTestCluster(t, 3, func(o *Options) {
		o.SnapshotThreshold = 16
		o.TrailingLogs = 8
	})
	l := c.leader()
	f := (l + 1) % 3
	c.stop(f)
	acked := c.appendN(l, 200, "while-down")
	acked = append(acked, c.appendN(l, 1, "archive:INC-7")...)
	if err := c.nodes[l].raft.Snapshot().Error(); err != nil {
		t.Fatalf("leader snapshot: %v", err)
	}
	if first := c.nodes[l].FirstSeq(); first <= 1 {
		t.Fatalf("leader's log starts at %d after a snapshot; the test needs it compacted", first)
	}
	c.start(f)
	c.converged(maxSeq(acked))
	if m := missing(c.fsms[f], acked); len(m) > 0 {
		t.Fatalf("far-behind follower lacks %d records, e.g. %s", len(m), m[0])
	}
	if c.fsms[f].restored() == 0 {
		t.Errorf("far-behind follower caught up without installing a snapshot")
	}
	// INC-7 left the live state in the log range the snapshot replaced:
	// the follower's archive has it only if the snapshot carried it.
	item, ok, err := c.nodes[f].Archived("INC-7-0")
	if err != nil || !ok || string(item.Data) != "archive:INC-7-0" {
		t.Errorf("far-behind follower's archive lacks INC-7-0: found %v, %v, %q", ok, err, item.Data)
	}
}

func TestMinorityCannotCommit(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	l := c.leader()
	acked := c.appendN(l, 10, "before")
	c.converged(maxSeq(acked))
	c.isolate(l)
	_, _, err := c.nodes[l].Append(context.Background(), []byte("cut-off"), nil)
	if !errors.Is(err, journal.ErrUnavailable) {
		t.Fatalf("append on a leader cut off from the majority: %v, want journal.ErrUnavailable", err)
	}
	until(t, "the cut-off node to step down", func() bool { return !c.nodes[l].IsLeader() })
	if err := c.nodes[l].Ready(); err == nil {
		t.Errorf("the cut-off node says it is ready")
	}
	if st := c.nodes[l].Status(); !strings.HasPrefix(st.Problem, "no ") {
		t.Errorf("the cut-off node's status names no problem: %+v", st)
	}
	majority := -1
	until(t, "the majority to elect a leader", func() bool {
		majority = c.leaderNow()
		return majority >= 0 && majority != l
	})
	if st := c.nodes[majority].Status(); st.Problem != "" {
		t.Errorf("the majority's leader reports a problem: %q", st.Problem)
	}
	for i, f := range c.fsms {
		for _, r := range f.records() {
			if string(r.Data) == "cut-off" {
				t.Errorf("node %d applied a record the minority proposed", i)
			}
		}
	}
}

func TestOnlyTheLeaderRunsLeaderWork(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	var running [3]atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	for i := range c.nodes {
		go func() {
			c.nodes[i].RunAsLeader(ctx, "test", func(ctx context.Context) {
				running[i].Add(1)
				<-ctx.Done()
				running[i].Add(-1)
			})
			done <- struct{}{}
		}()
	}
	old := c.leader()
	until(t, "the leader runs its work", func() bool { return running[old].Load() == 1 })
	for i := range running {
		if i != old && running[i].Load() != 0 {
			t.Errorf("follower %d runs leader work", i)
		}
	}
	c.isolate(old)
	until(t, "the old leader stops its work", func() bool { return running[old].Load() == 0 })
	until(t, "a new leader runs its work", func() bool {
		for i := range running {
			if i != old && running[i].Load() == 1 && c.nodes[i].IsLeader() {
				return true
			}
		}
		return false
	})
	cancel()
	for range c.nodes {
		<-done
	}
}

func TestReadDirReadsAStoppedReplicasLog(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	l := c.leader()
	acked := c.appendN(l, 30, "r")
	c.converged(maxSeq(acked))
	f := (l + 1) % 3
	viaNode := readAll(t, c.nodes[f].Read)
	c.stop(f)
	viaDir := readAll(t, func(from uint64, fn func(journal.Record) error) error { return ReadDir(c.dirs[f], from, fn) })
	if len(viaNode) != 30 || !slices.EqualFunc(viaNode, viaDir, sameRecord) {
		t.Errorf("read %d records from the running node and %d from its stopped directory, want the same 30", len(viaNode), len(viaDir))
	}
	if m := missing(&testFSM{recs: viaDir}, acked); len(m) > 0 {
		t.Errorf("the stopped replica's log lacks %d acknowledged records, e.g. %s", len(m), m[0])
	}
	if !IsDataDir(c.dirs[f]) || IsDataDir(t.TempDir()) {
		t.Errorf("IsDataDir does not tell a replica's directory from an empty one")
	}
}

func readAll(t *testing.T, read func(uint64, func(journal.Record) error) error) []journal.Record {
	t.Helper()
	var out []journal.Record
	if err := read(0, func(r journal.Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestClosingLeaderHandsLeadershipOver(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	c := newTestCluster(t, 3, func(o *Options) { o.Logger = zap.New(core).Named(o.NodeID) })
	old := c.leader()
	c.appendN(old, 5, "before")
	c.stop(old)
	if logs.FilterMessage("leadership handed over before leaving").Len() != 1 {
		t.Errorf("the closing leader did not hand leadership over")
	}
	if l := c.leader(); l == old {
		t.Fatalf("the closed node %d still leads", old)
	}
}

func TestJoinedNodeForwardsToAnyLeader(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	l := c.leader()
	acked := c.appendN(l, 10, "before")
	// A fourth node starts with no peers: it bootstraps nothing and waits to be joined.
	c.peers = append(c.peers, Peer{ID: "n3", RaftAddress: "inmem-3", APIURL: "http://n3.invalid"})
	c.dirs = append(c.dirs, t.TempDir())
	c.nodes, c.fsms, c.transports = append(c.nodes, nil), append(c.fsms, nil), append(c.transports, nil)
	all := c.peers
	c.tune = func(o *Options) {
		if o.NodeID == "n3" {
			o.Peers = nil
		}
	}
	c.start(3)
	c.peers = all
	var err error
	until(t, "the join to go through", func() bool {
		if l = c.leaderNow(); l < 0 {
			return false
		}
		err = c.nodes[l].Join(context.Background(), c.peers[3])
		return !errors.Is(err, journal.ErrUnavailable)
	})
	if err != nil {
		t.Fatal(err)
	}
	c.converged(maxSeq(acked))
	if m := missing(c.fsms[3], acked); len(m) > 0 {
		t.Errorf("joined node lacks %d records", len(m))
	}
	until(t, "the joined node knows where to forward", func() bool {
		id, url := c.nodes[3].Leader()
		return id == c.peers[l].ID && url == c.peers[l].APIURL
	})
	if st := c.nodes[l].Status(); len(st.Peers) != 4 || st.Peers[3].APIURL != "http://n3.invalid" {
		t.Errorf("leader's view after the join: %+v", st.Peers)
	}
	until(t, "the removal to go through", func() bool {
		l = c.leader()
		err = c.nodes[l].Remove(context.Background(), "n3")
		return !errors.Is(err, journal.ErrUnavailable)
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.nodes[l].Status(); len(st.Peers) != 3 {
		t.Errorf("leader's view after the removal: %+v", st.Peers)
	}
}

// A node whose raft address is taken fails to open with an error that
// says why, closing what it had opened: it must not panic on the way out.
func TestOpenOnATakenAddressFailsCleanly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	opts := Options{NodeID: "n0", RaftAddress: addr, Dir: t.TempDir(),
		Peers: []Peer{{ID: "n0", RaftAddress: addr, APIURL: "http://" + addr}}}
	n, err := Open(opts, &testFSM{})
	if err == nil {
		n.Close()
		t.Fatalf("Open on taken address %s: no error", addr)
	}
	if !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Open on a taken address: %v, want it to say the address is in use", err)
	}
}
