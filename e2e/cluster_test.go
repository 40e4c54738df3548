package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/e2e/netproxy"
)

// A cluster of three klaxon processes on loopback. Raft traffic between
// them crosses one netproxy link per directed pair of nodes: node i reaches
// node j's raft port only through link (i, j), which node i's peers list
// names as j's raft address. Each node lists itself at its real raft
// address, which it also advertises. Bootstrapping writes each node's own
// peers list as its first configuration, and raft never sends a follower
// an entry it already holds, so each node keeps dialling the others
// through its own links for as long as no member is added or removed.
// Cutting every link to and from a node partitions it; its HTTP API stays
// reachable, as a node behind a broken switch port still answers its
// local clients.

// clusterSize is the number of nodes of the test cluster.
const clusterSize = 3

// clusterNode is one replica: a klaxon installation with its raft identity.
type clusterNode struct {
	*klaxon
	id       string
	raftAddr string // where it listens for raft, behind the links
}

// cluster is the nodes, the links between them and the receivers they page.
type cluster struct {
	t     *testing.T
	nodes []*clusterNode
	links map[[2]int]*netproxy.Link // (from, to) → link to to's raft port
	recv  *receivers
}

// clusterOptions shapes a test cluster.
type clusterOptions struct {
	// OnCall is the on-call file every node gets (receiver URLs are filled
	// in); nil for none.
	OnCall *oncallSetup
	// Answers say how the receivers answer pages (200 for anyone not named).
	Answers map[string]answer
	// Storage holds keys of the storage section.
	Storage map[string]int64
	// Raft holds extra keys of the cluster section (snapshot_interval,
	// trailing_logs), written as given.
	Raft map[string]string
}

// clusterPeer is one entry of a node's peers list.
type clusterPeer struct{ ID, RaftAddress, APIURL string }

// newCluster writes the nodes' configurations and starts the links; start
// runs the nodes.
func newCluster(t *testing.T, opts clusterOptions) *cluster {
	t.Helper()
	c := &cluster{t: t, links: map[[2]int]*netproxy.Link{}, recv: newReceivers(t, opts.Answers)}
	var oncall oncallTemplate
	if opts.OnCall != nil {
		oncall = oncallTemplate{oncallSetup: *opts.OnCall}
		for _, id := range opts.OnCall.People {
			oncall.People = append(oncall.People, oncallPerson{ID: id, URL: c.recv.url(id)})
		}
		oncall.FallbackURL = c.recv.url(fallbackName)
	}
	ackKey, err := filepath.Abs(filepath.Join("testdata", "ack.key"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range clusterSize {
		cfg := klaxonConfig{Storage: opts.Storage, Notify: map[string]string{"ack_key_file": ackKey, "timeout": notifyTimeout}}
		if opts.OnCall != nil {
			cfg.OnCallFiles = []string{"oncall/*.yml"}
		}
		k := newKlaxonWith(t, cfg)
		writeTemplate(t, "cluster-rules.yml", k.dir, filepath.Join("rules", "cluster.yml"), nil)
		if opts.OnCall != nil {
			writeTemplate(t, "oncall.yml", k.dir, filepath.Join("oncall", "drill.yml"), oncall)
		}
		c.nodes = append(c.nodes, &clusterNode{klaxon: k, id: fmt.Sprintf("n%d", i+1), raftAddr: freePort(t)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for from := range c.nodes {
		for to, n := range c.nodes {
			if from == to {
				continue
			}
			l, err := netproxy.Listen(ctx, n.raftAddr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(l.Close)
			c.links[[2]int{from, to}] = l
		}
	}
	for i, n := range c.nodes {
		c.writeClusterSection(i, n, opts.Raft)
	}
	return c
}

// writeClusterSection appends node i's cluster section to its configuration.
func (c *cluster) writeClusterSection(i int, n *clusterNode, extra map[string]string) {
	c.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "\ncluster:\n  node_id: %s\n  raft_address: %s\n", n.id, n.raftAddr)
	for key, value := range extra {
		fmt.Fprintf(&b, "  %s: %s\n", key, value)
	}
	b.WriteString("  peers:\n")
	for j, peer := range c.nodes {
		addr := peer.raftAddr
		if j != i {
			addr = c.links[[2]int{i, j}].Addr()
		}
		fmt.Fprintf(&b, "    - {id: %s, raft_address: %q, api_url: %q}\n", peer.id, addr, peer.url)
	}
	f, err := os.OpenFile(n.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		c.t.Fatalf("writing the cluster section of %s: %v", n.config, err)
	}
}

// start runs every node, then waits until each is ready: no node can be
// ready before a majority runs.
func (c *cluster) start() {
	c.t.Helper()
	for _, n := range c.nodes {
		n.launch()
	}
	for _, n := range c.nodes {
		n.waitReady()
	}
}

// launch starts the node's process without waiting for it.
func (n *clusterNode) launch() {
	n.t.Helper()
	if n.proc != nil && !n.proc.exited() {
		n.t.Fatalf("%s is already running", n.id)
	}
	n.proc = startProc(n.t, "klaxon-"+n.id, klaxonBin, "serve", "--config", n.config)
}

// waitReady waits until the node serves and says it is ready.
func (n *clusterNode) waitReady() {
	n.t.Helper()
	n.proc.waitHTTP200(n.url + "/-/healthy")
	n.proc.waitHTTP200(n.url + "/-/ready")
}

// running reports whether the node's process is up.
func (n *clusterNode) running() bool { return n.proc != nil && !n.proc.exited() }

// clusterStatus is GET /api/v1/cluster.
type clusterStatus struct {
	Node         string          `json:"node"`
	State        string          `json:"state"`
	Leader       string          `json:"leader"`
	Term         uint64          `json:"term"`
	CommitIndex  uint64          `json:"commit_index"`
	AppliedIndex uint64          `json:"applied_index"`
	Peers        json.RawMessage `json:"peers"`
}

// status reads the node's view of the cluster.
func (n *clusterNode) status() (clusterStatus, error) {
	var s clusterStatus
	code, data, err := n.do("GET", "/api/v1/cluster", adminToken, nil)
	if err != nil {
		return s, err
	}
	if code != http.StatusOK {
		return s, fmt.Errorf("%s: GET /api/v1/cluster: status %d: %s", n.id, code, data)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s: GET /api/v1/cluster: %w; body %s", n.id, err, data)
	}
	return s, nil
}

// ready returns the status and body of GET /-/ready.
func (n *clusterNode) ready() (int, string, error) {
	code, data, err := n.do("GET", "/-/ready", "", nil)
	return code, strings.TrimSpace(string(data)), err
}

// leader waits until exactly one running node says it leads and the others
// that run name it, and returns it.
func (c *cluster) leader() *clusterNode {
	c.t.Helper()
	return c.leaderAmong(c.running())
}

// leaderAmong waits until exactly one of nodes says it leads and the others
// name it, and returns it.
func (c *cluster) leaderAmong(nodes []*clusterNode) *clusterNode {
	c.t.Helper()
	var leader *clusterNode
	eventually(c.t, waitTimeout, "one leader the nodes agree on", func() error {
		var err error
		leader, err = c.agreedLeader(nodes)
		return err
	})
	return leader
}

// agreedLeader returns the node of nodes that leads, if all of nodes agree.
func (c *cluster) agreedLeader(nodes []*clusterNode) (*clusterNode, error) {
	var leader *clusterNode
	names := map[string]bool{}
	for _, n := range nodes {
		s, err := n.status()
		if err != nil {
			return nil, err
		}
		names[s.Leader] = true
		if s.State == "leader" {
			if leader != nil {
				return nil, fmt.Errorf("both %s and %s say they lead", leader.id, n.id)
			}
			leader = n
		}
	}
	if leader == nil {
		return nil, fmt.Errorf("no node leads (leaders named: %v)", names)
	}
	if len(names) != 1 || !names[leader.id] {
		return nil, fmt.Errorf("%s leads, but the nodes name %v", leader.id, names)
	}
	return leader, nil
}

// running lists the nodes whose process is up.
func (c *cluster) running() []*clusterNode {
	var out []*clusterNode
	for _, n := range c.nodes {
		if n.running() {
			out = append(out, n)
		}
	}
	return out
}

// others lists every node but n.
func (c *cluster) others(n *clusterNode) []*clusterNode {
	var out []*clusterNode
	for _, o := range c.nodes {
		if o != n {
			out = append(out, o)
		}
	}
	return out
}

func (c *cluster) index(n *clusterNode) int {
	for i, o := range c.nodes {
		if o == n {
			return i
		}
	}
	c.t.Fatalf("%s is not a node of the cluster", n.id)
	return -1
}

// isolate cuts every raft link to and from n.
func (c *cluster) isolate(n *clusterNode) {
	c.eachLinkOf(n, (*netproxy.Link).Cut)
	c.t.Logf("%s isolated from the other nodes", n.id)
}

// heal restores every raft link to and from n.
func (c *cluster) heal(n *clusterNode) {
	c.eachLinkOf(n, (*netproxy.Link).Heal)
	c.t.Logf("%s reconnected", n.id)
}

func (c *cluster) eachLinkOf(n *clusterNode, do func(*netproxy.Link)) {
	i := c.index(n)
	for key, l := range c.links {
		if key[0] == i || key[1] == i {
			do(l)
		}
	}
}

// caughtUp waits until n has applied everything the leader had committed
// when it was asked.
func (c *cluster) caughtUp(leader, n *clusterNode) {
	c.t.Helper()
	s, err := leader.status()
	if err != nil {
		c.t.Fatal(err)
	}
	eventually(c.t, waitTimeout, fmt.Sprintf("%s applies up to %s's commit index %d", n.id, leader.id, s.CommitIndex), func() error {
		got, err := n.status()
		if err != nil {
			return err
		}
		if got.AppliedIndex < s.CommitIndex {
			return fmt.Errorf("applied %d", got.AppliedIndex)
		}
		return nil
	})
}

// pagesFrom counts the pages any receiver got from the node whose external
// URL is url (the webhook payload's externalURL is the sender's).
func (r *receivers) pagesFrom(url string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, pages := range r.got {
		for _, p := range pages {
			if p.ExternalURL == url {
				n++
			}
		}
	}
	return n
}

// since measures from start, rounded for the log.
func since(start time.Time) time.Duration { return time.Since(start).Round(time.Millisecond) }
