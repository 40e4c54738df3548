package triage

import (
	"reflect"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// fastSeeds are entries Encode writes, which the fast path must take.
func fastSeeds(t testing.TB) [][]byte {
	t.Helper()
	plain := firing("alertname", "HighLatency", "service", "api", "instance", "10.0.0.1:9100")
	plain.Annotations = signal.StringsFrom(map[string]string{"summary": "p99 <above> 2s & rising", "runbook": "https://x/\u00fc"})
	resolvedOne := resolved(firing("alertname", "Disk\"Full\\", "tab", "a\tb"), t0.Add(90*time.Second+7*time.Nanosecond))
	mention := signal.Signal{Source: signal.SourceMastodon, Kind: signal.KindMention, Fingerprint: "m1",
		Status: signal.StatusFiring, Labels: signal.StringsFrom(map[string]string{}), StartsAt: t0.In(time.FixedZone("x", 3600)),
		Report: &signal.Report{Text: "is it down? 🚨", Customer: "c1", Reach: -12345, RepostOf: "m0"}, Link: "https://m/1"}
	ack := signal.Signal{Source: signal.SourcePagerDuty, Kind: signal.KindAlert, Fingerprint: "f", Status: signal.StatusFiring,
		Labels: signal.StringsFrom(map[string]string{"a": ""}), StartsAt: t0, Ack: true}
	var out [][]byte
	for _, sigs := range [][]signal.Signal{{plain}, {plain, resolvedOne, mention, ack}, {ack}} {
		data, err := Encode(&Entry{Signals: sigs})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

func TestDecodeSignalsFastTakesWhatEncodeWrites(t *testing.T) {
	for _, data := range fastSeeds(t) {
		sigs, ok := decodeSignalsFast(nil, data[1:])
		if !ok {
			t.Fatalf("fast path refused %s", data[1:])
		}
		checkSameAsGeneral(t, data, sigs)
	}
}

func TestDecodeSignalsFastLeavesTheRestToTheGeneralPath(t *testing.T) {
	sig := `{"source":"alertmanager","kind":"alert","fingerprint":"f","status":"firing","labels":{"a":"b"},"startsAt":"2026-03-14T10:00:00Z"}`
	for name, body := range map[string]string{
		"unknown field":        `{"signals":[{"source":"alertmanager","bogus":1}]}`,
		"field in other case":  `{"signals":[{"Source":"alertmanager"}]}`,
		"repeated field":       `{"signals":[{"source":"a","source":"b"}]}`,
		"null":                 `{"signals":[{"source":null}]}`,
		"escaped string":       `{"signals":[{"source":"\u0061"}]}`,
		"null label bad":       `{"signals":[{"labels":{"a":nope}}]}`,
		"number label":         `{"signals":[{"labels":{"a":1}}]}`,
		"nested label":         `{"signals":[{"labels":{"a":{"b":"c"}}}]}`,
		"float reach":          `{"signals":[{"reach":1.5}]}`,
		"leading zero reach":   `{"signals":[{"reach":01}]}`,
		"bad time":             `{"signals":[{"startsAt":"yesterday"}]}`,
		"other kind":           `{"tick":{"now":"2026-03-14T10:00:00Z"}}`,
		"signals and action":   `{"signals":[` + sig + `],"action":{}}`,
		"no signals":           `{"signals":[]}`,
		"trailing data":        `{"signals":[` + sig + `]}x`,
		"control in string":    "{\"signals\":[{\"source\":\"a\tb\"}]}",
		"control in label":     "{\"signals\":[{\"labels\":{\"a\":\"b\nc\"}}]}",
		"trailing comma":       `{"signals":[` + sig + `,]}`,
		"unterminated":         `{"signals":[` + sig,
		"missing colon":        `{"signals":[{"source" "a"}]}`,
		"label missing comma":  `{"signals":[{"labels":{"a":"b" "c":"d"}}]}`,
		"bool not bool":        `{"signals":[{"ack":tru}]}`,
		"invalid utf-8 source": "{\"signals\":[{\"source\":\"a\xffb\"}]}",
	} {
		t.Run(name, func(t *testing.T) {
			if sigs, ok := decodeSignalsFast(nil, []byte(body)); ok {
				t.Fatalf("fast path took %s as %+v", body, sigs)
			}
		})
	}
}

// FuzzDecodeSignalsFast checks that whatever the fast path takes, the
// general path decodes to the same signals.
func FuzzDecodeSignalsFast(f *testing.F) {
	for _, data := range fastSeeds(f) {
		f.Add(data[1:])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sigs, ok := decodeSignalsFast(nil, body)
		if !ok {
			return
		}
		checkSameAsGeneral(t, append([]byte{FormatVersion}, body...), sigs)
	})
}

// checkSameAsGeneral fails t unless the general decoding of data succeeds
// with exactly the signals sigs.
func checkSameAsGeneral(t *testing.T, data []byte, sigs []signal.Signal) {
	t.Helper()
	var want Entry
	if err := decodeFormat("entry", data, &want); err != nil {
		t.Fatalf("fast path took %q, the general path refuses it: %v", data[1:], err)
	}
	if !reflect.DeepEqual(want.Signals, sigs) {
		t.Fatalf("fast path decoded %q as\n%#v\nthe general path as\n%#v", data[1:], sigs, want.Signals)
	}
}

// A signal entry of any format takes the fast path, as one of the current
// format does: a journal an older Klaxon wrote replays as fast. The same
// allocations say the same path was taken.
func TestDecodeFastTakesEveryVersion(t *testing.T) {
	current, err := Encode(&Entry{Signals: []signal.Signal{firing("alertname", "DiskFull", "instance", "db-1")}})
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(data []byte) float64 {
		return testing.AllocsPerRun(10, func() {
			if _, err := Decode(data); err != nil {
				t.Fatal(err)
			}
		})
	}
	want := allocs(current)
	for v := 1; v < FormatVersion; v++ {
		data := append([]byte{byte(v)}, current[1:]...)
		if v == 1 {
			data = current[1:]
		}
		if got := allocs(data); got != want {
			t.Errorf("format %d: %v allocations, the current format's %v", v, got, want)
		}
	}
}
