package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/klaxonhq/klaxon/signal"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testNow is the time test payloads are received at.
var testNow = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// parseCase is one fixture: a valid one is compared with its golden file
// (the fixture name with .golden.json), a bad one with wantErr.
type parseCase struct {
	file    string
	lim     Limits
	wantErr string
}

func TestParseWebhook(t *testing.T) {
	cases := []parseCase{
		{file: "firing.json"},
		{file: "resolved.json"},
		{file: "mixed.json"},
		{file: "truncated.json"},
		{file: "extra_fields.json"},
		{file: "empty_alerts.json"},
		{file: "firing.json", lim: Limits{MaxAlerts: 1}, wantErr: `alerts: 2 alerts, more than the limit of 1`},
		{file: "firing.json", lim: Limits{MaxLabels: 5}, wantErr: `alerts[0].labels: 6 entries, more than the limit of 5`},
		{file: "bad_version.json", wantErr: `version: unsupported version "3", want "4"`},
		{file: "bad_no_version.json", wantErr: `version: unsupported version "", want "4"`},
		{file: "bad_null.json", wantErr: `version: unsupported version "", want "4"`},
		{file: "bad_labels_list.json", wantErr: `alerts[1].labels: wrong type: got JSON array, want object`},
		{file: "bad_label_value_type.json", wantErr: `alerts[1].labels: wrong type: got JSON number, want string`},
		{file: "bad_status.json", wantErr: `alerts[1].status: must be "firing" or "resolved", got "pending"`},
		{file: "bad_top_status.json", wantErr: `status: must be "firing" or "resolved", got "ok"`},
		{file: "bad_empty_labels.json", wantErr: `alerts[1].labels: must not be empty`},
		{file: "bad_null_labels.json", wantErr: `alerts[0].labels: must not be empty`},
		{file: "bad_only_empty_label_values.json", wantErr: `alerts[1].labels: must not be empty`},
		{file: "bad_label_name.json", wantErr: `alerts[0].labels: invalid name ""`},
		{file: "bad_annotation_name.json", wantErr: `alerts[1].annotations: invalid name ""`},
		{file: "bad_starts_at.json", wantErr: `alerts[1].startsAt: must be an RFC3339 timestamp, got "yesterday"`},
		{file: "bad_starts_at_type.json", wantErr: `alerts[0].startsAt: wrong type: got JSON number, want RFC3339 timestamp string`},
		{file: "bad_ends_at_no_zone.json", wantErr: `alerts[0].endsAt: must be an RFC3339 timestamp, got "2026-03-14T09:41:53"`},
		{file: "bad_ends_before_starts.json", wantErr: `alerts[1].endsAt: must not be before startsAt`},
		{file: "bad_starts_at_year_one.json", wantErr: `alerts[1].startsAt: 0001-01-01T00:00:01Z is outside the accepted range [1970-01-01T00:00:00Z, 2262-01-01T00:00:00Z)`},
		{file: "bad_fingerprint_type.json", wantErr: `alerts[0].fingerprint: wrong type: got JSON number, want string`},
		{file: "bad_truncated_type.json", wantErr: `truncatedAlerts: wrong type: got JSON number -1, want non-negative integer`},
		{file: "bad_group_labels_type.json", wantErr: `groupLabels: wrong type: got JSON string, want object`},
		{file: "bad_alerts_object.json", wantErr: `alerts: wrong type: got JSON object, want array`},
		{file: "bad_alert_not_object.json", wantErr: `alerts[2]: wrong type: got JSON string, want object`},
		{file: "bad_long_label.json", wantErr: `alerts[0].labels["description"]: name and value are 5011 bytes, more than the limit of 4096`},
		{file: "bad_trailing.json", wantErr: `malformed JSON after 1678 bytes: invalid character '{' after top-level value`},
		{file: "bad_cut.json", wantErr: `malformed JSON after 838 bytes: unexpected end of JSON input`},
		{file: "bad_utf8.json", wantErr: `invalid UTF-8 at byte offset 830`},
		{file: "bad_array.json", wantErr: `wrong type: got JSON array, want object`},
		{file: "bad_empty.json", wantErr: `malformed JSON after 0 bytes: unexpected end of JSON input`},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "webhook", tc.file)
			meta, sigs, err := ParseWebhook(readFile(t, path), testNow, tc.lim)
			if tc.wantErr != "" {
				checkRejected(t, err, sigs, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			checkSignals(t, sigs)
			checkGolden(t, path, struct {
				Meta    WebhookMeta     `json:"meta"`
				Signals []signal.Signal `json:"signals"`
			}{meta, sigs})
		})
	}
}

func TestParseAlertsV2(t *testing.T) {
	cases := []parseCase{
		{file: "prometheus.json"},
		{file: "defaults.json"},
		{file: "extra_fields.json"},
		{file: "empty.json"},
		{file: "prometheus.json", lim: Limits{MaxAlerts: 1}, wantErr: `alerts: 2 alerts, more than the limit of 1`},
		{file: "prometheus.json", lim: Limits{MaxLabels: 4, MaxLabelBytes: 30}, wantErr: `alerts[0].labels: 6 entries, more than the limit of 4`},
		{file: "bad_labels_list.json", wantErr: `alerts[1].labels: wrong type: got JSON array, want object`},
		{file: "bad_annotation_value_type.json", wantErr: `alerts[0].annotations: wrong type: got JSON number, want string`},
		{file: "bad_no_labels.json", wantErr: `alerts[1].labels: must not be empty`},
		{file: "bad_label_name.json", wantErr: `alerts[1].labels: invalid name ""`},
		{file: "bad_ends_before_starts.json", wantErr: `alerts[0].endsAt: must not be before startsAt`},
		{file: "bad_starts_at.json", wantErr: `alerts[1].startsAt: must be an RFC3339 timestamp, got "2026-03-14 08:00:00"`},
		{file: "bad_ends_at_year_9999.json", wantErr: `alerts[1].endsAt: 9999-12-31T23:59:59Z is outside the accepted range [1970-01-01T00:00:00Z, 2262-01-01T00:00:00Z)`},
		{file: "bad_ends_at_type.json", wantErr: `alerts[1].endsAt: wrong type: got JSON bool, want RFC3339 timestamp string`},
		{file: "bad_generator_url_type.json", wantErr: `alerts[0].generatorURL: wrong type: got JSON array, want string`},
		{file: "bad_alert_not_object.json", wantErr: `alerts[0]: wrong type: got JSON number, want object`},
		{file: "bad_long_annotation.json", wantErr: `alerts[1].annotations["description"]: name and value are 70011 bytes, more than the limit of 65536`},
		{file: "bad_trailing.json", wantErr: `malformed JSON after 887 bytes: invalid character ']' after top-level value`},
		{file: "bad_null.json", wantErr: `body must be a JSON array of alerts, got null`},
		{file: "bad_object.json", wantErr: `wrong type: got JSON object, want array`},
		{file: "bad_utf8.json", wantErr: `invalid UTF-8 at byte offset 527`},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "v2", tc.file)
			sigs, err := ParseAlertsV2(readFile(t, path), testNow, tc.lim)
			if tc.wantErr != "" {
				checkRejected(t, err, sigs, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ParseAlertsV2: %v", err)
			}
			checkSignals(t, sigs)
			checkGolden(t, path, sigs)
		})
	}
}

// TestLabelValueLimit checks the bound on one label's name plus value, in a
// payload where only one label can break it.
func TestLabelValueLimit(t *testing.T) {
	body := []byte(`[{"labels":{"alertname":"x","ok":"12345678901234","big":"123456789012345"}}]`)
	lim := Limits{MaxLabelBytes: 17}
	_, err := ParseAlertsV2(body, testNow, lim)
	checkRejected(t, err, nil, `alerts[0].labels["big"]: name and value are 18 bytes, more than the limit of 17`)
	lim.MaxLabelBytes = 18
	if _, err := ParseAlertsV2(body, testNow, lim); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}

// TestFingerprintMatchesAlertmanager checks the fingerprint against
// prometheus/common's, which Alertmanager uses, on awkward label sets.
func TestFingerprintMatchesAlertmanager(t *testing.T) {
	sets := []map[string]string{
		{"a": "b"},
		{"alertname": "HighErrorRate", "service": "api", "severity": "critical"},
		{"ab": "c", "a": "bc"},
		{"a": "", "b": "x"},
		{"ünïcode": "✓", "emoji 🚨": "sev1", "quote\"d": "new\nline"},
		{"\x00": "\xff\xfe"},
	}
	for _, m := range sets {
		ls := signal.StringsFrom(m)
		if got, want := fingerprint(ls), modelFingerprint(ls); got != want {
			t.Errorf("fingerprint(%q) = %s, want %s", ls, got, want)
		}
	}
}

// TestErrorType checks that every rejection is an *Error naming the field.
func TestErrorType(t *testing.T) {
	_, err := ParseAlertsV2([]byte(`[{"labels":{}}]`), testNow, Limits{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not an *Error", err)
	}
	if e.Field != "alerts[0].labels" || e.Msg != "must not be empty" {
		t.Errorf("got Field %q Msg %q", e.Field, e.Msg)
	}
}

// TestQuoteTruncates checks that error messages never quote a sender's value
// at length, nor cut a UTF-8 sequence in two.
func TestQuoteTruncates(t *testing.T) {
	long := string(bytes.Repeat([]byte("é"), 100))
	got := quote(long)
	if want := `"` + long[:64] + `"…`; got != want {
		t.Errorf("quote = %s, want %s", got, want)
	}
	_, err := ParseAlertsV2([]byte(`[{"labels":{"a":"b"},"startsAt":"`+long+`"}]`), testNow, Limits{})
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("error not truncated: %v", err)
	}
}

// readFile returns the contents of a test fixture.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkRejected checks that a parse failed with exactly want, as an *Error,
// and returned no signals.
func checkRejected(t *testing.T, err error, sigs []signal.Signal, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want error %q", want)
	}
	if _, ok := errors.AsType[*Error](err); !ok {
		t.Errorf("error %T is not an *Error", err)
	}
	if err.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", err, want)
	}
	if sigs != nil {
		t.Errorf("rejected payload returned %d signals", len(sigs))
	}
}

// checkGolden compares got, as indented JSON, with the golden file for the
// fixture at path, or rewrites it under -update.
func checkGolden(t *testing.T, path string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden := path[:len(path)-len(".json")] + ".golden.json"
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, golden)
	if !bytes.Equal(b, want) {
		t.Errorf("output differs from %s (run with -update to rewrite):\n%s", golden, b)
	}
}

var hex16RE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// checkSignals checks what every parsed signal must satisfy.
func checkSignals(t testing.TB, sigs []signal.Signal) {
	t.Helper()
	for i, s := range sigs {
		if s.Labels.Len() == 0 {
			t.Errorf("signal %d has no labels", i)
		}
		if !hex16RE.MatchString(s.Fingerprint) {
			t.Errorf("signal %d fingerprint %q is not 16 hex digits", i, s.Fingerprint)
		}
		if want := modelFingerprint(s.Labels); s.Fingerprint != want {
			t.Errorf("signal %d fingerprint %s, Alertmanager's is %s", i, s.Fingerprint, want)
		}
		if s.Status != signal.StatusFiring && s.Status != signal.StatusResolved {
			t.Errorf("signal %d status %q", i, s.Status)
		}
		if s.Kind != signal.KindAlert {
			t.Errorf("signal %d kind %q", i, s.Kind)
		}
		if s.StartsAt.IsZero() {
			t.Errorf("signal %d has no start", i)
		}
		if !s.EndsAt.IsZero() && s.EndsAt.Before(s.StartsAt) {
			t.Errorf("signal %d ends before it starts", i)
		}
		if s.StartsAt.Before(EarliestTime) || !s.StartsAt.Before(LatestTime) {
			t.Errorf("signal %d starts at %s, outside the accepted range", i, s.StartsAt)
		}
		if !s.EndsAt.IsZero() && (s.EndsAt.Before(EarliestTime) || !s.EndsAt.Before(LatestTime)) {
			t.Errorf("signal %d ends at %s, outside the accepted range", i, s.EndsAt)
		}
	}
}

// modelFingerprint is the fingerprint as Alertmanager computes it.
func modelFingerprint(ls signal.Strings) string {
	m := make(model.LabelSet, ls.Len())
	for k, v := range ls.All() {
		m[model.LabelName(k)] = model.LabelValue(v)
	}
	return m.Fingerprint().String()
}

// TestTimestampBounds: set timestamps outside [EarliestTime, LatestTime) are
// refused, naming the field; Go's zero time still means unset; the bounds
// are fixed instants, so the answer does not depend on when it is received.
func TestTimestampBounds(t *testing.T) {
	const outside = " is outside the accepted range [1970-01-01T00:00:00Z, 2262-01-01T00:00:00Z)"
	for _, tc := range []struct {
		name, startsAt, endsAt string
		wantErr                string
		wantStart, wantEnd     string // RFC 3339, when accepted; empty end: unset
		v2Err                  string // when /api/v2/alerts alone refuses it
	}{
		{"year one start", "0001-01-01T00:00:01Z", "", `alerts[0].startsAt: 0001-01-01T00:00:01Z` + outside, "", "", ""},
		{"year one start with offset", "0001-01-01T05:00:01+05:00", "", `alerts[0].startsAt: 0001-01-01T00:00:01Z` + outside, "", "", ""},
		{"before the epoch", "1969-12-31T23:59:59.999Z", "", `alerts[0].startsAt: 1969-12-31T23:59:59.999Z` + outside, "", "", ""},
		{"year one end", "2026-03-14T09:00:00Z", "0001-01-01T00:00:01Z", `alerts[0].endsAt: 0001-01-01T00:00:01Z` + outside, "", "", ""},
		{"year 9999 start", "9999-12-31T23:59:59Z", "", `alerts[0].startsAt: 9999-12-31T23:59:59Z` + outside, "", "", ""},
		{"year 9999 end", "2026-03-14T09:00:00Z", "9999-12-31T23:59:59Z", `alerts[0].endsAt: 9999-12-31T23:59:59Z` + outside, "", "", ""},
		{"at the latest bound", "2026-03-14T09:00:00Z", "2262-01-01T00:00:00Z", `alerts[0].endsAt: 2262-01-01T00:00:00Z` + outside, "", "", ""},
		{"zero start is unset", "0001-01-01T00:00:00Z", "", "", "2026-03-14T10:00:00Z", "", ""},
		{"zero end is unset", "2026-03-14T09:00:00Z", "0001-01-01T00:00:00Z", "", "2026-03-14T09:00:00Z", "", ""},
		{"at the earliest bound", "1970-01-01T00:00:00Z", "", "", "1970-01-01T00:00:00Z", "", ""},
		{"just inside the latest bound", "2026-03-14T09:00:00Z", "2261-12-31T23:59:59Z", "", "2026-03-14T09:00:00Z", "2261-12-31T23:59:59Z", ""},
		{"future start without end", "2027-01-01T00:00:00Z", "", "", "2027-01-01T00:00:00Z", "", `alerts[0].startsAt: is more than 5m0s after receipt and no endsAt is given`},
		{"future start kept as sent", "2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z", "", "2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alert := `{"status":"firing","labels":{"alertname":"A"},"startsAt":"` + tc.startsAt + `"`
			if tc.endsAt != "" {
				alert += `,"endsAt":"` + tc.endsAt + `"`
			}
			alert += "}"
			v2, errV2 := ParseAlertsV2([]byte("["+alert+"]"), testNow, Limits{})
			_, hook, errHook := ParseWebhook([]byte(`{"version":"4","status":"firing","alerts":[`+alert+`]}`), testNow, Limits{})
			for _, r := range []struct {
				api  string
				sigs []signal.Signal
				err  error
			}{{"v2", v2, errV2}, {"webhook", hook, errHook}} {
				wantErr := tc.wantErr
				if r.api == "v2" && tc.v2Err != "" {
					wantErr = tc.v2Err
				}
				if wantErr != "" {
					checkRejected(t, r.err, r.sigs, wantErr)
					continue
				}
				if r.err != nil || len(r.sigs) != 1 {
					t.Fatalf("%s: %d signals, %v", r.api, len(r.sigs), r.err)
				}
				checkSignals(t, r.sigs)
				s := r.sigs[0]
				if got := s.StartsAt.Format(time.RFC3339); got != tc.wantStart {
					t.Errorf("%s: startsAt %s, want %s", r.api, got, tc.wantStart)
				}
				wantEnd := tc.wantEnd
				if wantEnd == "" && r.api == "v2" {
					wantEnd = testNow.Add(resolveTimeout).Format(time.RFC3339) // as Alertmanager does
				}
				if got := s.EndsAt; got.IsZero() != (wantEnd == "") || !got.IsZero() && got.Format(time.RFC3339) != wantEnd {
					t.Errorf("%s: endsAt %s, want %q", r.api, got, wantEnd)
				}
			}
		})
	}
}
