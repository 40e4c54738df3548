package ingest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/common/model"
)

// benchAlerts is how many alerts the benchmark payloads carry.
const benchAlerts = 100

// benchAlert returns the i-th alert of a benchmark payload, shaped like a
// typical Prometheus alert.
func benchAlert(i int) map[string]any {
	return map[string]any{
		"labels": map[string]string{
			"alertname": "HighErrorRate", "service": "api", "severity": "critical", "job": "api",
			"instance": fmt.Sprintf("api-%d.prod.example.com:9090", i), "namespace": "prod",
			"cluster": "eu-west-1", "team": "payments",
		},
		"annotations": map[string]string{
			"summary":     "API error rate above 5%",
			"description": fmt.Sprintf("api-%d is answering 7.3%% of requests with 5xx", i),
			"runbook_url": "https://runbooks.example.com/api-errors",
		},
		"startsAt":     "2026-03-14T09:26:53.589793238Z",
		"endsAt":       "2026-03-14T10:04:53.589793238Z",
		"generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=rate%28http_errors_total%5B5m%5D%29+%3E+0.05&g0.tab=1",
	}
}

// benchV2Body is a POST /api/v2/alerts body of benchAlerts alerts.
func benchV2Body(b *testing.B) []byte {
	alerts := make([]map[string]any, benchAlerts)
	for i := range alerts {
		alerts[i] = benchAlert(i)
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// benchWebhookBody is an Alertmanager webhook notification of benchAlerts
// alerts.
func benchWebhookBody(b *testing.B) []byte {
	alerts := make([]map[string]any, benchAlerts)
	for i := range alerts {
		a := benchAlert(i)
		a["status"] = "firing"
		a["endsAt"] = "0001-01-01T00:00:00Z"
		a["fingerprint"] = fmt.Sprintf("%016x", i)
		alerts[i] = a
	}
	body, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": `{}:{alertname="HighErrorRate"}`, "truncatedAlerts": 0,
		"status": "firing", "receiver": "klaxon", "notification_reason": "",
		"groupLabels":       map[string]string{"alertname": "HighErrorRate"},
		"commonLabels":      map[string]string{"alertname": "HighErrorRate", "service": "api", "severity": "critical"},
		"commonAnnotations": map[string]string{"summary": "API error rate above 5%"},
		"routeLabels":       nil,
		"externalURL":       "http://alertmanager.example.com:9093",
		"alerts":            alerts,
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkParseWebhook(b *testing.B) {
	body := benchWebhookBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseWebhook(body, testNow, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAlertsV2(b *testing.B) {
	body := benchV2Body(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAlertsV2(body, testNow, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAlertmanagerParseAlertsV2 is the baseline: what Alertmanager
// v0.35's POST /api/v2/alerts does with the same body before storing it
// (go-openapi decoding and validation, conversion, alert validation and
// fingerprinting).
func BenchmarkAlertmanagerParseAlertsV2(b *testing.B) {
	body := benchV2Body(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var in models.PostableAlerts
		if err := json.Unmarshal(body, &in); err != nil {
			b.Fatal(err)
		}
		if err := in.Validate(strfmt.Default); err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		out := make([]*alert.Alert, 0, len(in))
		for _, pa := range in {
			a := model.Alert{
				Labels:       make(model.LabelSet, len(pa.Labels)),
				Annotations:  make(model.LabelSet, len(pa.Annotations)),
				StartsAt:     time.Time(pa.StartsAt),
				EndsAt:       time.Time(pa.EndsAt),
				GeneratorURL: string(pa.GeneratorURL),
			}
			for k, v := range pa.Labels {
				a.Labels[model.LabelName(k)] = model.LabelValue(v)
			}
			for k, v := range pa.Annotations {
				a.Annotations[model.LabelName(k)] = model.LabelValue(v)
			}
			if err := alert.Validate(&a); err != nil {
				b.Fatal(err)
			}
			out = append(out, alert.New(a, now, false))
		}
	}
}
