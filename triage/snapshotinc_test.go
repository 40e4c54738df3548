package triage

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestDecodeIncidentsAsEncodingJSON checks that segmentio's decoder decodes
// the incidents of random histories' snapshots as encoding/json does.
func TestDecodeIncidentsAsEncodingJSON(t *testing.T) {
	chunks := historyChunks(t, 20, func(s snapshot) []json.RawMessage { return s.Incidents })
	if len(chunks) == 0 {
		t.Fatal("the histories' snapshots hold no incidents")
	}
	for _, chunk := range chunks {
		got, err := decodeIncidentsFast(chunk)
		if err != nil {
			t.Fatalf("segmentio's decoder refused a snapshot's chunk: %v", err)
		}
		checkIncidentsAsGeneral(t, chunk, got, nil)
	}
}

// TestDecodeIncidentsUnusual decodes what a snapshot never holds but
// encoding/json takes (or refuses) as encoding/json does.
func TestDecodeIncidentsUnusual(t *testing.T) {
	for name, chunk := range map[string]string{
		"null":              `null`,
		"empty":             `[]`,
		"null incident":     `[null]`,
		"names in capitals": `[{"KEY":"INC-1","Status":"resolved","alerts":["a"]}]`,
		"unknown field":     `[{"key":"INC-1","bogus":{"x":[1,2]}}]`,
		"repeated field":    `[{"key":"INC-1","key":"INC-2"}]`,
		"escapes":           `[{"key":"INC-\u0031","title":"caf\u00e9 \"down\"\n"}]`,
		"wrong type":        `[{"key":1}]`,
		"not an array":      `{"key":"INC-1"}`,
		"truncated":         `[{"key":"INC-1"`,
		"trailing data":     `[] []`,
		"invalid UTF-8":     "[{\"title\":\"\xff\"}]",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decodeIncidents([]byte(chunk))
			checkIncidentsAsGeneral(t, []byte(chunk), got, err)
		})
	}
}

// FuzzDecodeIncidents checks that decodeIncidents takes what encoding/json
// takes, refuses what it refuses, and decodes the same incidents.
func FuzzDecodeIncidents(f *testing.F) {
	f.Add([]byte(`[{"key":"INC-1","status":"triggered","alerts":["alert/1","alert/2"],"timeline":[{"at":"2026-01-02T03:04:05Z","seq":1,"kind":"opened","message":"m"}]}]`))
	f.Add([]byte(`[{"KEY":"INC-1","Services":["api"],"counts":[{"t":1,"n":[1,0,0,0]}]}]`))
	f.Add([]byte(`[null,{}]`))
	f.Fuzz(func(t *testing.T, chunk []byte) {
		got, err := decodeIncidents(chunk)
		checkIncidentsAsGeneral(t, chunk, got, err)
	})
}

// checkIncidentsAsGeneral fails t unless encoding/json decodes chunk into
// incs, or refuses it as decodeIncidents did (err).
func checkIncidentsAsGeneral(t *testing.T, chunk []byte, incs []*Incident, err error) {
	t.Helper()
	var want []*Incident
	wantErr := json.Unmarshal(chunk, &want)
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("%q: decodeIncidents error %v, encoding/json error %v", chunk, err, wantErr)
	case err == nil && !reflect.DeepEqual(incs, want):
		t.Fatalf("%q: decoded as\n%#v\nencoding/json decodes\n%#v", chunk, incs, want)
	}
}
