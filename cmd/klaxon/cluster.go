package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/cluster"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/hugeheap"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

// servedJournal is the journal serve runs on: badger alone, or a replica.
type servedJournal interface {
	journal.Journal
	CloseContext(context.Context) error
}

// replica is this node of a cluster; nil when Klaxon runs alone.
type replica struct {
	node *cluster.Node
	tls  *tls.Config
}

// openJournal opens the embedded badger journal, or, with a cluster
// section, this node's raft replica of the journal.
func openJournal(cfg *config.Config, state *triage.State, log *zap.Logger, reg prometheus.Registerer) (servedJournal, *replica, error) {
	if !cfg.Cluster.Enabled {
		var heap hugeheap.Region
		j, err := journal.OpenBadger(journal.Options{
			Dir:            cfg.DataDir,
			MemTableSize:   cfg.Storage.MemtableBytes,
			BlockCacheSize: cfg.Storage.BlockCacheBytes,
			SnapshotEvery:  cfg.Storage.SnapshotEvery,
			MinFreeBytes:   cfg.Storage.MinFreeBytes,
			Logger:         log.Named("journal"),
			Registerer:     reg,

			Retention:        cfg.Storage.Retention,
			ArchiveRetention: cfg.Storage.ArchiveRetention,
			SizeHint:         func(alerts int) { heap = prepareHeap(alerts, log) },
		}, state)
		if err := heap.Release(); err != nil {
			log.Warn("heap left advised for huge pages", zap.Error(err))
		}
		return j, nil, err
	}
	cc := cfg.Cluster
	r := &replica{}
	if cc.TLS.Enabled() {
		var err error
		if r.tls, err = cluster.LoadTLS(cc.TLS.CertFile, cc.TLS.KeyFile, cc.TLS.CAFile); err != nil {
			return nil, nil, err
		}
	}
	opts := cluster.Options{
		NodeID: cc.NodeID, RaftAddress: cc.RaftAddress, Dir: cfg.DataDir, TLS: r.tls,
		SnapshotThreshold: cfg.Storage.SnapshotEvery, SnapshotInterval: cc.SnapshotInterval, TrailingLogs: cc.TrailingLogs,
		ArchiveRetention: cfg.Storage.ArchiveRetention,
		Logger:           log.Named("cluster"), Registerer: reg,
	}
	for _, p := range cc.Peers {
		opts.Peers = append(opts.Peers, cluster.Peer{ID: p.ID, RaftAddress: p.RaftAddress, APIURL: p.APIURL})
	}
	node, err := cluster.Open(opts, state)
	if err != nil {
		return nil, nil, err
	}
	r.node = node
	log.Info("cluster node started", zap.String("node_id", cc.NodeID), zap.String("raft_address", cc.RaftAddress))
	return node, r, nil
}

// routes sends a follower's requests to the leader and serves the cluster
// API; call it before the other routes, which the forwarding then covers.
func (r *replica) routes(srv *server.Server) {
	if r == nil {
		return
	}
	e := srv.Engine()
	e.Use(cluster.NewForwarder(r.node, r.tls).Handle)
	e.GET(cluster.StatusPath, srv.API(), r.node.StatusHandler)
	admin := e.Group("/", srv.Admin())
	admin.POST(cluster.StatusPath+"/join", r.node.JoinHandler)
	admin.POST(cluster.StatusPath+"/remove", r.node.RemoveHandler)
	srv.SetReadyCheck(r.node.Ready)
}

// leading runs work now when Klaxon runs alone, and on a replica whenever
// it leads: the timers and the delivery workers append, and only the leader may.
func (r *replica) leading(ctx context.Context, name string, work func(context.Context)) {
	if r == nil {
		work(ctx)
		return
	}
	r.node.RunAsLeader(ctx, name, work)
}

// onApplied registers fn to run after entries are applied on a replica,
// where followers apply what they did not append.
func (r *replica) onApplied(fn func()) {
	if r != nil {
		r.node.OnApplied(fn)
	}
}

const (
	usageClusterStatus = "cluster status [flags]  this node's view of the cluster: state, leader, term, indexes, peers; exit code 3 if it does not serve (no quorum, no leader)"
	usageClusterJoin   = "cluster join ID RAFT_ADDRESS API_URL [flags]  add a node as a voter (admin)"
	usageClusterRemove = "cluster remove ID [flags]  take a node out of the cluster (admin)"
)

// runClusterStatus prints GET /api/v1/cluster.
func runClusterStatus(args []string, stdout, stderr io.Writer) int {
	return clusterCall("status", usageClusterStatus, 0, args, stdout, stderr, func([]string) (string, string, any) {
		return http.MethodGet, cluster.StatusPath, nil
	})
}

// runClusterJoin posts a join to the leader (any node forwards it).
func runClusterJoin(args []string, stdout, stderr io.Writer) int {
	return clusterCall("join", usageClusterJoin, 3, args, stdout, stderr, func(pos []string) (string, string, any) {
		return http.MethodPost, cluster.StatusPath + "/join", cluster.JoinRequest{ID: pos[0], RaftAddress: pos[1], APIURL: pos[2]}
	})
}

// runClusterRemove posts a removal to the leader (any node forwards it).
func runClusterRemove(args []string, stdout, stderr io.Writer) int {
	return clusterCall("remove", usageClusterRemove, 1, args, stdout, stderr, func(pos []string) (string, string, any) {
		return http.MethodPost, cluster.StatusPath + "/remove", cluster.RemoveRequest{ID: pos[0]}
	})
}

// clusterCall runs one cluster subcommand taking nargs positional arguments
// and prints the cluster status it answers.
func clusterCall(name, usage string, nargs int, args []string, stdout, stderr io.Writer, request func([]string) (string, string, any)) int {
	fs, cf := clientFlagSet("cluster "+name, stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != nargs {
		fmt.Fprintln(stderr, "usage: klaxon "+usage)
		return 2
	}
	c, err := cf.client()
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), cf.timeout)
	defer cancel()
	method, path, body := request(pos)
	data, err := c.call(ctx, method, path, nil, body)
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	var st cluster.Status
	if err := json.Unmarshal(data, &st); err != nil {
		fmt.Fprintln(stderr, "klaxon: reading the cluster status:", err)
		return 1
	}
	if cf.output == "json" {
		_, _ = stdout.Write(data)
	} else {
		printClusterStatus(stdout, st)
	}
	if st.Problem != "" {
		return exitNotServing
	}
	return 0
}

// exitNotServing is the exit code of a cluster command whose node answered
// but does not serve (no quorum, no leader): scripts tell it from 1, the
// node not answering at all.
const exitNotServing = 3

// printClusterStatus prints a status as a short text and a table of peers.
func printClusterStatus(w io.Writer, st cluster.Status) {
	fmt.Fprintf(w, "node %s: %s, term %d, leader %s, commit %d, applied %d\n",
		st.Node, st.State, st.Term, orNone(st.Leader), st.CommitIndex, st.AppliedIndex)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRAFT ADDRESS\tAPI URL\tSUFFRAGE\tROLE")
	for _, p := range st.Peers {
		role := ""
		if p.ID == st.Leader {
			role = "leader"
		}
		fmt.Fprintln(tw, strings.Join([]string{p.ID, p.RaftAddress, orNone(p.APIURL), p.Suffrage, role}, "\t"))
	}
	_ = tw.Flush()
	if st.Problem != "" {
		fmt.Fprintf(w, "NOT SERVING: %s.\n%s\n", st.Problem, notServingAdvice(st))
	}
}

// notServingAdvice says what a node that does not serve means and what to check.
func notServingAdvice(st cluster.Status) string {
	voters := 0
	for _, p := range st.Peers {
		if p.Suffrage == "Voter" {
			voters++
		}
	}
	return fmt.Sprintf("This node answers ingest and API requests with 503 and Retry-After (senders retry; nothing acknowledged is lost) "+
		"until it hears from a leader. A leader needs %d of the %d voters above running and reaching each other on their raft addresses: "+
		"run klaxon cluster status against each of them.", voters/2+1, voters)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// startLeading installs the configured files once this replica leads; a
// failure is logged, as the replica serves on with the files recorded.
// Files another replica recorded from its own directory, with the same
// base names and content, are not recorded again (install, setOnCall):
// that would reclassify every open incident.
func (rl *reloader) startLeading(ctx context.Context) {
	if err := rl.start(ctx); err != nil {
		rl.log.Error("the configured files did not install on gaining leadership", zap.Error(err))
	}
}
