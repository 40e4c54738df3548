package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/e2e/netproxy"
)

// The cluster proof: three klaxon processes under continuous ingest and
// under clients acknowledging, resolving and reading incidents on random
// nodes. TestCluster kills the leader with SIGKILL: everything answered
// 2xx is on both survivors, a new leader serves, and every escalation step
// is paged once or twice under one dedup key, never not at all (the page
// the kill cut off, twice). The killed node comes back and catches up. A
// follower is slowed, then cut off: cut off, it answers 503 with
// Retry-After and pages nobody while the majority goes on, and it catches
// up when the links heal. TestClusterSnapshotCatchUp cuts the leader off
// until only a snapshot can bring it back. The clients' history must be
// linearizable throughout.
//
// Nothing here waits on the clock but the escalation steps themselves:
// failover time is logged (bench/cluster.sh measures it), and only bounded
// by the generous failoverBound.

// Escalation of the drill incidents: p1 at once, p2 after stepAfter, p3
// after stepAfter more; the last step waits long enough that the fallback
// is never paged while the test runs.
const stepAfter = 10 * time.Second

// failoverBound is how long a new leader may take to serve after the old
// one is killed: the issue asks for 5 s, which the test logs and
// bench/cluster.sh measures; the assertion leaves room for a loaded machine.
const failoverBound = 30 * time.Second

// Snapshots of the test clusters: every 64 entries (storage.snapshot_every,
// which a replica takes as raft's snapshot threshold), checked for every
// second, with 32 entries kept behind each, so that a follower cut off for a
// few seconds of load falls behind the leader's log and is sent a snapshot.
const (
	snapshotEvery    = 64
	snapshotInterval = "1s"
	trailingLogs     = 32
)

// catchupGap is how many entries a cut-off follower falls behind the
// leader before the links heal.
const catchupGap = 400

// minAckedPerPhase is how much load each phase sees answered 2xx before and
// after the fault, so that the fault lands under load.
const minAckedPerPhase = 200

// drillOnCall pages p1 at once, p2 after stepAfter, p3 after stepAfter more.
var drillOnCall = oncallSetup{
	People: []string{"p1", "p2", "p3"},
	Steps: []oncallStep{
		{After: stepAfter.String(), People: []string{"p1"}},
		{After: stepAfter.String(), People: []string{"p2"}},
		{After: "1h", People: []string{"p3"}},
	},
}

func TestCluster(t *testing.T) {
	// p1's first page hangs until its sender dies: the old leader's
	// delivery of it is cut off by the kill, so the new leader must take
	// the intent over and send it again.
	c := newCluster(t, clusterOptions{OnCall: &drillOnCall, Answers: map[string]answer{"p1": hangFirst()}})
	c.start()
	lin := c.startLinearizability(c.leader())

	killed := c.killLeaderUnderLoad()
	c.restart(killed)
	if t.Failed() {
		lin.stop()
		t.FailNow()
	}
	c.slowFollowerUnderLoad()
	c.cutUnderLoad(cutPlan{})
	lin.check(t)
}

// TestClusterSnapshotCatchUp cuts the leader off: it steps down, answers
// 503 and pages nobody, while the other two elect a leader and go on until
// that one has compacted its log past the old leader's last entry. Healed,
// the old leader can only catch up from the new one's snapshot. The replicas snapshot often
// and keep few entries behind a snapshot (the cluster section's
// snapshot_interval and trailing_logs).
func TestClusterSnapshotCatchUp(t *testing.T) {
	c := newCluster(t, clusterOptions{
		OnCall:  &drillOnCall,
		Storage: map[string]int64{"snapshot_every": snapshotEvery},
		Raft:    map[string]string{"snapshot_interval": snapshotInterval, "trailing_logs": fmt.Sprint(trailingLogs)},
	})
	c.start()
	lin := c.startLinearizability(c.leader())
	c.cutUnderLoad(cutPlan{leader: true, bySnapshot: true})
	lin.check(t)
}

// killLeaderUnderLoad is the failover proof; it returns the killed node.
func (c *cluster) killLeaderUnderLoad() *clusterNode {
	t := c.t
	t.Helper()
	load := c.startLoad("kill")
	old := c.leader()
	drill := c.openDrill(old, "FailoverDrill", "failover")
	c.recv.waitPages("p1", 1) // and its answer hangs until the kill
	load.waitAcked(minAckedPerPhase)

	killedAt := time.Now()
	old.kill9()
	t.Logf("killed leader %s (SIGKILL) with %d alerts acknowledged", old.id, len(load.ackedAlerts()))
	survivors := c.others(old)
	newLeader := c.serving(survivors, killedAt)
	if newLeader == old {
		t.Fatalf("the killed node %s is still named leader", old.id)
	}
	before := len(load.ackedAlerts())
	load.waitAcked(before + minAckedPerPhase)
	load.stop()
	load.report()
	// Every node answers reads from the leader, so the listing below sees
	// the leader's state; that each survivor holds the same is what its
	// own applied index says, once it reaches the leader's commit index
	// taken after the last acknowledgement.
	for _, n := range survivors {
		c.caughtUp(newLeader, n)
	}
	c.sameOpenIncidents(newLeader, survivors...)
	load.holdsAcked(survivors...)

	for step, person := range []string{"p1", "p2", "p3"} {
		c.pagedOnceOrTwice(person, drill, step)
	}
	c.recv.waitPages("p1", 2)
	p1 := c.recv.pages("p1")
	if len(p1) != 2 || p1[0].ExternalURL != old.url || p1[1].ExternalURL != newLeader.url {
		senders := make([]string, len(p1))
		for i, p := range p1 {
			senders[i] = p.ExternalURL
		}
		t.Errorf("p1's page, cut off by the kill, was sent by %v; want by the old leader %s, then once by the new one %s",
			senders, old.url, newLeader.url)
	}
	if status, body := newLeader.act(drill, "ack", adminToken, "e2e-oncall"); status != http.StatusOK {
		t.Errorf("ack %s on %s: status %d; body %s", drill, newLeader.id, status, body)
	}
	return old
}

// serving waits until one of nodes leads and takes an alert, and logs how
// long after since that was.
func (c *cluster) serving(nodes []*clusterNode, since time.Time) *clusterNode {
	c.t.Helper()
	var leader *clusterNode
	probe := 0
	eventually(c.t, failoverBound, "a new leader takes alerts", func() error {
		l, err := c.agreedLeader(nodes)
		if err != nil {
			return err
		}
		probe++
		a := alert{Labels: map[string]string{"alertname": "FailoverProbe", "service": "probe", "instance": fmt.Sprint(probe)}, StartsAt: time.Now().UTC()}
		status, body, err := l.do("POST", "/ingest/alertmanager", alertmanagerToken, webhookPayload([]alert{a}))
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("%s answers %d to an alert: %s", l.id, status, body)
		}
		leader = l
		return nil
	})
	c.t.Logf("new leader %s took an alert %s after the kill (the issue asks for 5s; bench/cluster.sh measures it)", leader.id, time.Since(since).Round(time.Millisecond))
	return leader
}

// restart starts a killed node again and checks it rejoins: ready, a
// follower of the leader the others agree on, caught up with it.
func (c *cluster) restart(n *clusterNode) {
	c.t.Helper()
	n.launch()
	n.waitReady()
	leader := c.leader()
	c.caughtUp(leader, n)
	if leader == n {
		c.t.Logf("%s rejoined and leads again", n.id)
		return
	}
	s, err := n.status()
	if err != nil {
		c.t.Fatal(err)
	}
	if s.State != "follower" || s.Leader != leader.id {
		c.t.Errorf("%s after the restart: state %q, leader %q; want follower of %s", n.id, s.State, s.Leader, leader.id)
	}
	cmd := exec.Command(klaxonBin, "cluster", "status", "--klaxon.url", n.url)
	cmd.Env = append(os.Environ(), "KLAXON_TOKEN="+adminToken)
	out, err := cmd.CombinedOutput()
	if want := fmt.Sprintf("node %s: follower, term %d, leader %s,", n.id, s.Term, leader.id); err != nil || !strings.Contains(string(out), want) {
		c.t.Errorf("klaxon cluster status on %s: %v; output %q, want it to say %q", n.id, err, out, want)
	}
	c.t.Logf("%s rejoined as a follower of %s at index %d", n.id, leader.id, s.AppliedIndex)
}

// slowDelay is what a slow follower's links hold each byte for, each way.
const slowDelay = 150 * time.Millisecond

// slowFollowerUnderLoad delays every link of a follower: the majority the
// leader needs is still there without it, so ingest goes on, and once the
// delay ends the follower catches up.
func (c *cluster) slowFollowerUnderLoad() {
	c.t.Helper()
	leader := c.leader()
	slow := c.others(leader)[0]
	load := c.startLoad("slow")
	c.eachLinkOf(slow, func(l *netproxy.Link) { l.Delay(slowDelay) })
	c.t.Logf("%s's links delayed by %s each way", slow.id, slowDelay)
	load.waitAcked(2 * minAckedPerPhase)
	c.eachLinkOf(slow, func(l *netproxy.Link) { l.Delay(0) })
	load.stop()
	load.report()
	leader = c.leader()
	for _, n := range c.nodes {
		c.caughtUp(leader, n)
	}
	c.sameOpenIncidents(leader, c.nodes...)
	load.holdsAcked(c.nodes...)
}

// cutPlan says which node the partition proof cuts off, and for how long.
type cutPlan struct {
	leader     bool // cut the leader off, else a follower
	bySnapshot bool // keep it cut off until only a snapshot can bring it back
}

// cutUnderLoad is the partition proof.
func (c *cluster) cutUnderLoad(plan cutPlan) {
	t := c.t
	t.Helper()
	leader := c.leader()
	cut := c.others(leader)[0]
	if plan.leader {
		cut = leader
	}
	load := c.startLoad("cut")
	load.waitAcked(minAckedPerPhase)

	c.isolate(cut)
	eventually(t, waitTimeout, cut.id+" knows it is cut off", func() error {
		code, body, err := cut.ready()
		if err != nil {
			return err
		}
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "no quorum") && !strings.Contains(body, "no leader") {
			return fmt.Errorf("GET /-/ready: %d %q, want 503 no quorum or no leader", code, body)
		}
		return nil
	})
	// A leader cut off may page until it steps down, as it leads until
	// then; from here on it must page nobody.
	paged := c.recv.pagesFrom(cut.url)
	c.refusesIngest(cut)
	if l := c.leaderAmong(c.others(cut)); l != leader {
		t.Logf("leadership moved from %s to %s while %s was cut off", leader.id, l.id, cut.id)
		leader = l
	}
	drill := c.openDrill(leader, "PartitionDrill", "partition")
	c.pagedOnceOrTwice("p1", drill, 0)
	c.fallsBehind(leader, cut, catchupGap, plan.bySnapshot)
	c.refusesIngest(cut)
	if got := c.recv.pagesFrom(cut.url) - paged; got != 0 {
		t.Errorf("%s paged %d times while cut off from the majority", cut.id, got)
	}

	c.heal(cut)
	cut.waitReady()
	c.caughtUp(leader, cut) // from a snapshot if plan.bySnapshot: fallsBehind saw to that
	if snap, err := cut.metric("klaxon_raft_last_snapshot_index"); err != nil {
		t.Error(err)
	} else {
		t.Logf("%s caught up; its newest snapshot is at %d", cut.id, snap)
	}
	load.stop()
	load.report()
	for _, n := range c.nodes {
		c.caughtUp(leader, n)
	}
	c.sameOpenIncidents(leader, c.nodes...)
	load.holdsAcked(c.nodes...)
}

// refusesIngest checks that n answers an alert with 503 and Retry-After.
func (c *cluster) refusesIngest(n *clusterNode) {
	c.t.Helper()
	a := alert{Labels: map[string]string{"alertname": "CutOff", "service": "cut-probe", "instance": n.id}, StartsAt: time.Now().UTC()}
	req, err := http.NewRequest("POST", n.url+"/ingest/alertmanager", bytesReader(webhookPayload([]alert{a})))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+alertmanagerToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		c.t.Fatalf("ingest on cut-off %s: %v", n.id, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		c.t.Errorf("ingest on cut-off %s: status %d, Retry-After %q; want 503 with Retry-After",
			n.id, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// fallsBehind waits until the leader has committed gap entries more than
// n has applied and, if pastLog, has compacted its log past the end of n's:
// then n can only catch up from a snapshot.
func (c *cluster) fallsBehind(leader, n *clusterNode, gap uint64, pastLog bool) {
	c.t.Helper()
	s, err := n.status()
	if err != nil {
		c.t.Fatal(err)
	}
	last, err := n.metric("klaxon_raft_last_log_index")
	if err != nil {
		c.t.Fatal(err)
	}
	eventually(c.t, waitTimeout, fmt.Sprintf("%s falls %d entries behind %s, past its compacted log", n.id, gap, leader.id), func() error {
		l, err := leader.status()
		if err != nil {
			return err
		}
		if l.CommitIndex < s.AppliedIndex+gap {
			return fmt.Errorf("leader at %d, %s at %d", l.CommitIndex, n.id, s.AppliedIndex)
		}
		if !pastLog {
			return nil
		}
		snap, err := leader.metric("klaxon_raft_last_snapshot_index")
		if err != nil {
			return err
		}
		// Taking a snapshot, the leader drops its log up to the snapshot
		// or trailingLogs back from its last entry, whichever is further
		// back; a snapshot more than trailingLogs past n's last entry
		// dropped the entry n needs next.
		if snap <= last+trailingLogs {
			return fmt.Errorf("leader's snapshot at %d; %s's last entry %d", snap, n.id, last)
		}
		c.t.Logf("%s's last entry is %d; the leader's snapshot is at %d, its log compacted past %d", n.id, last, snap, last)
		return nil
	})
}

// metric reads one gauge from n's /metrics, summed over its series. A node
// answers /metrics itself, from its own state, even as a follower.
func (n *clusterNode) metric(name string) (uint64, error) {
	code, data, err := n.do("GET", "/metrics", "", nil)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("%s: GET /metrics: status %d", n.id, code)
	}
	sum, found := 0.0, false
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (!strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, "{")) {
			continue
		}
		f, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: metric %s: %w", n.id, name, err)
		}
		sum, found = sum+f, true
	}
	if !found {
		return 0, fmt.Errorf("%s: no metric %s", n.id, name)
	}
	return uint64(sum), nil
}

// sameOpenIncidents checks each node's own state, which reads through the
// API do not show (a follower forwards them to the leader): every node
// counts as many open incidents (klaxon_incidents_open, from its state at
// scrape time) as the leader's API lists.
func (c *cluster) sameOpenIncidents(leader *clusterNode, nodes ...*clusterNode) {
	c.t.Helper()
	eventually(c.t, waitTimeout, "every replica holds the leader's open incidents", func() error {
		open, err := leader.incidents(url.Values{"status": {"open"}})
		if err != nil {
			return err
		}
		counts := map[string]uint64{}
		for _, n := range nodes {
			if counts[n.id], err = n.metric("klaxon_incidents_open"); err != nil {
				return err
			}
			if counts[n.id] != uint64(len(open)) {
				return fmt.Errorf("the API lists %d open incidents; the replicas count %v", len(open), counts)
			}
		}
		return nil
	})
}

// openDrill fires one drill alert through n and returns its SEV1 incident.
func (c *cluster) openDrill(n *clusterNode, alertname, service string) string {
	c.t.Helper()
	n.postWebhook([]alert{{Labels: map[string]string{"alertname": alertname, "instance": c.t.Name()}, StartsAt: time.Now().UTC().Truncate(time.Second)}})
	inc := n.oneIncident(service, func(inc incidentDetail) error {
		if inc.Severity != "SEV1" {
			return fmt.Errorf("severity %q, want SEV1", inc.Severity)
		}
		return nil
	})
	return inc.Key
}

// pagedOnceOrTwice waits for person's page of incident's escalation step
// (first round), then checks it came once, or twice (the old leader's and
// the new one's), never more, and always under the intent ID as groupKey.
func (c *cluster) pagedOnceOrTwice(person, incident string, step int) {
	c.t.Helper()
	groupKey := intentID(incident, 0, step, person)
	var got []pageRequest
	eventually(c.t, waitTimeout, person+"'s page "+groupKey, func() error {
		got = got[:0]
		for _, p := range c.recv.pages(person) {
			if len(p.Alerts) > 0 && p.Alerts[0].Labels["incident"] == incident {
				got = append(got, p)
			}
		}
		if len(got) == 0 {
			return fmt.Errorf("no page yet")
		}
		return nil
	})
	if len(got) > 2 {
		c.t.Errorf("%s got %d pages for %s, want one, or two across the failover", person, len(got), groupKey)
	}
	senders := map[string]int{}
	for _, p := range got {
		senders[p.ExternalURL]++
		if p.GroupKey != groupKey {
			c.t.Errorf("%s's page under groupKey %q, want %q: a receiver could not deduplicate it", person, p.GroupKey, groupKey)
		}
	}
	c.t.Logf("%s paged %d time(s) under %s, by %v", person, len(got), groupKey, senders)
}

// waitAcked waits until at least n alerts were answered 2xx.
func (l *clusterLoad) waitAcked(n int) {
	l.t.Helper()
	eventually(l.t, waitTimeout, fmt.Sprintf("%s load: %d alerts acknowledged", l.phase, n), func() error {
		if got := len(l.ackedAlerts()); got < n {
			return fmt.Errorf("%d so far", got)
		}
		return nil
	})
}
