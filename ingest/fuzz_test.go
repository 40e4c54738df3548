package ingest

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/signal"
)

func FuzzParseWebhook(f *testing.F) {
	addSeeds(f, "webhook")
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"0001-01-01T00:00:01Z"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, sigs, err := ParseWebhook(body, testNow, Limits{})
		checkFuzzResult(t, sigs, err)
	})
}

func FuzzParseAlertsV2(f *testing.F) {
	addSeeds(f, "v2")
	f.Add([]byte(`[{"labels":{"a":"b"}}]`))
	f.Add([]byte(`[{"labels":{"a":"b","":"c"},"startsAt":"2026-03-14T10:00:00+02:00"}]`))
	f.Add([]byte(`[{"labels":{"a":"b"},"startsAt":"0001-01-01T00:00:01Z"}]`))
	f.Add([]byte(`[{"labels":{"a":"b"},"startsAt":"0001-01-01T00:00:00Z","endsAt":"9999-12-31T23:59:59Z"}]`))
	f.Add([]byte(`[{"labels":{"a":"b"},"startsAt":"1970-01-01T00:00:00Z","endsAt":"2261-12-31T23:59:59.999999999Z"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		sigs, err := ParseAlertsV2(body, testNow, Limits{})
		checkFuzzResult(t, sigs, err)
	})
}

// addSeeds adds every fixture in testdata/dir, except golden files, to the
// seed corpus.
func addSeeds(f *testing.F, dir string) {
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		if !strings.HasSuffix(p, ".golden.json") {
			f.Add(readFile(f, p))
		}
	}
}

// checkFuzzResult checks that a parse either failed with an *Error and no
// signals or gave signals that hold every invariant.
func checkFuzzResult(t *testing.T, sigs []signal.Signal, err error) {
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error %T is not an *Error: %v", err, err)
		}
		if sigs != nil {
			t.Fatalf("error %v with %d signals", err, len(sigs))
		}
		return
	}
	checkSignals(t, sigs)
}

// FuzzWireKV checks the hand-written labels decoder against encoding/json's
// map decoding, on the valid UTF-8 JSON it is given (decode rejects the
// rest before it gets there).
func FuzzWireKV(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `{"a":"b"}`, ` { "a" : "b" , "c":"d" } `, `{"a":null}`, `{"a":"b","a":"c"}`,
		`{"esc\"aped":"v\\al\u00fc\ud83d\udea8"}`, `{"lone":"\udc00"}`, `{"a":1}`, `{"a":{}}`, `[]`, `"x"`, `true`,
		`{"alertname":"HighErrorRate","severity":"critical"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) || !utf8.Valid(b) {
			return
		}
		var want map[string]string
		wantErr := json.Unmarshal(b, &want)
		var got wireKV
		gotErr := json.Unmarshal(b, &got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("encoding/json error %v, wireKV error %v", wantErr, gotErr)
		}
		if wantErr == nil && !maps.Equal(want, map[string]string(got)) {
			t.Fatalf("encoding/json decoded %q, wireKV %q", want, got)
		}
	})
}
