package triage

import (
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

// benchApply applies b.N batches of 100 distinct alerts spread over
// services, with rs in force, and reports alerts/s.
func benchApply(b *testing.B, rs *rules.Set, services int) {
	s := New(rs)
	const batch = 100
	var recs []journal.Record
	for i := range b.N {
		sigs := make([]signal.Signal, batch)
		for j := range sigs {
			n := i*batch + j
			sigs[j] = firing("alertname", "HighLatency", "service", fmt.Sprintf("svc-%d", n%services),
				"instance", fmt.Sprintf("pod-%d", n), "severity", "critical")
		}
		data, err := Encode(&Entry{Signals: sigs})
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, journal.Record{Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Millisecond), Data: data})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, rec := range recs {
		s.Apply(rec)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "alerts/s")
}

func BenchmarkApplyDefaultRules(b *testing.B) { benchApply(b, nil, 50) }
