package triage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// legacySnapshot re-encodes a snapshot as format 8 wrote it: one JSON
// document whose alert chunks are JSON objects keyed by alert ID.
func legacySnapshot(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var snap snapshot
	if err := decodeSnapshot(data, &snap); err != nil {
		tb.Fatal(err)
	}
	if snap.binaryAlerts {
		for i, chunk := range snap.Alerts {
			snap.Alerts[i] = jsonAlertChunk(tb, chunk)
		}
	}
	out, err := appendJSON([]byte{binaryAlertsVersion - 1}, snap)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// jsonAlertChunk is a binary chunk of alerts as format 8 wrote it.
func jsonAlertChunk(tb testing.TB, chunk []byte) json.RawMessage {
	tb.Helper()
	alerts, err := decodeAlertsBinary(chunk)
	if err != nil {
		tb.Fatal(err)
	}
	m := make(map[string]*Alert, len(alerts))
	for _, ka := range alerts {
		m[ka.id] = ka.alert
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestBinaryAlertsDecodeAsJSON checks that the alerts of random histories'
// snapshots decode from their binary chunks to what their JSON (format 8)
// decodes to.
func TestBinaryAlertsDecodeAsJSON(t *testing.T) {
	chunks := 0
	for seed := range int64(20) {
		for _, chunk := range decodedSnapshot(t, randomHistory(t, seed).s).Alerts {
			chunks++
			checkBinaryAsJSON(t, chunk)
		}
	}
	if chunks == 0 {
		t.Fatal("no alert chunks")
	}
}

// TestBinaryAlertsKeepEveryField encodes alerts with every field set, in
// unusual zones and values, and wants encoding/json's reading of their JSON.
func TestBinaryAlertsKeepEveryField(t *testing.T) {
	alerts := map[string]*Alert{
		"mention/f1": fullAlert(),
		"alert/zero": {},
		"alert/utc":  {Signal: signal.Signal{Fingerprint: "utc", StartsAt: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}},
		"alert/local": {Signal: signal.Signal{Fingerprint: "other",
			StartsAt: time.Date(2026, 7, 1, 12, 0, 0, 0, time.Local), EndsAt: time.Unix(1_800_000_000, 5)}},
	}
	checkBinaryAsJSON(t, encodeAlertsBinary(keyed(alerts, "alert/local", "alert/utc", "alert/zero", "mention/f1")))
}

// fullAlert is an alert with every field set.
func fullAlert() *Alert {
	east := time.FixedZone("", 2*3600+30*60)
	west := time.FixedZone("EST", -5*3600)
	return &Alert{
		Signal: signal.Signal{Source: signal.SourceMentionsGeneric, Kind: signal.KindMention, Fingerprint: "f1",
			Status: signal.StatusResolved, Labels: signal.StringsFrom(map[string]string{"": "", "é": "ü\x00", "service": "api"}),
			Annotations: signal.StringsFrom(map[string]string{"summary": "\u2028"}),
			Report:      &signal.Report{Text: "down again <b>&", Customer: "acme", Reach: -7, RepostOf: "f0"},
			StartsAt:    time.Date(2026, 3, 29, 1, 30, 0, 999999999, east), EndsAt: time.Date(1969, 12, 31, 23, 59, 59, 1, west),
			Link: "https://example.com/x", Ack: true},
		Hash: 1<<64 - 1, Incident: "INC-9", Firing: true,
		FirstSeen: stampOf(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)), LastSeen: -1, Joined: 1 << 62,
	}
}

// keyed returns the alerts ids name, in that order.
func keyed(alerts map[string]*Alert, ids ...string) []keyedAlert {
	out := make([]keyedAlert, len(ids))
	for i, id := range ids {
		out[i] = keyedAlert{id, alerts[id]}
	}
	return out
}

// checkBinaryAsJSON fails t unless the binary chunk decodes to the alerts
// encoding/json decodes from its JSON, in the chunk's order.
func checkBinaryAsJSON(t *testing.T, chunk []byte) {
	t.Helper()
	got, err := decodeAlertsBinary(chunk)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]*Alert
	if err := json.Unmarshal(jsonAlertChunk(t, chunk), &want); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d alerts, want %d", len(got), len(want))
	}
	for i, ka := range got {
		if i > 0 && ka.id <= got[i-1].id {
			t.Errorf("alert %s after %s: not in the chunk's order", ka.id, got[i-1].id)
		}
		if !reflect.DeepEqual(ka.alert, want[ka.id]) {
			t.Errorf("alert %s:\n got %#v\nwant %#v", ka.id, ka.alert, want[ka.id])
		}
	}
}

// Every truncation and every damaged part of a chunk is refused with an
// error, never a panic or a half-read alert.
func TestDecodeAlertsBinaryRefuses(t *testing.T) {
	good := decodedSnapshot(t, randomHistory(t, 1).s).Alerts[0]
	for n := range len(good) {
		if _, err := decodeAlertsBinary(good[:n]); err == nil {
			t.Fatalf("the first %d of %d bytes decoded", n, len(good))
		}
	}
	// Markers find the parts: the labels {a, b}, then the text "T", then
	// StartsAt (seconds, nanoseconds, offset: 0, 0, 0), and the flags after
	// RepostOf "R".
	one := encodeAlertsBinary([]keyedAlert{{"alert/a", &Alert{Firing: true,
		Signal: signal.Signal{Labels: signal.StringsFrom(map[string]string{"a": "", "b": ""}),
			Report: &signal.Report{Text: "T", RepostOf: "R"}, StartsAt: time.Unix(0, 0).UTC()}}}})
	labels, text, repost := bytes.Index(one, []byte("\x01a\x00\x01b\x00")), bytes.Index(one, []byte("\x01T")), bytes.Index(one, []byte("\x01R"))
	bad := map[string][]byte{
		"trailing byte":       append(bytes.Clone(one), 0),
		"count too high":      append([]byte{200}, one[1:]...),
		"unknown flag":        replaceAt(one, repost+2, 1, []byte{flagFiring | 4}),
		"labels out of order": replaceAt(one, labels, 6, []byte("\x01b\x00\x01a\x00")),
		"nanoseconds":         replaceAt(one, text+3, 1, binary.AppendUvarint(nil, 1e9)),
		"offset of a day":     replaceAt(one, text+4, 1, binary.AppendVarint(nil, 24*3600)),
	}
	for name, chunk := range bad {
		if alerts, err := decodeAlertsBinary(chunk); err == nil {
			t.Errorf("%s: decoded as %+v", name, alerts)
		} else if !strings.Contains(err.Error(), "malformed binary snapshot") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// replaceAt returns a copy of b with its n bytes at i replaced by with.
func replaceAt(b []byte, i, n int, with []byte) []byte {
	return append(append(bytes.Clone(b[:i]), with...), b[i+n:]...)
}

// FuzzDecodeAlertsBinary: whatever the bytes, decoding never panics, and
// the alerts it accepts encode to bytes that decode to them again.
func FuzzDecodeAlertsBinary(f *testing.F) {
	f.Add(encodeAlertsBinary([]keyedAlert{{"alert/zero", &Alert{}}, {"mention/f1", fullAlert()}}))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, chunk []byte) {
		alerts, err := decodeAlertsBinary(chunk)
		if err != nil {
			return
		}
		var again []byte
		again = binary.AppendUvarint(again, uint64(len(alerts)))
		for _, ka := range alerts {
			again = appendAlertBinary(again, ka.id, ka.alert)
		}
		back, err := decodeAlertsBinary(again)
		if err != nil {
			t.Fatalf("%q re-encoded as %q, which does not decode: %v", chunk, again, err)
		}
		if !reflect.DeepEqual(back, alerts) {
			t.Fatalf("%q decoded as %+v, re-encoded as %+v", chunk, alerts, back)
		}
	})
}

func TestDecodeContainerRefuses(t *testing.T) {
	frame := `{"seq":1}`
	good := appendChunks(appendChunks(appendBinString(nil, frame), nil), nil)
	var snap snapshot
	if err := decodeContainer(good, &snap); err != nil {
		t.Fatalf("the good container: %v", err)
	}
	for name, body := range map[string][]byte{
		"empty":             nil,
		"frame cut short":   good[:4],
		"no incidents":      good[:len(good)-1],
		"trailing byte":     append(bytes.Clone(good), 0),
		"frame not JSON":    appendChunks(appendChunks(appendBinString(nil, "{"), nil), nil),
		"unknown field":     appendChunks(appendChunks(appendBinString(nil, `{"bogus":1}`), nil), nil),
		"chunks in frame":   appendChunks(appendChunks(appendBinString(nil, `{"alerts":[{}]}`), nil), nil),
		"too many chunks":   append(appendBinString(nil, frame), 0x7f, 0),
		"chunk past end":    append(appendBinString(nil, frame), 1, 9, 0),
		"count not uvarint": append(appendBinString(nil, frame), 0xff),
	} {
		var snap snapshot
		if err := decodeContainer(body, &snap); err == nil {
			t.Errorf("%s: %q decoded", name, body)
		}
	}
}

// BenchmarkDecodeAlertsBinary decodes a snapshot's chunk of 4,096 alerts
// in the binary form; BenchmarkDecodeAlerts decodes its JSON.
func BenchmarkDecodeAlertsBinary(b *testing.B) {
	chunk := benchBinaryAlertChunk(b, 4096)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if _, err := decodeAlertsBinary(chunk); err != nil {
			b.Fatal(err)
		}
	}
}
