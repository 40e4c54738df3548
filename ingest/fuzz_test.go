package ingest

import (
	"path/filepath"
	"strings"
	"testing"

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
