package triage

import (
	"fmt"
	"strings"
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

func exampleRules(b *testing.B) *rules.Set {
	files, err := rules.Load("../configs/rules", []string{"*.yml"})
	if err != nil {
		b.Fatal(err)
	}
	rs, err := rules.Compile(files)
	if err != nil {
		b.Fatal(err)
	}
	return rs
}

// BenchmarkApplyExampleRules is BenchmarkApplyDefaultRules with the
// shipped example rules in force: the cost of rule evaluation on ingest.
func BenchmarkApplyExampleRules(b *testing.B) { benchApply(b, exampleRules(b), 50) }

// many200Rules is a rule file with 200 severity rules, none of which holds
// for the benchmark's alerts, so every evaluation tries them all.
func many200Rules(b *testing.B) *rules.Set {
	var y strings.Builder
	y.WriteString("severity:\n  rules:\n")
	for i := range 200 {
		fmt.Fprintf(&y, "    - name: r%d\n      level: SEV%d\n      when:\n        all:\n          - match: '{alertname=\"A%d\"}'\n          - count: {of: alerts, window: %dm, \">=\": %d}\n",
			i, 1+i%3, i, 5+i%30, 1000000+i)
	}
	rs, err := rules.Compile([]rules.File{{Name: "200.yml", Data: []byte(y.String())}})
	if err != nil {
		b.Fatal(err)
	}
	return rs
}

// BenchmarkApply200RulesOneBigIncident feeds one incident 10,000 and more
// signals with 200 rules in force: evaluation must stay incremental.
func BenchmarkApply200RulesOneBigIncident(b *testing.B) {
	rs := many200Rules(b)
	s := New(rs)
	seq := uint64(0)
	feed := func(from, n int) journal.Record {
		sigs := make([]signal.Signal, n)
		for j := range sigs {
			sigs[j] = firing("alertname", "HighLatency", "service", "checkout", "instance", fmt.Sprintf("pod-%d", from+j))
		}
		data, _ := Encode(&Entry{Signals: sigs})
		seq++
		return journal.Record{Seq: seq, Time: t0.Add(time.Duration(seq) * time.Millisecond), Data: data}
	}
	for i := 0; i < 10000; i += 100 {
		s.Apply(feed(i, 100))
	}
	recs := make([]journal.Record, b.N)
	for i := range recs {
		recs[i] = feed(10000+i*100, 100)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, rec := range recs {
		s.Apply(rec)
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkDecode decodes entries of 100 alerts shaped like those the
// load generator sends (four labels, a summary), as recovery does for
// every journaled record, and reports alerts/s.
func BenchmarkDecode(b *testing.B) {
	const batch = 100
	data, err := Encode(&Entry{Signals: loadgenSignals(batch)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "alerts/s")
}
