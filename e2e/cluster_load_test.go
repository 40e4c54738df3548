package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/klaxonhq/klaxon/e2e/linearize"
)

// Shape of the ingest load the cluster tests keep up while they kill and
// cut nodes.
const (
	loadWorkers  = 4
	loadBatch    = 4
	loadPause    = 25 * time.Millisecond // between one worker's requests
	loadServices = 20
	// loadPerService bounds each service's alerts, so that one incident
	// read returns them all (the API returns at most 1000 signals).
	loadPerService = 900
)

// clusterLoad posts new alerts to random nodes from concurrent workers and
// records the ones answered 2xx; every answer but 2xx and 503 with
// Retry-After is counted as an error of its own.
type clusterLoad struct {
	t     *testing.T
	phase string
	c     *cluster
	stopF context.CancelFunc
	wg    sync.WaitGroup

	mu       sync.Mutex
	acked    []alert
	statuses map[int]int // answer status → count; 0 for no answer
	bad503   int         // 503s without Retry-After
}

// startLoad starts the workers; stop ends them.
func (c *cluster) startLoad(phase string) *clusterLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &clusterLoad{t: c.t, phase: phase, c: c, stopF: cancel, statuses: map[int]int{}}
	c.t.Cleanup(l.stop)
	start := time.Now().UTC().Truncate(time.Second)
	for w := range loadWorkers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.work(ctx, w, start)
		}()
	}
	return l
}

func (l *clusterLoad) work(ctx context.Context, w int, start time.Time) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
	limit := loadServices * loadPerService / loadWorkers / loadBatch
	for req := 0; req < limit && ctx.Err() == nil; req++ {
		batch := make([]alert, loadBatch)
		for i := range batch {
			n := req*loadBatch + i
			batch[i] = alert{
				Labels: map[string]string{
					"alertname": "ClusterLoad",
					"service":   fmt.Sprintf("%s-%d", l.phase, n%loadServices),
					"instance":  fmt.Sprintf("w%d-r%d-a%d", w, req, i),
				},
				StartsAt: start,
			}
		}
		n := l.c.nodes[rng.IntN(len(l.c.nodes))]
		l.post(ctx, n, batch)
		select {
		case <-ctx.Done():
		case <-time.After(loadPause):
		}
	}
}

// post sends one batch to n and records the answer.
func (l *clusterLoad) post(ctx context.Context, n *clusterNode, batch []alert) {
	req, err := http.NewRequestWithContext(ctx, "POST", n.url+"/ingest/alertmanager", bytesReader(webhookPayload(batch)))
	if err != nil {
		l.t.Error(err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+alertmanagerToken)
	resp, err := httpClient.Do(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
		resp.Body.Close()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.statuses[status]++
	switch {
	case status >= 200 && status < 300:
		l.acked = append(l.acked, batch...)
	case status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "":
		l.bad503++
	}
}

// stop ends the workers; calling it again does nothing.
func (l *clusterLoad) stop() {
	l.stopF()
	l.wg.Wait()
}

// ackedAlerts returns the alerts answered 2xx so far.
func (l *clusterLoad) ackedAlerts() []alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]alert(nil), l.acked...)
}

// report logs what the load got, and fails on a 503 without Retry-After.
func (l *clusterLoad) report() {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Logf("%s load: %d alerts answered 2xx; answers by status (0: none) %v", l.phase, len(l.acked), l.statuses)
	if l.bad503 > 0 {
		l.t.Errorf("%s load: %d answers 503 without Retry-After", l.phase, l.bad503)
	}
	if len(l.acked) == 0 {
		l.t.Errorf("%s load: nothing was answered 2xx", l.phase)
	}
}

// holdsAcked checks, on each of nodes, that every alert answered 2xx is in
// its service's one open incident.
func (l *clusterLoad) holdsAcked(nodes ...*clusterNode) {
	l.t.Helper()
	want := map[string][]alert{}
	for _, a := range l.ackedAlerts() {
		want[a.Labels["service"]] = append(want[a.Labels["service"]], a)
	}
	for _, n := range nodes {
		for service, alerts := range want {
			eventually(l.t, waitTimeout, fmt.Sprintf("%s holds the %d acknowledged alerts of %s", n.id, len(alerts), service), func() error {
				list, err := n.incidents(url.Values{"service": {service}})
				if err != nil {
					return err
				}
				if len(list) != 1 {
					return fmt.Errorf("%d incidents, want 1: %+v", len(list), list)
				}
				inc, err := n.incident(list[0].Key)
				if err != nil {
					return err
				}
				return holdsAll(inc, alerts)
			})
		}
	}
}

// Shape of the linearizability clients: each picks an incident and a node
// at random and acknowledges, resolves or reads.
const (
	linIncidents = 24
	linClients   = 3
	linPause     = 20 * time.Millisecond
)

// linWorkers runs the clients whose history is checked for linearizability.
type linWorkers struct {
	c     *cluster
	rec   *linearize.Recorder
	keys  []string
	stopF context.CancelFunc
	wg    sync.WaitGroup
}

// startLinearizability opens linIncidents incidents (one alert each, of
// services that page nobody) and starts the clients.
func (c *cluster) startLinearizability(via *clusterNode) *linWorkers {
	c.t.Helper()
	alerts := make([]alert, linIncidents)
	start := time.Now().UTC().Truncate(time.Second)
	for i := range alerts {
		alerts[i] = alert{Labels: map[string]string{"alertname": "LinDrill", "service": fmt.Sprintf("lin-%d", i)}, StartsAt: start}
	}
	via.postWebhook(alerts)
	var keys []string
	for i := range alerts {
		inc := via.oneIncident(fmt.Sprintf("lin-%d", i), func(inc incidentDetail) error {
			if inc.Status != linearize.Triggered {
				return stopErr(fmt.Errorf("new incident is %s", inc.Status))
			}
			return nil
		})
		keys = append(keys, inc.Key)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &linWorkers{c: c, rec: linearize.NewRecorder(), keys: keys, stopF: cancel}
	c.t.Cleanup(w.stop)
	for client := range linClients {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.run(ctx, client)
		}()
	}
	return w
}

func (w *linWorkers) run(ctx context.Context, client int) {
	rng := rand.New(rand.NewPCG(uint64(client), uint64(time.Now().UnixNano())))
	for ctx.Err() == nil {
		key := w.keys[rng.IntN(len(w.keys))]
		n := w.c.nodes[rng.IntN(len(w.c.nodes))]
		kind := linearize.Read
		// Resolves are rare, so that most incidents stay open, and
		// acknowledgeable, for most of the run.
		switch r := rng.IntN(100); {
		case r < 15:
			kind = linearize.Ack
		case r < 16:
			kind = linearize.Resolve
		}
		w.do(ctx, client, n, key, kind)
		select {
		case <-ctx.Done():
		case <-time.After(linPause):
		}
	}
}

// do runs one operation and records it. An operation cut short by the
// test's end is recorded as unknown.
func (w *linWorkers) do(ctx context.Context, client int, n *clusterNode, key string, kind linearize.Kind) {
	p := w.rec.Invoke(client, linearize.Input{Incident: key, Kind: kind, Node: n.id})
	path := "/api/v1/incidents/" + url.PathEscape(key)
	method, body := "GET", []byte(nil)
	if kind != linearize.Read {
		method, path, body = "POST", path+"/"+string(kind), mustJSON(map[string]string{"by": fmt.Sprintf("client-%d", client)})
	}
	req, err := http.NewRequestWithContext(ctx, method, n.url+path, bytesReader(body))
	if err != nil {
		p.Return(linearize.Unknown)
		return
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		p.Return(transportOutcome(err))
		return
	}
	defer resp.Body.Close()
	var answer struct {
		Status string `json:"status"` // an incident's
		Error  string `json:"error"`  // an error's
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		answer.Status = "" // a read without a status says nothing
	}
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable && notForwarded(answer.Error):
		p.Return(linearize.Refused)
	case kind == linearize.Read:
		p.Return(linearize.ReadResult(resp.StatusCode, answer.Status))
	default:
		p.Return(linearize.ActionResult(resp.StatusCode))
	}
}

// transportOutcome is the outcome of a request that got no answer: refused
// if it never reached a node (the node is down), else unknown.
func transportOutcome(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return linearize.Refused
	}
	return linearize.Unknown
}

// notForwarded reports whether a 503's error says the request was refused
// before any leader saw it: a node that knew of no leader, a node that got
// a forwarded request and does not lead, or a leader that could not confirm
// it still leads before a read (cluster/http.go).
func notForwarded(msg string) bool {
	return strings.HasPrefix(msg, "no leader: election in progress") ||
		strings.Contains(msg, "forwarded this request here, and this node does not lead") ||
		strings.HasPrefix(msg, "no quorum: leadership not confirmed")
}

// stop ends the clients (idempotent).
func (w *linWorkers) stop() {
	w.stopF()
	w.wg.Wait()
}

// check stops the clients and fails the test if the history is not
// linearizable, leaving porcupine's view of it in the artifact directory.
func (w *linWorkers) check(t *testing.T) {
	t.Helper()
	w.stop()
	ops := w.rec.Operations()
	counts := map[string]int{}
	for _, op := range ops {
		in, out := op.Input.(linearize.Input), op.Output.(linearize.Output)
		counts[string(in.Kind)+"→"+out.Result]++
	}
	t.Logf("linearizability: %d operations on %d incidents: %v", len(ops), len(w.keys), counts)
	res := linearize.Check(ops, 2*time.Minute)
	switch res.Result {
	case porcupine.Ok:
		return
	case porcupine.Illegal:
		path, err := res.Visualize(artifactDir(t), "linearizability.html")
		if err != nil {
			t.Errorf("history is not linearizable (and its view could not be written: %v)", err)
			return
		}
		t.Errorf("history of %d operations is not linearizable; porcupine's view: %s", len(ops), path)
	default:
		t.Logf("the checker gave up on the history of %d operations within its time: no verdict", len(ops))
	}
}

// artifactDir is where a failing test leaves files worth keeping:
// $KLAXON_E2E_ARTIFACTS/<test> when set (CI collects it), else a directory
// under the system's temp dir that outlives the test.
func artifactDir(t *testing.T) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if dir := os.Getenv("KLAXON_E2E_ARTIFACTS"); dir != "" {
		return filepath.Join(dir, name)
	}
	return filepath.Join(os.TempDir(), "klaxon-e2e-artifacts", name)
}

// bytesReader is bytes.NewReader, or no body for nil.
func bytesReader(b []byte) io.Reader {
	if b == nil {
		return http.NoBody
	}
	return bytes.NewReader(b)
}
