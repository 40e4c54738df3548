package triage

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// decodeSnapshot gives what the strict decoder of the whole document gives,
// for the golden snapshot (as format 8 wrote it) and for hand-made ones.
func TestDecodeSnapshotAgrees(t *testing.T) {
	golden, err := os.ReadFile("testdata/golden/snapshot.golden")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{
		"golden":           legacySnapshot(t, golden),
		"no chunks":        []byte(`{"seq":1,"now":"2026-01-01T00:00:00Z","nextIncident":1,"alerts":[],"incidents":null}`),
		"spaces, escapes":  []byte("{ \"alerts\" : [ {\"a\\\"]}\":{\"x\":1}} , {\"b\":2} ] ,\"seq\":7, \"incidents\":[[1,[2]],[]] }\n"),
		"members reversed": []byte(`{"incidents":[[]],"nextIncident":3,"alerts":[{"k":"v\\\\"}],"seq":2}`),
	}
	for name, doc := range docs {
		var want, got snapshot
		if err := decodeStrict(doc[skipVersion(doc):], &want); err != nil {
			t.Fatalf("%s: strict decode: %v", name, err)
		}
		if err := decodeSnapshot(doc, &got); err != nil {
			t.Fatalf("%s: decodeSnapshot: %v", name, err)
		}
		if !reflect.DeepEqual(normal(t, want), normal(t, got)) {
			t.Errorf("%s: decodeSnapshot = %+v, want %+v", name, got, want)
		}
	}
}

// skipVersion is the length of data's format version byte, if it has one.
func skipVersion(data []byte) int {
	if len(data) > 0 && data[0] != '{' {
		return 1
	}
	return 0
}

// normal re-encodes a decoded snapshot, so that raw chunks compare by
// content.
func normal(t *testing.T, s snapshot) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Malformed documents are refused, as the strict decoder refuses them.
func TestDecodeSnapshotRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":               ``,
		"not an object":       `[]`,
		"unterminated":        `{"seq":1`,
		"missing colon":       `{"seq" 1}`,
		"missing comma":       `{"seq":1 "nextIncident":2}`,
		"trailing comma":      `{"seq":1,}`,
		"trailing data":       `{"seq":1} {}`,
		"alerts not an array": `{"alerts":{}}`,
		"alerts twice":        `{"alerts":[],"alerts":[]}`,
		"alerts a string":     `{"alerts":"[]"}`,
		"alerts not null":     `{"alerts":nullx}`,
		"incidents cut short": `{"incidents":[[]`,
		"element comma":       `{"alerts":[{} {}]}`,
		"unterminated chunk":  `{"alerts":[{"a":"b}]}`,
		"unknown field":       `{"seq":1,"bogus":2}`,
		"missing value":       `{"seq":}`,
	} {
		var snap snapshot
		if err := decodeSnapshot([]byte(doc), &snap); err == nil {
			t.Errorf("%s: %q decoded without error", name, doc)
		}
	}
}

// FuzzSplitSnapshot: whatever the input, decodeSnapshot never panics
// (splitting JSON or reading a format-9 container), and what it accepts as
// a JSON document the strict decoder accepts too, with the same chunks.
func FuzzSplitSnapshot(f *testing.F) {
	f.Add([]byte(`{"seq":1,"alerts":[{"a":{"b":"c"}}],"incidents":[[]]}`))
	f.Add([]byte(`{"alerts":[ "x\\"", 1, null ],"now":"2026-01-01T00:00:00Z"}`))
	f.Add(append([]byte{binaryAlertsVersion}, appendChunks(appendChunks(appendBinString(nil, `{"seq":1}`), []json.RawMessage{{0}}), nil)...))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var got snapshot
		if decodeSnapshot(doc, &got) != nil {
			return
		}
		if !json.Valid(doc) {
			return // chunks are checked when they decode, not here
		}
		var want snapshot
		if err := decodeStrict(doc, &want); err != nil {
			t.Fatalf("decodeSnapshot accepted %q, the strict decoder refuses it: %v", doc, err)
		}
		if normal(t, want) != normal(t, got) {
			t.Fatalf("%q: decodeSnapshot %s, strict %s", doc, normal(t, got), normal(t, want))
		}
	})
}
