package cluster

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's Prometheus instruments: two histograms it
// observes, and raft's own figures read at each scrape.
type metrics struct {
	apply prometheus.Histogram // Append's latency: propose, commit on a majority, apply
	batch prometheus.Histogram // records per applied batch: group commit at work
	node  *Node
}

// Descriptions of the figures read from raft at scrape time.
var (
	descState = prometheus.NewDesc("klaxon_raft_state",
		"1 for this node's raft state (leader, follower, candidate, shutdown), 0 for the others.", []string{"state"}, nil)
	descTerm         = prometheus.NewDesc("klaxon_raft_term", "Raft's current term.", nil, nil)
	descCommitIndex  = prometheus.NewDesc("klaxon_raft_commit_index", "Index of the last log entry known committed on a majority.", nil, nil)
	descAppliedIndex = prometheus.NewDesc("klaxon_raft_applied_index", "Index of the last log entry applied to the state here.", nil, nil)
	descLastLogIndex = prometheus.NewDesc("klaxon_raft_last_log_index", "Index of the last entry in this node's log.", nil, nil)
	descLastContact  = prometheus.NewDesc("klaxon_raft_last_contact_seconds",
		"Seconds since a follower last heard from the leader (0 on the leader).", nil, nil)
	descPeers         = prometheus.NewDesc("klaxon_raft_peers", "Voters in the raft configuration.", nil, nil)
	descSnapshotIndex = prometheus.NewDesc("klaxon_raft_last_snapshot_index", "Log index of the newest raft snapshot.", nil, nil)
)

// newMetrics builds the instruments and registers them, with the scrape-time
// collector over n, in reg if it is not nil.
func newMetrics(reg prometheus.Registerer, n *Node) (*metrics, error) {
	m := &metrics{
		apply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "klaxon_raft_apply_duration_seconds",
			Help:    "Time from proposing a journal record on the leader to its commit on a majority and apply.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "klaxon_raft_apply_batch_records",
			Help:    "Journal records applied in one batch of committed raft entries.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		node: n,
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.apply, m.batch, m} {
		if err := reg.Register(c); err != nil {
			if _, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); !ok {
				return nil, fmt.Errorf("register raft metrics: %w", err)
			}
		}
	}
	return m, nil
}

// Describe sends the descriptions of the scrape-time figures.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descTerm, descCommitIndex, descAppliedIndex, descLastLogIndex, descLastContact, descPeers, descSnapshotIndex} {
		ch <- d
	}
}

// Collect reads raft's figures now.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	r := m.node.raft
	if r == nil {
		return
	}
	state := r.State()
	for _, s := range []raft.RaftState{raft.Leader, raft.Follower, raft.Candidate, raft.Shutdown} {
		ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, boolValue(s == state), stateName(s))
	}
	stats := r.Stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(descTerm, float64(r.CurrentTerm()))
	gauge(descCommitIndex, float64(r.CommitIndex()))
	gauge(descAppliedIndex, float64(r.AppliedIndex()))
	gauge(descLastLogIndex, statValue(stats["last_log_index"]))
	gauge(descPeers, statValue(stats["num_peers"])+1)
	gauge(descSnapshotIndex, statValue(stats["last_snapshot_index"]))
	contact := 0.0
	if lc := r.LastContact(); state != raft.Leader && !lc.IsZero() {
		contact = time.Since(lc).Seconds()
	}
	gauge(descLastContact, contact)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// statValue parses one of raft.Stats' numbers; 0 if it is not one.
func statValue(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}
