package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// alert is one test alert, in whichever format it is sent.
type alert struct {
	Labels   map[string]string
	StartsAt time.Time
	EndsAt   time.Time // zero while firing
}

// newAlerts makes n firing alerts of one service, told apart by instance.
func newAlerts(alertname, service string, n int) []alert {
	start := time.Now().UTC().Truncate(time.Second)
	out := make([]alert, n)
	for i := range out {
		out[i] = alert{
			Labels: map[string]string{
				"alertname": alertname,
				"service":   service,
				"instance":  fmt.Sprintf("%s-%d:9100", service, i),
				"severity":  "warning",
			},
			StartsAt: start,
		}
	}
	return out
}

// resolved returns copies of alerts that ended at end.
func resolved(alerts []alert, end time.Time) []alert {
	out := make([]alert, len(alerts))
	for i, a := range alerts {
		a.EndsAt = end.UTC()
		out[i] = a
	}
	return out
}

// fingerprint is the alert's label-set fingerprint as Alertmanager computes it.
func (a alert) fingerprint() string {
	ls := make(model.LabelSet, len(a.Labels))
	for k, v := range a.Labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

// status is "resolved" once the alert has ended, else "firing".
func (a alert) status() string {
	if !a.EndsAt.IsZero() && !a.EndsAt.After(time.Now()) {
		return "resolved"
	}
	return "firing"
}

// identity is a readable, unique key of a label set, for set comparisons.
func identity(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for k, v := range labels {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// v2Alert is an alert of Alertmanager's and Prometheus' POST /api/v2/alerts.
type v2Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       *time.Time        `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL"`
}

// v2Payload encodes alerts as the body of POST /api/v2/alerts.
func v2Payload(alerts []alert) []byte {
	out := make([]v2Alert, len(alerts))
	for i, a := range alerts {
		out[i] = v2Alert{
			Labels:       a.Labels,
			Annotations:  map[string]string{"summary": "e2e alert " + a.Labels["instance"]},
			StartsAt:     a.StartsAt,
			GeneratorURL: "http://prometheus.e2e.invalid/graph",
		}
		if !a.EndsAt.IsZero() {
			end := a.EndsAt
			out[i].EndsAt = &end
		}
	}
	return mustJSON(out)
}

// webhookAlert is one alert of an Alertmanager webhook payload.
type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// webhookMessage is Alertmanager's webhook payload, version 4.
type webhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []webhookAlert    `json:"alerts"`
}

// webhookPayload encodes alerts as Alertmanager's webhook would send them.
func webhookPayload(alerts []alert) []byte {
	msg := webhookMessage{
		Version:           "4",
		GroupKey:          "{}:{}",
		Status:            "resolved",
		Receiver:          "klaxon",
		GroupLabels:       map[string]string{},
		CommonLabels:      map[string]string{},
		CommonAnnotations: map[string]string{},
		ExternalURL:       "http://alertmanager.e2e.invalid",
	}
	for _, a := range alerts {
		st := a.status()
		if st == "firing" {
			msg.Status = "firing"
		}
		msg.Alerts = append(msg.Alerts, webhookAlert{
			Status:       st,
			Labels:       a.Labels,
			Annotations:  map[string]string{"summary": "e2e alert " + a.Labels["instance"]},
			StartsAt:     a.StartsAt,
			EndsAt:       a.EndsAt,
			GeneratorURL: "http://prometheus.e2e.invalid/graph",
			Fingerprint:  a.fingerprint(),
		})
	}
	return mustJSON(msg)
}

// mustJSON encodes v, which cannot fail for the types above.
func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encoding %T: %v", v, err))
	}
	return data
}
