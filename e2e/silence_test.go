package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// amtoolBin is Alertmanager's command-line client, from Debian's
// prometheus-alertmanager package (scripts/install-deps.sh installs it).
const amtoolBin = "/usr/bin/amtool"

// amtool runs the real amtool against k with the admin token, as an operator
// would, and returns its standard output; it fails the test if amtool fails.
type amtool struct {
	t        *testing.T
	k        *klaxon
	httpConf string
}

func newAmtool(t *testing.T, k *klaxon) *amtool {
	t.Helper()
	requireBinary(t, amtoolBin)
	conf := filepath.Join(t.TempDir(), "amtool-http.yml")
	if err := os.WriteFile(conf, []byte("authorization:\n  credentials: "+adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &amtool{t: t, k: k, httpConf: conf}
}

func (a *amtool) run(args ...string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	full := append([]string{"--alertmanager.url=" + a.k.url, "--http.config.file=" + a.httpConf}, args...)
	cmd := exec.CommandContext(ctx, amtoolBin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		a.t.Fatalf("amtool %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// querySilences is `amtool silence query -o json` with extra arguments.
func (a *amtool) querySilences(args ...string) []amSilence {
	a.t.Helper()
	out := a.run(append([]string{"-o", "json", "silence", "query"}, args...)...)
	var list []amSilence
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		a.t.Fatalf("amtool silence query %v: %v\n%s", args, err, out)
	}
	return list
}

// amSilence is what amtool prints of a silence with -o json.
type amSilence struct {
	ID     string `json:"id"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
	Comment  string `json:"comment"`
	Matchers []struct {
		Name    string `json:"name"`
		Value   string `json:"value"`
		IsRegex bool   `json:"isRegex"`
	} `json:"matchers"`
}

func silenceIDs(list []amSilence) []string {
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

// silencedSignals is what the incident detail shows of each signal's silences.
type silencedSignals struct {
	Signals []struct {
		Labels     map[string]string `json:"labels"`
		Status     string            `json:"status"` // effective: firing or resolved
		SilencedBy []string          `json:"silencedBy"`
	} `json:"signals"`
	Timeline []timelineEntry `json:"timeline"`
}

func (k *klaxon) silencedSignals(key string) silencedSignals {
	k.t.Helper()
	var d silencedSignals
	data := k.mustDo("GET", "/api/v1/incidents/"+url.PathEscape(key), adminToken, nil, 200)
	if err := json.Unmarshal(data, &d); err != nil {
		k.t.Fatalf("incident %s: %v", key, err)
	}
	return d
}

// An operator silences an alert with amtool against Klaxon: the silence
// survives kill -9, the alerts it matches are still recorded on their
// incident and shown silenced, and expiring it with amtool ends that.
func TestAmtoolSilences(t *testing.T) {
	k := startKlaxon(t)
	am := newAmtool(t, k)

	id := strings.TrimSpace(am.run("silence", "add", "alertname=DiskSwap", "--comment=e2e maintenance",
		"--duration=1h", "--author=e2e"))
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("amtool silence add printed %q, not a silence ID", id)
	}
	table := am.run("silence", "query")
	if !strings.Contains(table, id) || !strings.Contains(table, `alertname="DiskSwap"`) || !strings.Contains(table, "e2e maintenance") {
		t.Fatalf("amtool silence query does not list the silence:\n%s", table)
	}
	if got := silenceIDs(am.querySilences("alertname=DiskSwap")); !slices.Equal(got, []string{id}) {
		t.Errorf("query alertname=DiskSwap: %v, want [%s]", got, id)
	}
	if got := silenceIDs(am.querySilences("alertname=Other")); len(got) != 0 {
		t.Errorf("query alertname=Other: %v, want none", got)
	}

	// amtool's update reads the silence and posts it back changed: a new
	// comment keeps the ID (Alertmanager updates such a change in place).
	// (amtool 0.25's --quiet prints a pointer, not the ID: read its JSON.)
	var updated []amSilence
	out := am.run("-o", "json", "silence", "update", id, "--comment=e2e maintenance, longer")
	if err := json.Unmarshal([]byte(out), &updated); err != nil || len(updated) != 1 || updated[0].ID != id {
		t.Errorf("amtool silence update printed %s (%v), want the silence with the same ID %s", out, err, id)
	}

	k.kill9()
	k.start()
	list := am.querySilences()
	if len(list) != 1 || list[0].ID != id || list[0].Status.State != "active" || list[0].Comment != "e2e maintenance, longer" {
		t.Fatalf("after kill -9 and restart: %+v", list)
	}

	alerts := newAlerts("DiskSwap", "silenced-db", 2)
	k.postV2(alerts)
	inc := k.oneIncident("silenced-db", func(inc incidentDetail) error {
		if inc.Alerts.Firing != 2 || inc.SignalsTotal != 2 {
			return fmt.Errorf("alerts %+v, want 2 firing", inc.Alerts)
		}
		return nil
	})
	for _, sig := range k.silencedSignals(inc.Key).Signals {
		if sig.Status != "firing" || !slices.Equal(sig.SilencedBy, []string{id}) {
			t.Errorf("signal %v: status %s silencedBy %v, want firing and silenced by %s", sig.Labels, sig.Status, sig.SilencedBy, id)
		}
	}

	am.run("silence", "expire", id)
	if got := am.querySilences(); len(got) != 0 {
		t.Errorf("after expiry amtool still lists active silences: %+v", got)
	}
	if got := am.querySilences("--expired"); len(got) != 1 || got[0].ID != id || got[0].Status.State != "expired" {
		t.Errorf("amtool silence query --expired: %+v, want %s expired", got, id)
	}
	d := k.silencedSignals(inc.Key)
	for _, sig := range d.Signals {
		if sig.Status != "firing" || len(sig.SilencedBy) != 0 {
			t.Errorf("after expiry, signal %v: status %s silencedBy %v", sig.Labels, sig.Status, sig.SilencedBy)
		}
	}
	if !slices.ContainsFunc(d.Timeline, func(e timelineEntry) bool {
		return e.Kind == "unsilenced" && strings.Contains(e.Message, id)
	}) {
		t.Errorf("timeline does not record the silence's expiry: %+v", d.Timeline)
	}
}
