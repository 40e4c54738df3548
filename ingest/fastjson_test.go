package ingest

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"
)

// fastV2Seeds are alert pushes as Prometheus writes them, which the fast
// path must take.
func fastV2Seeds(t testing.TB) [][]byte {
	t.Helper()
	return [][]byte{
		readFile(t, filepath.Join("testdata", "v2", "prometheus.json")),
		readFile(t, filepath.Join("testdata", "v2", "defaults.json")),
		readFile(t, filepath.Join("testdata", "v2", "empty.json")),
		[]byte(` [ {"labels":{"a":"b","c":null,"e\u0301":"\"q\"\n"},"annotations":{},"startsAt":"2026-03-14T10:00:00+02:00","endsAt":null,"generatorURL":"http://x/\u00fc"} ] `),
		[]byte(`[{"labels":{"a":"b"},"startsAt":"yesterday","endsAt":17}]`), // bad times are the parser's to refuse
		[]byte(`[{"labels":{"a":"b"},"generatorURL":"http://p/graph?g0.expr=up\u0026g0.tab=1\u003c\/\b\f\n\r\t\\\"\ud83d\ude00\ud800x\udc00\ud800\u0041\ud800"}]`),
	}
}

// fastWebhookSeeds are notifications as Alertmanager writes them, which
// the fast path must take.
func fastWebhookSeeds(t testing.TB) [][]byte {
	t.Helper()
	var seeds [][]byte
	for _, name := range []string{"firing", "mixed", "resolved", "truncated", "empty_alerts"} {
		seeds = append(seeds, readFile(t, filepath.Join("testdata", "webhook", name+".json")))
	}
	return append(seeds,
		[]byte(`{"version":"4","groupKey":"{}:{run=\"x\"}","truncatedAlerts":18446744073709551615,"status":"firing","receiver":null,`+
			`"groupLabels":{},"commonLabels":null,"commonAnnotations":{"s":"t"},"routeLabels":null,"notification_reason":"",`+
			`"externalURL":"http://am","alerts":[{"status":"firing","labels":{"a":"b"},"annotations":null,"startsAt":"2026-03-14T10:00:00Z",`+
			`"endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"0123456789abcdef"}]}`),
		[]byte(`{"version":"4","status":"nonsense","alerts":[{"status":"firing","fingerprint":null}]}`), // a bad status is the parser's to refuse
	)
}

func TestDecodeAlertsV2FastTakesWhatPrometheusWrites(t *testing.T) {
	for _, body := range fastV2Seeds(t) {
		got, ok := decodeAlertsV2Fast(body)
		if !ok {
			t.Fatalf("fast path refused %s", body)
		}
		checkV2SameAsGeneral(t, body, got)
	}
}

func TestDecodeWebhookFastTakesWhatAlertmanagerWrites(t *testing.T) {
	for _, body := range fastWebhookSeeds(t) {
		var got wireWebhook
		if !decodeWebhookFast(body, &got) {
			t.Fatalf("fast path refused %s", body)
		}
		checkWebhookSameAsGeneral(t, body, &got)
	}
}

func TestDecodeFastLeavesTheRestToTheGeneralPath(t *testing.T) {
	alert := `{"labels":{"a":"b"}}`
	for name, body := range map[string]string{
		"unknown field":           `[{"labels":{"a":"b"},"bogus":1}]`,
		"field in other case":     `[{"Labels":{"a":"b"}}]`,
		"escaped field name":      `[{"lab\u0065ls":{"a":"b"}}]`,
		"repeated field":          `[{"labels":{"a":"b"},"labels":{"c":"d"}}]`,
		"null body":               `null`,
		"null alert":              `[null]`,
		"object body":             `{"alerts":[]}`,
		"labels a string":         `[{"labels":"a=b"}]`,
		"labels a list":           `[{"labels":["a","b"]}]`,
		"label value a number":    `[{"labels":{"a":1}}]`,
		"generatorURL a number":   `[{"labels":{"a":"b"},"generatorURL":1}]`,
		"trailing data":           `[` + alert + `]x`,
		"trailing comma":          `[` + alert + `,]`,
		"cut":                     `[` + alert,
		"missing colon":           `[{"labels" {"a":"b"}}]`,
		"control in string":       "[{\"labels\":{\"a\":\"b\nc\"}}]",
		"bad escape":              `[{"labels":{"a":"\x"}}]`,
		"short unicode escape":    `[{"labels":{"a":"\u12"}}]`,
		"bad literal":             `[{"labels":{"a":"b"},"endsAt":nul}]`,
		"number with bad tail":    `[{"labels":{"a":"b"},"startsAt":1.}]`,
		"number with bad exp":     `[{"labels":{"a":"b"},"startsAt":1e}]`,
		"leading zero":            `[{"labels":{"a":"b"},"startsAt":01}]`,
		"too deep":                `[{"labels":{"a":"b"},"startsAt":` + deep(40) + `}]`,
		"webhook body":            `{"version":"4","alerts":[` + alert + `]}`,
		"empty":                   ``,
		"truncatedAlerts signed":  `{"truncatedAlerts":-1}`,
		"truncatedAlerts float":   `{"truncatedAlerts":1.0}`,
		"truncatedAlerts exp":     `{"truncatedAlerts":1e2}`,
		"truncatedAlerts too big": `{"truncatedAlerts":18446744073709551616}`,
		"truncatedAlerts padded":  `{"truncatedAlerts":00}`,
		"webhook status a number": `{"status":1}`,
		"webhook unknown field":   `{"version":"4","extra":{}}`,
		"webhook alerts null":     `{"alerts":null}`,
		"webhook alert unknown":   `{"alerts":[{"labels":{"a":"b"},"value":"1"}]}`,
		"webhook trailing":        `{"version":"4"} {}`,
	} {
		t.Run(name, func(t *testing.T) {
			if alerts, ok := decodeAlertsV2Fast([]byte(body)); ok {
				t.Errorf("alerts push fast path took %s as %+v", body, alerts)
			}
			if name == "object body" || name == "webhook body" {
				return // a webhook payload the other fast path takes
			}
			var w wireWebhook
			if decodeWebhookFast([]byte(body), &w) {
				t.Errorf("webhook fast path took %s as %+v", body, w)
			}
		})
	}
}

// deep is a JSON value nested n arrays deep.
func deep(n int) string {
	b := make([]byte, 0, 2*n+1)
	for range n {
		b = append(b, '[')
	}
	b = append(b, '1')
	for range n {
		b = append(b, ']')
	}
	return string(b)
}

// FuzzDecodeAlertsV2Fast checks that whatever the fast path takes,
// encoding/json decodes to the same alerts.
func FuzzDecodeAlertsV2Fast(f *testing.F) {
	for _, body := range fastV2Seeds(f) {
		f.Add(body)
	}
	addSeeds(f, "v2")
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) {
			return // decode refuses it before the fast path
		}
		if got, ok := decodeAlertsV2Fast(body); ok {
			checkV2SameAsGeneral(t, body, got)
		}
	})
}

// FuzzDecodeWebhookFast checks that whatever the fast path takes,
// encoding/json decodes to the same payload.
func FuzzDecodeWebhookFast(f *testing.F) {
	for _, body := range fastWebhookSeeds(f) {
		f.Add(body)
	}
	addSeeds(f, "webhook")
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) {
			return // decode refuses it before the fast path
		}
		var got wireWebhook
		if decodeWebhookFast(body, &got) {
			checkWebhookSameAsGeneral(t, body, &got)
		}
	})
}

// checkV2SameAsGeneral fails t unless encoding/json decodes body without
// error into exactly got.
func checkV2SameAsGeneral(t *testing.T, body []byte, got []postableAlert) {
	t.Helper()
	var want []postableAlert
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("fast path took %q, encoding/json refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast path decoded %q as\n%#v\nencoding/json as\n%#v", body, got, want)
	}
}

// checkWebhookSameAsGeneral fails t unless encoding/json decodes body
// without error into exactly got.
func checkWebhookSameAsGeneral(t *testing.T, body []byte, got *wireWebhook) {
	t.Helper()
	var want wireWebhook
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("fast path took %q, encoding/json refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("fast path decoded %q as\n%#v\nencoding/json as\n%#v", body, *got, want)
	}
}
