package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/klaxonhq/klaxon/signal"
)

// numbered returns n firing alerts from src named first … first+n-1.
func numbered(src signal.Source, first, n int) []signal.Signal {
	sigs := make([]signal.Signal, n)
	for i := range sigs {
		sigs[i] = alert(signal.StatusFiring, "alertname", fmt.Sprint("A", first+i))
		sigs[i].Source = src
	}
	return sigs
}

func resolvedAll(sigs []signal.Signal) []signal.Signal {
	out := make([]signal.Signal, len(sigs))
	for i, s := range sigs {
		s.Status, s.EndsAt = signal.StatusResolved, time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
		out[i] = s
	}
	return out
}

// TestAdmission fills the state to its limits, then checks which batches
// pass: new alerts past a limit are refused whole and store nothing;
// re-sends and resolves of held alerts always pass.
func TestAdmission(t *testing.T) {
	am, prom := signal.SourceAlertmanager, signal.SourcePrometheus
	held := append(numbered(am, 0, 3), numbered(prom, 100, 2)...) // 3 + 2 held
	tests := []struct {
		name    string
		limits  Limits
		batch   []signal.Signal
		refused string // part of the error, if refused
	}{
		{"no limits", Limits{}, numbered(am, 10, 50), ""},
		{"under both", Limits{ActiveAlerts: 6, ActiveAlertsPerSource: 4}, numbered(am, 10, 1), ""},
		{"exactly at the total", Limits{ActiveAlerts: 6}, numbered(prom, 110, 1), ""},
		{"past the total", Limits{ActiveAlerts: 6}, numbered(prom, 110, 2), "would make 7 active, over the limit of 6"},
		{"past one source", Limits{ActiveAlertsPerSource: 3}, numbered(am, 10, 1), "4 active from alertmanager"},
		{"other source has room", Limits{ActiveAlertsPerSource: 3}, numbered(prom, 110, 1), ""},
		{"a new alert twice is one", Limits{ActiveAlertsPerSource: 4}, append(numbered(am, 10, 1), numbered(am, 10, 1)...), ""},
		{"re-send at the limit", Limits{ActiveAlerts: 5, ActiveAlertsPerSource: 3}, held, ""},
		{"resolves at the limit", Limits{ActiveAlerts: 5, ActiveAlertsPerSource: 3}, resolvedAll(held), ""},
		{"resolve of an unknown alert at the limit", Limits{ActiveAlerts: 5}, resolvedAll(numbered(am, 10, 1)), ""},
		{"mixed batch past the limit", Limits{ActiveAlerts: 5}, append(resolvedAll(held), numbered(am, 10, 1)...), "over the limit of 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, j := openMemory(Options{Limits: tt.limits})
			ctx := context.Background()
			if _, err := eng.Submit(ctx, held); err != nil {
				t.Fatal(err)
			}
			before := j.LastSeq()
			_, err := eng.Submit(ctx, tt.batch)
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrOverloaded) || !strings.Contains(err.Error(), tt.refused) {
				t.Fatalf("error %v, want ErrOverloaded saying %q", err, tt.refused)
			}
			if j.LastSeq() != before {
				t.Error("a refused batch was journaled")
			}
			if got := eng.State().Held().Total; got != len(held) {
				t.Errorf("%d alerts held after a refusal, want %d", got, len(held))
			}
		})
	}
}

// TestRefusalsAreLoggedAtMostEvery10s refuses batches under a fake clock
// and counts the log lines.
func TestRefusalsAreLoggedAtMostEvery10s(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.InfoLevel)
		eng, _ := openMemory(Options{Limits: Limits{ActiveAlerts: 1}, Logger: zap.New(core)})
		ctx := context.Background()
		if _, err := eng.Submit(ctx, numbered(signal.SourceAlertmanager, 0, 1)); err != nil {
			t.Fatal(err)
		}
		refuse := func() {
			t.Helper()
			if _, err := eng.Submit(ctx, numbered(signal.SourceAlertmanager, 1, 2)); !errors.Is(err, ErrOverloaded) {
				t.Fatalf("not refused: %v", err)
			}
		}
		for range 5 {
			refuse()
		}
		time.Sleep(throttleLogEvery - time.Nanosecond)
		refuse()
		time.Sleep(time.Nanosecond)
		refuse()
		lines := logs.FilterMessageSnippet("refusing signals").All() // not the incident's own lines
		if len(lines) != 2 {
			t.Fatalf("%d log lines, want 2", len(lines))
		}
		if got := lines[1].ContextMap(); got["batches_refused"] != int64(6) || got["signals_refused"] != int64(12) {
			t.Errorf("second line counts %v, want the 6 batches since the first", got)
		}
	})
}

// TestActiveAlertsGauge checks klaxon_alerts_active by source.
func TestActiveAlertsGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	eng, _ := openMemory(Options{Registerer: reg})
	if _, err := eng.Submit(context.Background(), numbered(signal.SourcePrometheus, 0, 3)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "klaxon_alerts_active" {
			for _, m := range mf.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	if want := map[string]float64{"alertmanager": 0, "prometheus": 3}; !maps.Equal(got, want) {
		t.Errorf("klaxon_alerts_active = %v, want %v", got, want)
	}
}

// BenchmarkAdmissionCheck measures what the limits cost a batch of 100
// alerts, new or re-sent, against a state holding 100,000.
func BenchmarkAdmissionCheck(b *testing.B) {
	eng, _ := openMemory(Options{Limits: Limits{ActiveAlerts: 1 << 30, ActiveAlertsPerSource: 1 << 30}})
	for i := range 1000 {
		if _, err := eng.Submit(context.Background(), numbered(signal.SourceAlertmanager, i*100, 100)); err != nil {
			b.Fatal(err)
		}
	}
	for _, bb := range []struct {
		name  string
		first int
	}{{"new", 1_000_000}, {"held", 500}} {
		b.Run(bb.name, func(b *testing.B) {
			batch := numbered(signal.SourceAlertmanager, bb.first, 100)
			b.ReportAllocs()
			for b.Loop() {
				if err := eng.admit(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
