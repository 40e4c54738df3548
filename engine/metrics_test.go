package engine

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// lifecycleMetrics are the metrics labelled by severity and service.
var lifecycleMetrics = []string{
	"klaxon_incidents_open",
	"klaxon_incident_time_to_acknowledge_seconds",
	"klaxon_incident_time_to_resolve_seconds",
}

// TestIncidentMetricsBySeverityAndService opens a SEV1 incident of a
// catalogue service, and SEV3 ones of a service outside the catalogue and of
// none; acknowledges the first after 2m and resolves the second after 5m.
// The open gauge counts them by severity and service (every pair present),
// and the histograms observe each under its severity and service.
func TestIncidentMetricsBySeverityAndService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		eng, j := openMemory(Options{Registerer: reg})
		defer j.Close()
		if _, err := eng.SetRules(context.Background(), lifecycleRules); err != nil {
			t.Fatal(err)
		}
		submit(t, eng, alert(signal.StatusFiring, "alertname", "Down", "service", "api", "severity", "critical"))
		submit(t, eng, alert(signal.StatusFiring, "alertname", "Slow", "service", "web"))
		submit(t, eng, alert(signal.StatusFiring, "alertname", "DiskFull"))
		time.Sleep(2 * time.Minute)
		act(t, eng, triage.Action{Kind: triage.ActionAck, Incident: "INC-1", By: "ann"})
		time.Sleep(3 * time.Minute)
		act(t, eng, triage.Action{Kind: triage.ActionResolve, Incident: "INC-2", By: "ann"})
		compareGolden(t, reg, "testdata/lifecycle_metrics.golden", lifecycleMetrics...)
	})
}

// compareGolden compares the named metrics in reg with a golden exposition
// file, or rewrites it under -update.
func compareGolden(t *testing.T, reg *prometheus.Registry, golden string, names ...string) {
	t.Helper()
	if *update {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for _, mf := range mfs {
			if slices.Contains(names, mf.GetName()) {
				if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.WriteFile(filepath.FromSlash(golden), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(filepath.FromSlash(golden))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.GatherAndCompare(reg, f, names...); err != nil {
		t.Error(err)
	}
}

// openWith returns an engine under the default rules holding open incidents
// open, then resolved ones, one alert each.
func openWith(tb testing.TB, reg prometheus.Registerer, open, resolved int) *Engine {
	tb.Helper()
	state := triage.New(nil)
	eng := New(journal.NewMemory(state, nil), state, Options{Registerer: reg})
	ctx := context.Background()
	for i := 0; i < open+resolved; i += 500 {
		if _, err := eng.Submit(ctx, numbered(signal.SourceAlertmanager, i, min(500, open+resolved-i))); err != nil {
			tb.Fatal(err)
		}
	}
	for n := range resolved {
		key := fmt.Sprintf("INC-%d", n+1)
		if err := eng.Act(ctx, triage.Action{Kind: triage.ActionResolve, Incident: key, By: "bench"}); err != nil {
			tb.Fatal(err)
		}
	}
	return eng
}

// TestOpenGaugeCountsEveryPage checks that the open gauge pages through more
// incidents than one page of the state's list holds.
func TestOpenGaugeCountsEveryPage(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	eng := openWith(t, reg, 2500, 700)
	if n := eng.State().OpenCount(); n != 2500 {
		t.Fatalf("%d open incidents, want 2500", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "klaxon_incidents_open" {
			for _, m := range mf.GetMetric() {
				total += m.GetGauge().GetValue()
			}
		}
	}
	if total != 2500 {
		t.Errorf("klaxon_incidents_open sums to %v, want 2500", total)
	}
}

// BenchmarkOpenGauge measures a scrape of klaxon_incidents_open over 10,000
// open incidents and 10,000 resolved ones still in the live state.
func BenchmarkOpenGauge(b *testing.B) {
	eng := openWith(b, nil, 10_000, 10_000)
	o := openIncidents{eng.State()}
	b.ReportAllocs()
	for b.Loop() {
		if len(o.count()) == 0 {
			b.Fatal("nothing counted")
		}
	}
}
