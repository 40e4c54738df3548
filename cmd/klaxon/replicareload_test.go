package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/klaxonhq/klaxon/config"
)

// leaderOf returns the index of the replica every status names as leader.
func leaderOf(t *testing.T, ks []*instance) int {
	t.Helper()
	leader := -1
	waitUntil(t, "a leader", func() bool {
		st := clusterStatus(t, ks[0])
		for i := range ks {
			if st.Leader == fmt.Sprintf("n%d", i) {
				leader = i
			}
		}
		return leader >= 0
	})
	return leader
}

// TestSIGHUPOnAFollowerReloadsItsOwnSettingsAndShowsDrift: SIGHUP reaches
// every replica (they share this process); the follower whose rule file
// differs reloads its own settings, says so, and shows the drift; the
// leader reloads as before and shows none.
func TestSIGHUPOnAFollowerReloadsItsOwnSettingsAndShowsDrift(t *testing.T) {
	ks, dirs := startReplicasIn(t)
	defer func() {
		for _, k := range ks {
			k.stop()
		}
	}()
	leader := leaderOf(t, ks)
	follower := (leader + 1) % 3
	// Once every replica holds an alert the leader took after installing
	// its rules, every replica holds those rules.
	waitUntil(t, "the leader installs its rules", func() bool { return ks[leader].logged(zapcore.InfoLevel, "rules installed") })
	postAlert(t, ks[leader], "BeforeReload")
	for i, k := range ks {
		waitUntil(t, fmt.Sprintf("replica %d applies the alert", i), func() bool { return activeAlerts(t, k) == "1" })
	}
	writeIn(t, dirs[follower], "rules/sev.yml", strings.Replace(goodRules, "SEV1", "SEV2", 1))
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for i, k := range ks {
		waitUntil(t, fmt.Sprintf("replica %d reloads", i), func() bool {
			return k.logged(zapcore.InfoLevel, "reloaded this follower") || k.logged(zapcore.InfoLevel, "rules unchanged") ||
				k.logged(zapcore.ErrorLevel, "configuration reload failed")
		})
		if k.logged(zapcore.ErrorLevel, "configuration reload failed") {
			t.Errorf("replica %d: the reload failed", i)
		}
		if got := metric(t, k.base, "klaxon_config_last_reload_successful"); got != "1" {
			t.Errorf("replica %d: klaxon_config_last_reload_successful %q, want 1", i, got)
		}
		want := map[bool]string{true: "1", false: "0"}[i == follower]
		if got := metric(t, k.base, `klaxon_cluster_config_drift{files="rules"}`); got != want {
			t.Errorf("replica %d: klaxon_cluster_config_drift{files=\"rules\"} %q, want %q", i, got, want)
		}
		if drifted := k.logged(zapcore.WarnLevel, "differ from those the cluster installed"); drifted != (i == follower) {
			t.Errorf("replica %d: warned of a drift: %v", i, drifted)
		}
	}
	if !ks[follower].logged(zapcore.InfoLevel, "reloaded this follower") {
		t.Errorf("the follower did not say what it reloaded")
	}
}

func TestConsoleSessionKey(t *testing.T) {
	tokens := func(ts ...string) config.Tokens {
		var out config.Tokens
		for i, tok := range ts {
			out = append(out, config.Token{Name: fmt.Sprint(i), Token: config.NewSecret(tok)})
		}
		return out
	}
	cfg := func(cluster bool, file string, admin config.Tokens) *config.Config {
		c := &config.Config{}
		c.Cluster.Enabled, c.Cluster.SessionKey, c.Auth.Admin = cluster, config.NewSecret(file), admin
		return c
	}
	ab := consoleSessionKey(cfg(true, "", tokens("a", "b")))
	for _, tc := range []struct {
		name string
		cfg  *config.Config
		want func([]byte) bool
	}{
		{"alone: each process its own", cfg(false, "", tokens("a")), func(k []byte) bool { return k == nil }},
		{"key file", cfg(true, "from-the-file", tokens("a")), func(k []byte) bool { return string(k) == "from-the-file" }},
		{"admin tokens in any order", cfg(true, "", tokens("b", "a")), func(k []byte) bool { return len(k) == 32 && string(k) == string(ab) }},
		{"other admin tokens", cfg(true, "", tokens("a", "c")), func(k []byte) bool { return len(k) == 32 && string(k) != string(ab) }},
		{"admin_open: no shared secret", cfg(true, "", nil), func(k []byte) bool { return k == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := consoleSessionKey(tc.cfg); !tc.want(got) {
				t.Errorf("key %x", got)
			}
		})
	}
}

// TestConsoleSessionSurvivesAFailover signs in through a follower, stops
// the leader that made the session, and finds the session still good on
// the new leader.
func TestConsoleSessionSurvivesAFailover(t *testing.T) {
	ks := startReplicas(t)
	leader := leaderOf(t, ks)
	follower := (leader + 1) % 3
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		resp, err := c.Get(ks[follower].base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	_, form := get("/console/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if m == nil {
		t.Fatalf("no sign-in form: %s", form)
	}
	resp, err := c.PostForm(ks[follower].base+"/console/login", url.Values{"csrf": {m[1]}, "token": {adminToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, _ := get("/console"); resp.StatusCode != http.StatusSeeOther || code != http.StatusOK {
		t.Fatalf("sign-in %d, then the console %d", resp.StatusCode, code)
	}
	ks[leader].stop()
	waitUntil(t, "a new leader", func() bool {
		st := clusterStatus(t, ks[follower])
		return st.Leader != "" && st.Leader != fmt.Sprintf("n%d", leader)
	})
	var code int
	waitUntil(t, "the console answers through the new leader", func() bool {
		code, _ = get("/console")
		return code != http.StatusServiceUnavailable && code != http.StatusBadGateway
	})
	if code != http.StatusOK {
		t.Errorf("the console after the failover: %d, want 200 (signed in still)", code)
	}
	for i, k := range ks {
		if i != leader {
			k.stop()
		}
	}
}

func TestClusterStatusWithoutQuorum(t *testing.T) {
	peers := `"peers":[{"id":"a","raft_address":"h:1","suffrage":"Voter"},{"id":"b","raft_address":"h:2","suffrage":"Voter"},{"id":"c","raft_address":"h:3","suffrage":"Voter"}]`
	for _, tc := range []struct {
		name, answer string
		args         []string
		code         int
		want, not    string
	}{
		{"serving", `{"node":"a","state":"leader","leader":"a",` + peers + `}`, nil, 0, "node a: leader", "NOT SERVING"},
		{"no quorum", `{"node":"a","state":"candidate","term":9,"problem":"no quorum: election in progress (term 9)",` + peers + `}`, nil, exitNotServing,
			"NOT SERVING: no quorum: election in progress (term 9).\nThis node answers ingest and API requests with 503 and Retry-After", ""},
		{"majority named", `{"node":"a","state":"follower","problem":"no leader",` + peers + `}`, nil, exitNotServing, "A leader needs 2 of the 3 voters above", ""},
		{"json too", `{"node":"a","state":"follower","problem":"no leader",` + peers + `}`, []string{"-o", "json"}, exitNotServing, `"problem":"no leader"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tc.answer)
			}))
			defer srv.Close()
			t.Setenv("KLAXON_TOKEN", "")
			var out, errOut strings.Builder
			code := runClusterStatus(append([]string{"--klaxon.url", srv.URL}, tc.args...), &out, &errOut)
			if code != tc.code || !strings.Contains(out.String(), tc.want) || (tc.not != "" && strings.Contains(out.String(), tc.not)) {
				t.Errorf("exit %d (want %d), output:\n%s%s\nwant it to contain %q", code, tc.code, out.String(), errOut.String(), tc.want)
			}
		})
	}
}

// TestReplayOnAReplica replays a replica's data directory: while the
// replica runs it is refused with what to do, once stopped it is read, with
// a note on the uncommitted tail a node without quorum may hold.
func TestReplayOnAReplica(t *testing.T) {
	ks, dirs := startReplicasIn(t)
	postAlert(t, ks[leaderOf(t, ks)], "Replayed")
	for i, k := range ks {
		waitUntil(t, fmt.Sprintf("replica %d applies the alert", i), func() bool { return activeAlerts(t, k) == "1" })
	}
	data := filepath.Join(dirs[0], "data")
	args := []string{"--rules", "../../configs/rules/*.yml", "--from", "1h", "--data", data}
	var out, errOut strings.Builder
	if code := runReplay(args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "stop Klaxon or copy the directory first") {
		t.Errorf("replay of a running replica: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, k := range ks {
		k.stop()
	}
	out.Reset()
	errOut.Reset()
	if code := runReplay(args, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), replicaNote+"\n") ||
		!strings.Contains(out.String(), "entries replayed") {
		t.Errorf("replay of a stopped replica: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
