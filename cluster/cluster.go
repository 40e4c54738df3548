// Package cluster replicates Klaxon's journal across machines with
// hashicorp/raft: raft's log is the journal, triage's Apply is raft's FSM,
// triage snapshots are raft snapshots, and only the leader appends.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/journal"
)

// Defaults applied by Open to zero Options fields.
const (
	DefaultSnapshotThreshold = 8192
	DefaultSnapshotInterval  = 2 * time.Minute
	DefaultTrailingLogs      = 10240
	DefaultMaxAppendEntries  = 512
	// snapshotsRetained is how many raft snapshots stay on disk.
	snapshotsRetained = 2
	// transportPool is how many idle connections raft keeps per peer.
	transportPool = 3
	// transportTimeout bounds one raft RPC's I/O.
	transportTimeout = 10 * time.Second
)

// Peer is a member of the cluster as the configuration lists it.
type Peer struct {
	ID          string // raft server id, unique in the cluster
	RaftAddress string // host:port of its raft transport
	APIURL      string // base URL of its HTTP API, where followers forward requests
}

// Options configures a Node.
type Options struct {
	NodeID      string // this node's id; must be in Peers to bootstrap
	RaftAddress string // host:port raft binds and advertises
	// Peers bootstrap an empty store: every node lists every node,
	// itself included; a store with state ignores them.
	Peers []Peer
	Dir   string      // data directory: raft's log, snapshots and the archive live under it
	TLS   *tls.Config // mutual TLS between nodes; plain TCP if nil

	SnapshotThreshold uint64        // log entries between snapshots; default 8192
	SnapshotInterval  time.Duration // how often raft checks for a due snapshot; default 2 minutes
	TrailingLogs      uint64        // log entries kept behind a snapshot, for followers and replay; default 10240
	// Timing scales raft's heartbeat, election and lease timeouts; 1 (the
	// default) is hashicorp/raft's defaults, tests use less.
	Timing float64

	ArchiveRetention time.Duration // how long archived items stay; journal's default if zero

	Clock      func() time.Time      // stamps record times on the leader; default time.Now
	Logger     *zap.Logger           // default zap.NewNop()
	Registerer prometheus.Registerer // raft's metrics; none if nil

	// Transport replaces the TCP transport (tests: raft.InmemTransport).
	Transport raft.Transport
	// openLogStore replaces the badger log store (benchmarks compare others).
	openLogStore func(dir string) (logStore, error)
}

// Node is one replica: a journal.Journal whose Append commits on a
// majority, and the raft member behind it.
type Node struct {
	opts      Options
	raft      *raft.Raft
	fsm       *fsm
	logs      logStore
	snaps     *snapshotStore
	transport raft.Transport
	archive   *journal.Badger
	log       *zap.Logger
	metrics   *metrics

	stampMu sync.Mutex
	stamp   int64         // last record time this node stamped
	token   atomic.Uint64 // last proposal token handed out

	leader  *leadership
	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closing atomic.Bool

	closeOnce sync.Once
	closeErr  error
}

var (
	_ journal.Journal = (*Node)(nil)
	_ journal.Framer  = (*Node)(nil)
)

// Open opens (or creates) the replica's stores in opts.Dir, bootstraps the
// cluster from opts.Peers if the store is empty and this node is one of
// them, and starts raft; inner is restored by raft from the newest snapshot
// and the committed log after it.
func Open(opts Options, inner journal.FSM) (_ *Node, err error) {
	if opts, err = withDefaults(opts); err != nil {
		return nil, err
	}
	n := &Node{opts: opts, log: opts.Logger}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	defer func() { // n, not the result, which a failed return sets to nil
		if err != nil {
			err = errors.Join(err, n.closeStores())
		}
	}()
	if n.metrics, err = newMetrics(opts.Registerer, n); err != nil {
		return nil, err
	}
	if err = n.openStores(); err != nil {
		return nil, err
	}
	n.token.Store(randomTokenBase())
	n.fsm = newFSM(inner, n.archive, n.log.Named("fsm"), n.metrics.batch)
	n.fsm.markPath = filepath.Join(opts.Dir, "raft", archiveMarkFile)
	notify := make(chan bool, 16)
	n.leader = newLeadership()
	conf := raftConfig(opts, notify, n.log)
	if err = n.bootstrap(conf); err != nil {
		return nil, err
	}
	if n.raft, err = raft.NewRaft(conf, n.fsm, n.logs, n.logs, n.snaps, n.transport); err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n.snaps.sending.Store(true) // raft restored this node; from now on snapshots opened are sent or received ones
	n.wg.Go(func() { n.leader.follow(n.ctx, notify) })
	n.wg.Go(func() { n.RunAsLeader(n.ctx, "members", n.publishPeers) })
	return n, nil
}

// withDefaults validates opts and fills in its zero fields.
func withDefaults(opts Options) (Options, error) {
	switch {
	case opts.NodeID == "":
		return opts, errors.New("open cluster node: no node id")
	case opts.Dir == "":
		return opts, errors.New("open cluster node: no data directory")
	case opts.RaftAddress == "" && opts.Transport == nil:
		return opts, errors.New("open cluster node: no raft address")
	}
	if opts.SnapshotThreshold == 0 {
		opts.SnapshotThreshold = DefaultSnapshotThreshold
	}
	if opts.SnapshotInterval == 0 {
		opts.SnapshotInterval = DefaultSnapshotInterval
	}
	if opts.TrailingLogs == 0 {
		opts.TrailingLogs = DefaultTrailingLogs
	}
	if opts.Timing <= 0 {
		opts.Timing = 1
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return opts, nil
}

// raftConfig is hashicorp/raft's configuration for opts: batched applies
// (group commit), leadership changes on notify.
func raftConfig(opts Options, notify chan<- bool, log *zap.Logger) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(opts.NodeID)
	c.Logger = hclogger("raft", log.Named("raft"))
	c.NotifyCh = notify
	c.BatchApplyCh = true
	c.MaxAppendEntries = DefaultMaxAppendEntries
	c.SnapshotThreshold = opts.SnapshotThreshold
	c.SnapshotInterval = opts.SnapshotInterval
	c.TrailingLogs = opts.TrailingLogs
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * opts.Timing) }
	c.HeartbeatTimeout = scale(c.HeartbeatTimeout)
	c.ElectionTimeout = scale(c.ElectionTimeout)
	c.LeaderLeaseTimeout = scale(c.LeaderLeaseTimeout)
	c.CommitTimeout = scale(c.CommitTimeout)
	return c
}

// openStores opens the log and stable store, the snapshot store, the
// archive and the transport.
func (n *Node) openStores() error {
	dir := filepath.Join(n.opts.Dir, "raft")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create raft directory: %w", err)
	}
	var err error
	if n.opts.openLogStore != nil {
		n.logs, err = n.opts.openLogStore(dir)
	} else {
		var logs *badgerStore
		logs, err = openBadgerStore(logDir(n.opts.Dir), n.log.Named("raft-log"))
		n.logs = logs
		if err == nil {
			n.wg.Go(func() { logs.collectGarbage(n.ctx) })
		}
	}
	if err != nil {
		return err
	}
	files, err := raft.NewFileSnapshotStoreWithLogger(dir, snapshotsRetained, hclogger("raft-snapshots", n.log))
	if err != nil {
		return fmt.Errorf("open raft snapshots %s: %w", dir, err)
	}
	n.snaps = &snapshotStore{FileSnapshotStore: files, dir: dir}
	n.archive, err = journal.OpenBadger(journal.Options{
		Dir:              filepath.Join(n.opts.Dir, "archive"),
		MemTableSize:     4 << 20,
		BlockCacheSize:   4 << 20,
		IndexCacheSize:   2 << 20,
		ArchiveRetention: n.opts.ArchiveRetention,
		Logger:           n.log.Named("archive"),
	}, nopFSM{})
	if err != nil {
		return fmt.Errorf("open archive: %w", err)
	}
	n.snaps.archive = n.archive
	if n.transport = n.opts.Transport; n.transport == nil {
		stream, err := listen(n.opts.RaftAddress, n.opts.TLS)
		if err != nil {
			return err
		}
		n.transport = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: stream, MaxPool: transportPool, Timeout: transportTimeout,
			Logger: hclogger("raft-net", n.log.Named("raft")),
		})
	}
	return nil
}

// bootstrap writes the peers as the first configuration if the store is
// empty and this node is one of them; on every other start it does nothing.
func (n *Node) bootstrap(conf *raft.Config) error {
	has, err := raft.HasExistingState(n.logs, n.logs, n.snaps)
	if err != nil {
		return fmt.Errorf("read raft state: %w", err)
	}
	if has || !slices.ContainsFunc(n.opts.Peers, func(p Peer) bool { return p.ID == n.opts.NodeID }) {
		return nil
	}
	var cfg raft.Configuration
	for _, p := range n.opts.Peers {
		addr := raft.ServerAddress(p.RaftAddress)
		if p.ID == n.opts.NodeID {
			addr = n.transport.LocalAddr()
		}
		cfg.Servers = append(cfg.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: addr})
	}
	if err := raft.BootstrapCluster(conf, n.logs, n.logs, n.snaps, n.transport, cfg); err != nil {
		return fmt.Errorf("bootstrap cluster: %w", err)
	}
	n.log.Info("cluster bootstrapped", zap.Int("peers", len(cfg.Servers)))
	return nil
}

// Close leaves raft (without telling the others: a restart rejoins), and
// closes the stores. Later calls return the first result.
func (n *Node) Close() error { return n.CloseContext(context.Background()) }

// CloseContext is Close; a leader first hands leadership to another node
// (within ctx), so that a rolling restart costs no election timeout.
// Raft's shutdown waits for the FSM to finish the batch it applies.
func (n *Node) CloseContext(ctx context.Context) error {
	n.closeOnce.Do(func() {
		n.closing.Store(true)
		var errs []error
		if n.raft != nil && n.raft.State() == raft.Leader {
			if err := wait(ctx, n.raft.LeadershipTransfer()); err != nil {
				n.log.Warn("leaving without handing leadership over; the others elect a leader after their timeout", zap.Error(err))
			} else {
				n.log.Info("leadership handed over before leaving")
			}
		}
		if n.raft != nil {
			if err := n.raft.Shutdown().Error(); err != nil {
				errs = append(errs, fmt.Errorf("stop raft: %w", err))
			}
		}
		n.cancel()
		n.wg.Wait()
		errs = append(errs, n.closeStores())
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// closeStores closes whatever openStores opened.
func (n *Node) closeStores() error {
	n.cancel()
	var errs []error
	if c, ok := n.transport.(interface{ Close() error }); ok {
		errs = append(errs, c.Close())
	}
	if n.logs != nil {
		errs = append(errs, n.logs.Close())
	}
	if n.archive != nil {
		errs = append(errs, n.archive.Close())
	}
	return errors.Join(errs...)
}

// logStore is raft's log and stable store in one file.
type logStore interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

// nopFSM is the state of the badger journal kept only as this replica's
// archive: it never receives records.
type nopFSM struct{}

func (nopFSM) Apply(journal.Record) any { return nil }
func (nopFSM) Snapshot() journal.SnapshotFunc {
	return func() ([]byte, error) { return nil, nil }
}
func (nopFSM) Restore([]byte) error { return nil }

// randomTokenBase returns where this process starts its proposal tokens: a
// random high half, so that tokens of different leaders do not meet.
func randomTokenBase() uint64 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return uint64(binary.BigEndian.Uint32(b[:])) << 32
}
