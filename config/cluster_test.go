package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clusterBase is a configuration that loads, to which a cluster section is appended.
const clusterBase = `auth:
  admin: [{name: sre, token: testdata-admin-token-0001}]
  ingest:
    alertmanager: {open: true}
    prometheus: {open: true}
`

const clusterPeers = `
  peers:
    - {id: a, raft_address: "10.0.0.1:9096", api_url: "http://10.0.0.1:9095"}
    - {id: b, raft_address: "10.0.0.2:9096", api_url: "http://10.0.0.2:9095"}
    - {id: c, raft_address: "10.0.0.3:9096", api_url: "https://c.example:9095"}
`

func TestClusterSection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		section string
		want    Cluster // checked when err is ""
		err     string
	}{
		{name: "absent", section: "", want: Cluster{}},
		{name: "three peers", section: "cluster:\n  node_id: a\n  raft_address: \"10.0.0.1:9096\"" + clusterPeers,
			want: Cluster{Enabled: true, NodeID: "a", RaftAddress: "10.0.0.1:9096", Peers: []Peer{
				{"a", "10.0.0.1:9096", "http://10.0.0.1:9095"}, {"b", "10.0.0.2:9096", "http://10.0.0.2:9095"}, {"c", "10.0.0.3:9096", "https://c.example:9095"}}}},
		{name: "joining without peers", section: "cluster:\n  node_id: d\n  raft_address: \"10.0.0.4:9096\"\n",
			want: Cluster{Enabled: true, NodeID: "d", RaftAddress: "10.0.0.4:9096"}},
		{name: "tls", section: "cluster:\n  node_id: d\n  raft_address: \"10.0.0.4:9096\"\n  tls: {cert_file: n.crt, key_file: n.key, ca_file: ca.crt}\n",
			want: Cluster{Enabled: true, NodeID: "d", RaftAddress: "10.0.0.4:9096", TLS: ClusterTLS{CertFile: "/etc/klaxon/n.crt", KeyFile: "/etc/klaxon/n.key", CAFile: "/etc/klaxon/ca.crt"}}},
		{name: "no node id", section: "cluster:\n  raft_address: \"10.0.0.1:9096\"\n", err: "cluster.node_id: required in a cluster section"},
		{name: "no raft port", section: "cluster:\n  node_id: a\n  raft_address: \"10.0.0.1\"\n", err: "cluster.raft_address: address 10.0.0.1: missing port in address"},
		{name: "self not in peers", section: "cluster:\n  node_id: z\n  raft_address: \"10.0.0.9:9096\"" + clusterPeers, err: `cluster.peers: list this node ("z") too`},
		{name: "duplicate peer", section: "cluster:\n  node_id: a\n  raft_address: \"10.0.0.1:9096\"\n  peers:\n    - {id: a, raft_address: \"h:1\", api_url: \"http://h:2\"}\n    - {id: a, raft_address: \"h:3\", api_url: \"http://h:4\"}\n", err: `cluster.peers[1]: id "a" listed twice`},
		{name: "relative api url", section: "cluster:\n  node_id: a\n  raft_address: \"h:1\"\n  peers:\n    - {id: a, raft_address: \"h:1\", api_url: \"h:2\"}\n", err: `cluster.peers[0]: api_url: want an absolute http(s) URL`},
		{name: "half tls", section: "cluster:\n  node_id: a\n  raft_address: \"h:1\"\n  tls: {cert_file: n.crt}\n", err: "cluster.tls.cert_file: give cert_file, key_file and ca_file together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(clusterBase+tc.section), filepath.FromSlash("/etc/klaxon/klaxon.yml"))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Cluster
			if got.Enabled != tc.want.Enabled || got.NodeID != tc.want.NodeID || got.RaftAddress != tc.want.RaftAddress ||
				got.TLS != tc.want.TLS || len(got.Peers) != len(tc.want.Peers) {
				t.Fatalf("cluster %+v, want %+v", got, tc.want)
			}
			for i := range got.Peers {
				if got.Peers[i] != tc.want.Peers[i] {
					t.Errorf("peer %d: %+v, want %+v", i, got.Peers[i], tc.want.Peers[i])
				}
			}
		})
	}
}

func TestClusterSessionKeyFile(t *testing.T) {
	dir := t.TempDir()
	good, short := filepath.Join(dir, "good.key"), filepath.Join(dir, "short.key")
	if err := os.WriteFile(good, []byte("a-session-key-of-forty-bytes-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(short, []byte("too-short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, err, want string
	}{
		{"none", "", "", ""},
		{"a key", good, "", "a-session-key-of-forty-bytes-0123456789"},
		{"too short", short, "cluster.session_key_file: the key has 9 bytes; use at least 32", ""},
		{"missing", filepath.Join(dir, "absent.key"), "cluster.session_key_file:", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			section := "cluster:\n  node_id: d\n  raft_address: \"10.0.0.4:9096\"\n"
			if tc.file != "" {
				section += "  session_key_file: " + tc.file + "\n"
			}
			cfg, err := Parse([]byte(clusterBase+section), filepath.Join(dir, "klaxon.yml"))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Cluster.SessionKey.Reveal(); got != tc.want {
				t.Errorf("session key %q, want %q", got, tc.want)
			}
		})
	}
}
