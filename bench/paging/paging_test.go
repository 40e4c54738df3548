package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/ingest"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
)

// TestConfigLoads checks that the written rule and on-call files compile,
// with one service, policy and person per team.
func TestConfigLoads(t *testing.T) {
	for _, teams := range []int{1, 8} {
		dir := t.TempDir()
		if _, err := writeConfig(dir, "127.0.0.1:1", "http://127.0.0.1:2/page", teams); err != nil {
			t.Fatal(err)
		}
		rf, err := rules.Load(dir, []string{"rules/*.yml"})
		if err != nil {
			t.Fatalf("teams %d: load rules: %v", teams, err)
		}
		set, err := rules.Compile(rf)
		if err != nil {
			t.Fatalf("teams %d: compile rules: %v", teams, err)
		}
		for i := range teams {
			if svc := set.Service("svc-" + strconv.Itoa(i)); svc == nil || svc.EscalationPolicy != "oncall-"+strconv.Itoa(i) {
				t.Errorf("teams %d: service svc-%d = %+v, want policy oncall-%d", teams, i, svc, i)
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, "oncall", "bench.yml"))
		if err != nil {
			t.Fatal(err)
		}
		oc, err := oncall.Load([]oncall.File{{Name: "bench.yml", Data: data}})
		if err != nil {
			t.Fatalf("teams %d: load on-call: %v", teams, err)
		}
		if len(oc.People) != teams || len(oc.Policies) != teams {
			t.Errorf("teams %d: %d people, %d policies", teams, len(oc.People), len(oc.Policies))
		}
	}
}

// TestEncodeAlerts checks that Klaxon's own parser takes what the
// benchmark sends, labels as meant.
func TestEncodeAlerts(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	bg := background{Incidents: 5, Teams: 2, Batch: 4, NewEvery: 3, StartsAt: now.Add(-time.Minute)}
	tests := []struct {
		name   string
		alerts []alert
		want   []map[string]string // labels of each signal
	}{
		{"probe", []alert{probeAlert(7, 2, now)}, []map[string]string{
			{"alertname": alertName, "service": "svc-1", "shard": "probe-7", "instance": "i0"},
		}},
		{"open", []alert{openAlert(3, 2, now)}, []map[string]string{
			{"alertname": alertName, "service": "svc-1", "shard": "open-3", "instance": "i0"},
		}},
		{"background: re-sends, every third new", bg.batch(5), []map[string]string{
			{"alertname": alertName, "service": "svc-0", "shard": "open-0", "instance": "i0"},
			{"alertname": alertName, "service": "svc-1", "shard": "open-1", "instance": "bg-6"},
			{"alertname": alertName, "service": "svc-0", "shard": "open-2", "instance": "i0"},
			{"alertname": alertName, "service": "svc-1", "shard": "open-3", "instance": "i0"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.alerts {
				if tc.alerts[i].EndsAt.IsZero() {
					tc.alerts[i].EndsAt = now.Add(time.Hour)
				}
			}
			var buf bytes.Buffer
			encodeAlerts(&buf, tc.alerts)
			sigs, err := ingest.ParseAlertsV2(buf.Bytes(), now, ingest.Limits{})
			if err != nil {
				t.Fatalf("parse %s: %v", buf.String(), err)
			}
			if len(sigs) != len(tc.want) {
				t.Fatalf("%d signals, want %d", len(sigs), len(tc.want))
			}
			for i, s := range sigs {
				for k, v := range tc.want[i] {
					if s.Labels.Get(k) != v {
						t.Errorf("signal %d: %s=%q, want %q", i, k, s.Labels.Get(k), v)
					}
				}
			}
		})
	}
}

// TestReceiverMatchesProbes checks that pages are matched to probes by
// summary, the first arrival counting, and that a probe never paged or
// refused is counted apart.
func TestReceiverMatchesProbes(t *testing.T) {
	r := newReceiver()
	srv := httptest.NewServer(r)
	defer srv.Close()
	post := func(body string) int {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	page := func(key, summary string) string {
		return `{"groupKey":"` + key + `","alerts":[{"annotations":{"summary":"` + summary + `"}}]}`
	}
	tests := []struct {
		body string
		code int
	}{
		{page("INC-1/page/0/0/p0/0/p0-push", probeSummary(0)), http.StatusOK},
		{page("INC-2/page/0/0/p1/0/p1-push", probeSummary(1)), http.StatusOK},
		{page("INC-1/page/0/0/p0/0/p0-push", probeSummary(0)), http.StatusOK}, // sent again
		{`{"alerts":[]}`, http.StatusBadRequest},
		{`not json`, http.StatusBadRequest},
	}
	for _, tc := range tests {
		if code := post(tc.body); code != tc.code {
			t.Errorf("POST %s: %d, want %d", tc.body, code, tc.code)
		}
	}
	first, _ := r.lookup(probeSummary(0))
	if first.GroupKey != "INC-1/page/0/0/p0/0/p0-push" {
		t.Errorf("probe 0's page: %+v", first)
	}
	distinct, total, bad := r.counts()
	if distinct != 2 || total != 3 || bad != 2 {
		t.Errorf("counts: %d distinct, %d total, %d bad; want 2, 3, 2", distinct, total, bad)
	}
	accepted := first.At.Add(-time.Millisecond)
	sent := accepted.Add(-2 * time.Millisecond)
	probes := []probe{
		{N: 0, Sent: sent, Accepted: accepted}, {N: 1, Sent: sent, Accepted: accepted},
		{N: 2, Sent: sent, Accepted: accepted}, {N: 3, Sent: sent, Err: "status 503"},
	}
	lat, fromSend, unpaged := latencies(probes, r)
	if len(lat) != 2 || unpaged != 1 || !slices.Contains(lat, time.Millisecond) || !slices.Contains(fromSend, 3*time.Millisecond) {
		t.Errorf("latencies %v from 2xx, %v from send, %d unpaged; want 2 with probe 0's 1ms and 3ms, 1 unpaged", lat, fromSend, unpaged)
	}
}

// TestMeasure runs the whole benchmark, small, against a klaxon built from
// this tree: every incident and every probe is paged once, and the
// background pages nobody. It checks counts only, never times.
func TestMeasure(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs klaxon")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "klaxon")
	build := exec.Command("go", "build", "-o", bin, "./cmd/klaxon")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build klaxon: %v\n%s", err, out)
	}
	o := options{
		Klaxon: bin, Work: filepath.Join(t.TempDir(), "work"), Incidents: 300, Teams: 3,
		Rate: 1000, Batch: 20, Conns: 2, NewEvery: 4, ProbeRate: 20, Duration: 2 * time.Second,
		OpenWithin: time.Minute,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := measure(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Probes == 0 || rep.ProbesRefused != 0 || rep.ProbesUnpaged != 0 || rep.BackgroundFail != 0 {
		t.Errorf("report %+v: want every probe accepted and paged, no background failure", rep)
	}
	if want := o.Incidents + rep.Probes; rep.Pages != want {
		t.Errorf("%d pages, want %d (one per incident and per probe): the background paged, or a page went twice", rep.Pages, want)
	}
	if rep.BackgroundRate <= 0 {
		t.Errorf("background rate %v", rep.BackgroundRate)
	}
}
