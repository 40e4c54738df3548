package config

import (
	"net"
	"net/url"
	"strconv"
	"time"
)

// Cluster configures replication across machines (hashicorp/raft). Absent,
// Klaxon runs alone on its embedded journal.
type Cluster struct {
	// Enabled is set when the file has a cluster section.
	Enabled bool `yaml:"-"`
	// NodeID names this node in the cluster; unique, and stable across restarts.
	NodeID string `yaml:"node_id"`
	// RaftAddress is the host:port the node's raft transport binds and
	// others reach it at.
	RaftAddress string `yaml:"raft_address"`
	// SessionKeyFile holds the key (at least 32 bytes, the same on every
	// node) that seals console sessions, so that they survive a failover;
	// without it the key is derived from the admin tokens.
	SessionKeyFile string `yaml:"session_key_file"`
	SessionKey     Secret `yaml:"-"`
	// Peers bootstrap an empty cluster: every node lists every node,
	// itself included. A node with raft state ignores them.
	Peers []Peer     `yaml:"peers"`
	TLS   ClusterTLS `yaml:"tls"`
	// SnapshotInterval is how often raft checks whether a snapshot is due
	// (cluster.DefaultSnapshotInterval if zero).
	SnapshotInterval time.Duration `yaml:"snapshot_interval"`
	// TrailingLogs is how many log entries stay behind a snapshot for
	// followers that lag (cluster.DefaultTrailingLogs if zero); a follower
	// further behind catches up from a snapshot.
	TrailingLogs uint64 `yaml:"trailing_logs"`
}

// Peer is a cluster member: its id, raft address and API URL, to which
// followers forward requests when it leads.
type Peer struct {
	ID          string `yaml:"id"`
	RaftAddress string `yaml:"raft_address"`
	APIURL      string `yaml:"api_url"`
}

// ClusterTLS holds the files of mutual TLS between nodes; all or none.
type ClusterTLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	CAFile   string `yaml:"ca_file"`
}

// Enabled says whether node-to-node TLS is configured.
func (t ClusterTLS) Enabled() bool { return t.CertFile != "" }

func (t *ClusterTLS) check(m *mapping) error {
	set := 0
	for _, f := range []*string{&t.CertFile, &t.KeyFile, &t.CAFile} {
		if *f != "" {
			set++
			*f = m.d.resolve(*f)
		}
	}
	if set != 0 && set != 3 {
		return m.errorf("cert_file", "give cert_file, key_file and ca_file together, or none")
	}
	return nil
}

func (c *Cluster) check(m *mapping) error {
	if len(m.keys) == 0 {
		return nil
	}
	c.Enabled = true
	if err := c.readSessionKey(m); err != nil {
		return err
	}
	if c.NodeID == "" {
		return m.errorf("node_id", "required in a cluster section")
	}
	if err := checkHostPort(c.RaftAddress); err != nil {
		return m.errorf("raft_address", "%v", err)
	}
	seen := map[string]bool{}
	for i, p := range c.Peers {
		switch {
		case p.ID == "":
			return m.d.errorf(m.elemAt("peers", i), "id is required")
		case seen[p.ID]:
			return m.d.errorf(m.elemAt("peers", i), "id %q listed twice", p.ID)
		}
		seen[p.ID] = true
		if err := checkHostPort(p.RaftAddress); err != nil {
			return m.d.errorf(m.elemAt("peers", i), "raft_address: %v", err)
		}
		if u, err := url.Parse(p.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return m.d.errorf(m.elemAt("peers", i), "api_url: want an absolute http(s) URL, got %q", p.APIURL)
		}
	}
	if c.SnapshotInterval < 0 {
		return m.errorf("snapshot_interval", "must not be negative, got %s", c.SnapshotInterval)
	}
	if len(c.Peers) > 0 && !seen[c.NodeID] {
		return m.errorf("peers", "list this node (%q) too: every node lists every node", c.NodeID)
	}
	return nil
}

// checkHostPort says why s is not a host:port with a host and a port.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" {
		return strconv.ErrSyntax
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil || port == "0" {
		return strconv.ErrRange
	}
	return nil
}

// minSessionKeyBytes is the shortest console session key accepted.
const minSessionKeyBytes = 32

// readSessionKey reads session_key_file, if given.
func (c *Cluster) readSessionKey(m *mapping) error {
	if c.SessionKeyFile == "" {
		return nil
	}
	c.SessionKeyFile = m.d.resolve(c.SessionKeyFile)
	key, err := readTokenFile(c.SessionKeyFile)
	if err != nil {
		return m.errorf("session_key_file", "%w", err)
	}
	if len(key) < minSessionKeyBytes {
		return m.errorf("session_key_file", "the key has %d bytes; use at least %d (e.g. head -c 48 /dev/urandom | base64)", len(key), minSessionKeyBytes)
	}
	c.SessionKey = NewSecret(key)
	return nil
}
