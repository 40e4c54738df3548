package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Shape of the load TestKill9KeepsAcknowledgedAlerts sends.
const (
	crashRounds  = 2
	crashWorkers = 8
	crashBatch   = 5
	// Enough services that each incident keeps its alerts well under the
	// 1000 signals an incident read returns.
	crashServices = 20
	// SIGKILL comes once this many alerts of a round are acknowledged...
	crashKillAfter = 4000
	// ...or after this long, whichever is first.
	crashMaxLoad = 20 * time.Second
)

// TestKill9KeepsAcknowledgedAlerts sends many distinct alerts concurrently,
// kills Klaxon with SIGKILL in the middle of it, restarts it on the same data
// and checks that every alert answered 2xx is there, in one open incident per
// service; twice, so that the second round recovers a recovered journal.
func TestKill9KeepsAcknowledgedAlerts(t *testing.T) {
	k := startKlaxon(t)
	want := map[string][]alert{}
	for round := range crashRounds {
		acked := loadThenKill9(t, k, round)
		k.start()
		for _, a := range acked {
			want[a.Labels["service"]] = append(want[a.Labels["service"]], a)
		}
		for service, alerts := range want {
			// Small pages, to walk the cursor too.
			list := k.mustIncidents(url.Values{"service": {service}, "limit": {"1"}})
			if len(list) != 1 {
				t.Errorf("round %d: service %s: %d incidents after the restart, want 1: %+v", round, service, len(list), list)
				continue
			}
			inc := k.mustIncident(list[0].Key)
			if inc.Status != "triggered" {
				t.Errorf("round %d: %s: status %q, want triggered", round, inc.Key, inc.Status)
			}
			if err := holdsAll(inc, alerts); err != nil {
				t.Errorf("round %d: %s (service %s): %v", round, inc.Key, service, err)
			}
		}
		if open := k.mustIncidents(url.Values{"status": {"open"}, "limit": {"7"}}); len(open) != len(want) {
			t.Errorf("round %d: %d open incidents after the restart, want %d (one per service): %+v", round, len(open), len(want), open)
		}
		if t.Failed() {
			return
		}
	}
}

// loadThenKill9 posts batches of new alerts from concurrent workers to k,
// SIGKILLs k while they are at it, and returns the alerts answered 2xx.
func loadThenKill9(t *testing.T, k *klaxon, round int) []alert {
	t.Helper()
	var (
		mu      sync.Mutex
		acked   []alert
		failed  int
		killing = make(chan struct{})
		wg      sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	start := time.Now().UTC().Truncate(time.Second)
	for w := range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for req := 0; ctx.Err() == nil; req++ {
				batch := make([]alert, crashBatch)
				for i := range batch {
					n := req*crashBatch + i
					batch[i] = alert{
						Labels: map[string]string{
							"alertname": "CrashLoad",
							"service":   fmt.Sprintf("crash-%d", (w+n)%crashServices),
							"instance":  fmt.Sprintf("round%d-w%d-r%d-a%d", round, w, req, i),
						},
						StartsAt: start,
					}
				}
				status, _, err := k.do("POST", "/ingest/alertmanager", alertmanagerToken, webhookPayload(batch))
				mu.Lock()
				if err == nil && status >= 200 && status < 300 {
					acked = append(acked, batch...)
				} else {
					failed++
				}
				mu.Unlock()
				if err != nil {
					select {
					case <-killing:
						return // Klaxon is gone: stop at the first refused request.
					default:
						t.Errorf("round %d, worker %d, before the kill: %v", round, w, err)
						return
					}
				}
			}
		}()
	}

	deadline := time.Now().Add(crashMaxLoad)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= crashKillAfter || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(killing)
	k.kill9()
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if len(acked) == 0 {
		t.Fatalf("round %d: no request was acknowledged in %s before the kill (%d failed)", round, crashMaxLoad, failed)
	}
	t.Logf("round %d: SIGKILL after %d acknowledged alerts; %d requests failed or were cut off", round, len(acked), failed)
	return acked
}

// holdsAll checks that inc lists every alert as a firing signal, each once,
// with the fingerprint Alertmanager gives it.
func holdsAll(inc incidentDetail, alerts []alert) error {
	if inc.SignalsTotal != len(inc.Signals) {
		return fmt.Errorf("the read returned %d of %d signals: cannot check them all", len(inc.Signals), inc.SignalsTotal)
	}
	seen := map[string]incidentSignal{}
	for _, s := range inc.Signals {
		id := identity(s.Labels)
		if _, dup := seen[id]; dup {
			return fmt.Errorf("signal %s listed twice", id)
		}
		seen[id] = s
	}
	missing := 0
	var example string
	for _, a := range alerts {
		s, ok := seen[identity(a.Labels)]
		if !ok {
			if missing == 0 {
				example = identity(a.Labels)
			}
			missing++
			continue
		}
		if s.Status != "firing" {
			return fmt.Errorf("signal %s is %s, want firing", identity(a.Labels), s.Status)
		}
	}
	if missing > 0 {
		return fmt.Errorf("%d of %d acknowledged alerts lost (e.g. %s); %d signals listed, alerts %+v",
			missing, len(alerts), example, len(inc.Signals), inc.Alerts)
	}
	if inc.Alerts.Firing < len(alerts) {
		return fmt.Errorf("alerts %+v, want at least %d firing", inc.Alerts, len(alerts))
	}
	return nil
}

// TestGracefulRestart stops Klaxon with SIGTERM (exit 0) and checks that
// the restarted Klaxon shows the same incidents, signals and acks, and goes
// on numbering and grouping where it left off.
func TestGracefulRestart(t *testing.T) {
	t.Parallel()
	k := startKlaxon(t)

	web := newAlerts("QueueBacklog", "graceful-queue", 4)
	k.postWebhook(web)
	api := newAlerts("Unreachable", "graceful-edge", 2)
	k.postV2(api)
	queue := k.oneIncident("graceful-queue", func(inc incidentDetail) error { return sameSignals(inc, web, "firing") })
	edge := k.oneIncident("graceful-edge", func(inc incidentDetail) error { return sameSignals(inc, api, "firing") })
	if status, body := k.act(queue.Key, "ack", adminToken, "alice"); status != http.StatusOK {
		t.Fatalf("ack %s: status %d; body: %s", queue.Key, status, body)
	}
	before := map[string]incidentDetail{}
	for _, key := range []string{queue.Key, edge.Key} {
		before[key] = k.mustIncident(key)
	}

	if code := k.stop(); code != 0 {
		t.Fatalf("klaxon exited with code %d after SIGTERM, want 0", code)
	}
	k.start()

	if all := k.mustIncidents(nil); len(all) != 2 {
		t.Errorf("%d incidents after the restart, want 2: %+v", len(all), all)
	}
	for key, old := range before {
		inc := k.mustIncident(key)
		if inc.Status != old.Status || inc.Service != old.Service || inc.Severity != old.Severity || inc.Alerts != old.Alerts {
			t.Errorf("%s changed across the restart:\n before %+v\n after  %+v", key, old.incident, inc.incident)
		}
		if identities(inc.Signals) != identities(old.Signals) {
			t.Errorf("%s: signals changed across the restart:\n before %s\n after  %s", key, identities(old.Signals), identities(inc.Signals))
		}
		if len(inc.Timeline) < len(old.Timeline) {
			t.Errorf("%s: timeline shrank from %d to %d entries", key, len(old.Timeline), len(inc.Timeline))
		}
	}
	if inc := k.mustIncident(queue.Key); inc.Status != "acknowledged" {
		t.Errorf("%s: status %q after the restart, want acknowledged", queue.Key, inc.Status)
	}

	// New alerts join the existing incident; a new service gets a new key.
	more := newAlerts("QueueBacklog", "graceful-queue", 6)[4:]
	k.postWebhook(more)
	k.oneIncident("graceful-queue", func(inc incidentDetail) error {
		if inc.Key != queue.Key {
			return fmt.Errorf("new alerts went to %s, not %s", inc.Key, queue.Key)
		}
		return sameSignals(inc, append(append([]alert{}, web...), more...), "firing")
	})
	fresh := newAlerts("Fresh", "graceful-new", 1)
	k.postWebhook(fresh)
	inc := k.oneIncident("graceful-new", func(incidentDetail) error { return nil })
	if _, reused := before[inc.Key]; reused {
		t.Errorf("new incident after the restart reused key %s", inc.Key)
	}
}

// identities lists signals' label sets in a comparable, order-free form.
func identities(signals []incidentSignal) string {
	ids := map[string]string{}
	for _, s := range signals {
		ids[identity(s.Labels)] = s.Status
	}
	return fmt.Sprint(ids)
}
