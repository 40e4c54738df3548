package main

// A reload on a replica. Rule and on-call files are journaled, and only
// the leader appends, so a follower cannot install them. SIGHUP on a
// follower therefore reloads what is its own (tokens, log level), checks
// its rule and on-call files as the leader would, and keeps them for the
// day it leads; it does not forward the reload: an operator who edits the
// files on every node and signals every node (config management does)
// would otherwise reload the leader once per node, and one who edited only
// this node would see the leader reload its unchanged files and report
// success. POST /-/reload on any node is forwarded to the leader, which
// installs its files. Files that differ from those the cluster installed
// are shown: a warning and klaxon_cluster_config_drift, since this node
// would install its own on gaining leadership.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/triage"
)

// driftEvery is how often a replica compares its files with the installed ones.
const driftEvery = 30 * time.Second

// replicaReload is what a reloader needs on a replica.
type replicaReload struct {
	node interface {
		IsLeader() bool
		Leader() (id, apiURL string)
	}
	drift *prometheus.GaugeVec // klaxon_cluster_config_drift{files}
	// drifted remembers the last comparison per kind, so that a warning is
	// logged when a drift starts, not on every comparison.
	drifted map[string]bool
}

// followReloads makes rl reload as a replica does; nothing without a cluster.
func (r *replica) followReloads(rl *reloader, reg prometheus.Registerer) {
	if r == nil {
		return
	}
	rr := &replicaReload{node: r.node, drifted: map[string]bool{}, drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "klaxon_cluster_config_drift",
		Help: "1 if this node's configured rule or on-call files differ from those the cluster installed (this node would install its own on gaining leadership).",
	}, []string{"files"})}
	reg.MustRegister(rr.drift)
	rl.replica = rr
}

// following reports whether rl runs on a follower, and who leads.
func (rl *reloader) following() (leader string, ok bool) {
	if rl.replica == nil || rl.replica.node.IsLeader() {
		return "", false
	}
	id, _ := rl.replica.node.Leader()
	return id, true
}

// applyFollower reloads a follower: the configuration file's own settings
// take effect, its rule and on-call files are checked and kept for when
// this node leads, all or nothing, as apply does.
func (rl *reloader) applyFollower(leader string) error {
	cfg, err := rl.loadNext()
	if err != nil {
		return err
	}
	ruleFiles, err := readGlobs("rule files", cfg.RuleFiles)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	if _, err := triage.NewRulesChange(ruleFiles); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	if len(cfg.OnCallFiles) > 0 {
		if _, err := rl.checkOnCall(cfg); err != nil {
			return err
		}
	}
	rl.takeSettings(cfg)
	rl.log.Info("reloaded this follower's own settings (tokens, log level); its rule and on-call files are checked and kept for when it leads: the leader installs its own (POST /-/reload to any node reloads the leader)",
		zap.String("leader", orNone(leader)))
	return nil
}

// checkDrift compares this node's configured rule and on-call files with
// those the journal records (by base name and content), sets klaxon_cluster_config_drift and warns
// when a drift starts. rl.mu is held.
func (rl *reloader) checkDrift() {
	if rl.replica == nil {
		return
	}
	state := rl.eng.State()
	rulesOK, onCallOK := true, true
	if files, err := readGlobs("rule files", rl.cfg.RuleFiles); err == nil && len(state.RuleFiles()) > 0 {
		rulesOK = slices.EqualFunc(files, state.RuleFiles(), sameRuleFile)
	}
	if files, err := readOncall(rl.cfg.OnCallFiles); err == nil && len(rl.cfg.OnCallFiles) > 0 {
		onCallOK = slices.EqualFunc(files, state.OnCallFiles(), sameOnCallFile)
	}
	rl.replica.report(rl.log, "rules", !rulesOK)
	rl.replica.report(rl.log, "oncall", !onCallOK)
}

func sameRuleFile(a, b rules.File) bool    { return sameContent(a.Name, a.Data, b.Name, b.Data) }
func sameOnCallFile(a, b oncall.File) bool { return sameContent(a.Name, a.Data, b.Name, b.Data) }

// sameContent compares two files by base name and content: the directory
// they are configured in may differ from node to node.
func sameContent(nameA string, a []byte, nameB string, b []byte) bool {
	return filepath.Base(nameA) == filepath.Base(nameB) && string(a) == string(b)
}

// report sets the drift of kind and warns when it starts.
func (rr *replicaReload) report(log *zap.Logger, kind string, drift bool) {
	rr.drift.WithLabelValues(kind).Set(map[bool]float64{true: 1, false: 0}[drift])
	if drift && !rr.drifted[kind] {
		id, _ := rr.node.Leader()
		log.Warn("this node's configured files differ from those the cluster installed: it would install its own on gaining leadership; keep the files the same on every node",
			zap.String("files", kind), zap.String("leader", orNone(id)))
	}
	if !drift && rr.drifted[kind] {
		log.Info("this node's configured files match those the cluster installed again", zap.String("files", kind))
	}
	rr.drifted[kind] = drift
}

// watchDrift compares the files every driftEvery until ctx ends: the
// leader may install other files at any time.
func (rl *reloader) watchDrift(ctx context.Context) {
	if rl.replica == nil {
		return
	}
	t := time.NewTicker(driftEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rl.mu.Lock()
		rl.checkDrift()
		rl.mu.Unlock()
	}
}

// consoleSessionKey is the key that seals console sessions: on a replica,
// the cluster's session_key_file, else one derived from the admin tokens
// (the same on every node that has the same tokens), so that a failover
// signs nobody out; alone, none (each process draws its own, as before).
// With admin_open and no key file there is no shared secret, and sessions
// end when leadership moves.
func consoleSessionKey(cfg *config.Config) []byte {
	switch {
	case !cfg.Cluster.Enabled:
		return nil
	case !cfg.Cluster.SessionKey.IsZero():
		return []byte(cfg.Cluster.SessionKey.Reveal())
	case len(cfg.Auth.Admin) == 0:
		return nil
	}
	tokens := make([]string, len(cfg.Auth.Admin))
	for i, t := range cfg.Auth.Admin {
		tokens[i] = t.Token.Reveal()
	}
	slices.Sort(tokens)
	mac := hmac.New(sha256.New, []byte("klaxon console sessions from admin tokens"))
	for _, t := range tokens {
		mac.Write([]byte(t))
		mac.Write([]byte{0})
	}
	return mac.Sum(nil)
}
