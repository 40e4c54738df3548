package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/klaxonhq/klaxon/cluster"
)

// startReplicas runs three Klaxons in-process as one cluster over loopback
// and returns them once every one is ready.
func startReplicas(t *testing.T) []*instance {
	t.Helper()
	ks, _ := startReplicasIn(t)
	return ks
}

// startReplicasIn is startReplicas, also returning each replica's directory;
// extra is added to every replica's configuration.
func startReplicasIn(t *testing.T, extra ...string) ([]*instance, []string) {
	t.Helper()
	type node struct{ api, raft, dir string }
	nodes := make([]node, 3)
	var peers strings.Builder
	for i := range nodes {
		nodes[i] = node{api: freeAddr(t), raft: freeAddr(t), dir: t.TempDir()}
		fmt.Fprintf(&peers, "    - {id: n%d, raft_address: %q, api_url: \"http://%s\"}\n", i, nodes[i].raft, nodes[i].api)
	}
	for i, n := range nodes {
		writeIn(t, n.dir, "rules/sev.yml", goodRules)
		writeIn(t, n.dir, "klaxon.yml", klaxonConfig(n.api, adminToken, append(extra,
			fmt.Sprintf("cluster:\n  node_id: n%d\n  raft_address: %q\n  peers:\n%s", i, n.raft, peers.String()))...))
	}
	ks := make([]*instance, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { ks[i], errs[i] = launch(t, n.dir) }) // one alone has no quorum: start all at once
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	dirs := make([]string, len(nodes))
	for i, n := range nodes {
		dirs[i] = n.dir
	}
	return ks, dirs
}

// clusterStatus is a replica's answer to GET /api/v1/cluster.
func clusterStatus(t *testing.T, k *instance) cluster.Status {
	t.Helper()
	code, body := call(t, http.MethodGet, k.base+cluster.StatusPath)
	var st cluster.Status
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("cluster status: %d %s", code, body)
	}
	return st
}

// postAlert sends one firing alert to k until it is answered 2xx, and
// fails the test after a generous deadline.
func postAlert(t *testing.T, k *instance, name string) {
	t.Helper()
	body := fmt.Sprintf(`[{"labels":{"alertname":%q,"severity":"critical"}}]`, name)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Post(k.base+"/api/v2/alerts", "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("alert %s: %d, want 200, or 503 with Retry-After while there is no leader", name, resp.StatusCode)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert %s was never accepted", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// activeAlerts is what replica k's own state holds, from its metrics
// (which a follower answers itself).
func activeAlerts(t *testing.T, k *instance) string {
	t.Helper()
	return metric(t, k.base, `klaxon_alerts_active{source="prometheus"}`)
}

func TestThreeReplicasServeAndFailOver(t *testing.T) {
	ks := startReplicas(t)
	st := clusterStatus(t, ks[0])
	leader := -1
	for i := range ks {
		if st.Leader == fmt.Sprintf("n%d", i) {
			leader = i
		}
	}
	if leader < 0 || len(st.Peers) != 3 {
		t.Fatalf("status %+v names no leader among three peers", st)
	}
	follower := (leader + 1) % 3
	postAlert(t, ks[follower], "ViaFollower")
	for i, k := range ks {
		waitUntil(t, fmt.Sprintf("replica %d applies the alert", i), func() bool { return activeAlerts(t, k) == "1" })
	}
	if code, body := call(t, http.MethodGet, ks[follower].base+"/api/v1/incidents"); code != 200 || !strings.Contains(body, "ViaFollower") {
		t.Errorf("incidents read through a follower: %d %s", code, body)
	}
	for i, k := range ks {
		want := map[bool]string{true: "1", false: "0"}[i == leader]
		if got := metric(t, k.base, `klaxon_raft_state{state="leader"}`); got != want {
			t.Errorf("replica %d: klaxon_raft_state{state=\"leader\"} %q, want %q", i, got, want)
		}
	}

	ks[leader].stop()
	postAlert(t, ks[follower], "AfterFailover")
	for i, k := range ks {
		if i != leader {
			waitUntil(t, fmt.Sprintf("survivor %d applies the alert", i), func() bool { return activeAlerts(t, k) == "2" })
		}
	}
	// Every replica's rule file lies in a directory of its own, under the
	// same name and with the same content: the new leader records nothing,
	// where recording its own would reclassify every open incident.
	waitUntil(t, "the new leader finds its files recorded", func() bool {
		for i, k := range ks {
			if i != leader && k.logged(zapcore.InfoLevel, "rules unchanged") {
				return true
			}
		}
		return false
	})
	for i, k := range ks {
		if i != leader && k.logged(zapcore.InfoLevel, "rules installed") {
			t.Errorf("survivor %d recorded its own rule files on gaining leadership", i)
		}
	}
	for i, k := range ks {
		if i != leader {
			k.stop()
		}
	}
}

// waitUntil polls cond until it holds, failing the test after a generous deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
