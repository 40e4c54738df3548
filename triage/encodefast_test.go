package triage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// encodeGeneral is what Encode wrote before the fast path: encoding/json.
func encodeGeneral(t testing.TB, sigs []signal.Signal) []byte {
	t.Helper()
	data, err := json.Marshal(&Entry{Signals: sigs})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{FormatVersion}, data...)
}

func TestEncodeSignalsFastWritesWhatEncodingJSONWrites(t *testing.T) {
	base := func() signal.Signal {
		return firing("alertname", "HighLatency", "service", "api", "instance", "10.0.0.1:9100")
	}
	with := func(change func(*signal.Signal)) []signal.Signal {
		s := base()
		change(&s)
		return []signal.Signal{s}
	}
	for name, sigs := range map[string][]signal.Signal{
		"plain alert":       {base()},
		"several":           append(with(func(s *signal.Signal) { s.Fingerprint = "a" }), base(), base()),
		"nil labels":        with(func(s *signal.Signal) { s.Labels = signal.Strings{} }),
		"empty labels":      with(func(s *signal.Signal) { s.Labels = signal.StringsFrom(map[string]string{}) }),
		"empty annotations": with(func(s *signal.Signal) { s.Annotations = signal.StringsFrom(map[string]string{}) }),
		"html in annotations": with(func(s *signal.Signal) {
			s.Annotations = signal.StringsFrom(map[string]string{"summary": "p99 <above> 2s & rising"})
		}),
		"quotes and controls": with(func(s *signal.Signal) {
			s.Labels = signal.StringsFrom(map[string]string{"a\"b": "c\\d\te\x01", "z": "\u2028\u2029"})
		}),
		"non-ascii":         with(func(s *signal.Signal) { s.Report = &signal.Report{Text: "is it down? 🚨 ü"} }),
		"invalid utf-8":     with(func(s *signal.Signal) { s.Report = &signal.Report{Customer: "a\xffb"} }),
		"delete character":  with(func(s *signal.Signal) { s.Link = "a\x7fb" }),
		"ends, zone, nanos": with(func(s *signal.Signal) { s.EndsAt = t0.Add(7).In(time.FixedZone("x", -5400)) }),
		"zone with seconds": with(func(s *signal.Signal) { s.StartsAt = t0.In(time.FixedZone("odd", 3601)) }),
		"every optional field": with(func(s *signal.Signal) {
			s.Report = &signal.Report{Text: "t", Customer: "c", Reach: -12345, RepostOf: "r"}
			s.Link, s.Ack = "l", true
		}),
		"empty required strings": with(func(s *signal.Signal) { s.Source, s.Kind, s.Fingerprint, s.Status = "", "", "", "" }),
		"zero start":             with(func(s *signal.Signal) { s.StartsAt = time.Time{} }),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Encode(&Entry{Signals: sigs})
			if err != nil {
				t.Fatal(err)
			}
			if want := encodeGeneral(t, sigs); !bytes.Equal(got, want) {
				t.Fatalf("Encode wrote\n%s\nencoding/json writes\n%s", got, want)
			}
		})
	}
}

func TestEncodeSignalsFastLeavesBadTimesToTheGeneralPath(t *testing.T) {
	for name, change := range map[string]func(*signal.Signal){
		"start after 9999": func(s *signal.Signal) { s.StartsAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"end before 0":     func(s *signal.Signal) { s.EndsAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		t.Run(name, func(t *testing.T) {
			s := firing("a", "b")
			change(&s)
			if _, ok := encodeSignalsFast(nil, []signal.Signal{s}); ok {
				t.Fatal("fast path encoded a time encoding/json refuses")
			}
			if _, err := Encode(&Entry{Signals: []signal.Signal{s}}); err == nil {
				t.Fatal("Encode took a time encoding/json refuses")
			}
		})
	}
}

// FuzzEncodeSignalsFast checks that the fast path writes what
// encoding/json writes, whatever the strings and times.
func FuzzEncodeSignalsFast(f *testing.F) {
	f.Add("alertmanager", "api", "p99 <above> 2s & rising", "a\"b\\c\x01\xff", int64(0), int64(1), true)
	f.Add("", "", "", "\u2028", int64(-1), int64(0), false)
	f.Fuzz(func(t *testing.T, source, label, annotation, text string, start, reach int64, ack bool) {
		s := signal.Signal{Source: signal.Source(source), Kind: signal.KindAlert, Fingerprint: label,
			Status: signal.StatusFiring, Labels: signal.StringsFrom(map[string]string{label: annotation, "x": text}),
			Annotations: signal.StringsFrom(map[string]string{annotation: label}),
			StartsAt:    time.Unix(0, start).UTC(), EndsAt: time.Unix(reach, start), Link: annotation, Ack: ack}
		s.SetReport(signal.Report{Text: text, Reach: reach})
		got, ok := encodeSignalsFast([]byte{FormatVersion}, []signal.Signal{s})
		want, err := json.Marshal(&Entry{Signals: []signal.Signal{s}})
		if !ok {
			if err == nil {
				t.Fatalf("fast path refused %#v, which encoding/json encodes", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("fast path encoded %#v, which encoding/json refuses: %v", s, err)
		}
		if !bytes.Equal(got[1:], want) {
			t.Fatalf("fast path wrote\n%s\nencoding/json writes\n%s", got[1:], want)
		}
	})
}

// BenchmarkEncode encodes entries of 100 alerts shaped like those the load
// generator sends, as every ingest request does, and reports alerts/s.
func BenchmarkEncode(b *testing.B) {
	const batch = 100
	entry := &Entry{Signals: loadgenSignals(batch)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(entry); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "alerts/s")
}

// loadgenSignals returns n firing alerts shaped like those bench/loadgen
// sends: four labels, a summary.
func loadgenSignals(n int) []signal.Signal {
	sigs := make([]signal.Signal, n)
	for j := range sigs {
		sigs[j] = firing("alertname", "LoadTest", "service", fmt.Sprintf("svc-%d", j%50),
			"instance", fmt.Sprintf("10.0.%d.%d:9100", j/250, j%250), "run", "bench-run")
		sigs[j].Annotations = signal.StringsFrom(map[string]string{"summary": "load test alert"})
	}
	return sigs
}
