package ingest

import (
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// webhookVersion is the only version of Alertmanager's webhook payload
// Klaxon understands.
const webhookVersion = "4"

// WebhookMeta is what an Alertmanager notification says about itself,
// besides its alerts.
type WebhookMeta struct {
	// GroupKey identifies the Alertmanager aggregation group notified.
	GroupKey string
	// Receiver is the name of the Alertmanager receiver that sent it.
	Receiver string
	// TruncatedAlerts is how many alerts Alertmanager left out because of
	// the receiver's max_alerts.
	TruncatedAlerts uint64
	// ExternalURL is the sending Alertmanager's URL.
	ExternalURL string
}

// wireWebhook is Alertmanager's webhook payload (notify/webhook.Message,
// template.Data). Fields Klaxon does not use are decoded anyway so that a
// wrong type is caught.
type wireWebhook struct {
	Version            string         `json:"version"`
	GroupKey           string         `json:"groupKey"`
	TruncatedAlerts    uint64         `json:"truncatedAlerts"`
	Status             wireStatus     `json:"status"`
	Receiver           string         `json:"receiver"`
	GroupLabels        wireKV         `json:"groupLabels"`
	CommonLabels       wireKV         `json:"commonLabels"`
	CommonAnnotations  wireKV         `json:"commonAnnotations"`
	RouteLabels        wireKV         `json:"routeLabels"`
	NotificationReason string         `json:"notification_reason"`
	ExternalURL        string         `json:"externalURL"`
	Alerts             []webhookAlert `json:"alerts"`
}

// webhookAlert is one alert in a webhook payload (template.Alert).
type webhookAlert struct {
	Status       wireStatus `json:"status"`
	Labels       wireKV     `json:"labels"`
	Annotations  wireKV     `json:"annotations"`
	StartsAt     wireTime   `json:"startsAt"`
	EndsAt       wireTime   `json:"endsAt"`
	GeneratorURL string     `json:"generatorURL"`
	Fingerprint  skipString `json:"fingerprint"`
}

// ParseWebhook parses an Alertmanager webhook notification (payload version
// 4) received at now into signals from signal.SourceAlertmanager. It
// rejects the whole payload, with an *Error, if any part of it is bad.
func ParseWebhook(body []byte, now time.Time, lim Limits) (WebhookMeta, []signal.Signal, error) {
	meta, sigs, n, err := parseWebhook(body, now, lim.withDefaults())
	return meta, sigs, withAlerts(err, n)
}

// parseWebhook is ParseWebhook with lim already defaulted; it also returns
// how many alerts the payload held, for counting rejected ones.
func parseWebhook(body []byte, now time.Time, lim Limits) (WebhookMeta, []signal.Signal, int, error) {
	var w wireWebhook
	fast := func() bool {
		var got wireWebhook
		if !decodeWebhookFast(body, &got) {
			return false
		}
		w = got
		return true
	}
	defer func() { webhookAlerts.put(w.Alerts) }()
	if err := decodeWith[webhookAlert](body, &w, false, fast); err != nil {
		return WebhookMeta{}, nil, len(w.Alerts), err
	}
	meta := WebhookMeta{GroupKey: w.GroupKey, Receiver: w.Receiver, TruncatedAlerts: w.TruncatedAlerts, ExternalURL: w.ExternalURL}
	n := len(w.Alerts)
	if w.Version != webhookVersion {
		return meta, nil, n, &Error{Field: "version", Msg: "unsupported version " + quote(w.Version) + `, want "` + webhookVersion + `"`}
	}
	if err := w.Status.check("status"); err != nil {
		return meta, nil, n, err
	}
	p := newAlertParser(lim, now)
	if err := p.tooManyAlerts(n); err != nil {
		return meta, nil, n, err
	}
	sigs := signalSlices.get(n)[:n]
	for i := range w.Alerts {
		a := &w.Alerts[i]
		if a.Status.status == "" { // the path only for the error: building it took 2% of webhook ingest
			return meta, nil, n, a.Status.check(alertPath(i, "status"))
		}
		start, end, err := p.times(i, a.StartsAt, a.EndsAt)
		if err != nil {
			return meta, nil, n, err
		}
		sig, err := p.signal(i, signal.SourceAlertmanager, a.Status.status, a.Labels, a.Annotations, start, end, a.GeneratorURL)
		if err != nil {
			return meta, nil, n, err
		}
		sigs[i] = sig
	}
	return meta, sigs, n, nil
}

// wireStatus is a status in a webhook payload, decoded without allocating
// a copy of the string.
type wireStatus struct {
	status signal.Status // empty unless the value was firing or resolved
	got    string        // what the value was otherwise
}

// UnmarshalJSON decodes a JSON string; null leaves the status unset.
func (s *wireStatus) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"firing"`:
		s.status = signal.StatusFiring
	case `"resolved"`:
		s.status = signal.StatusResolved
	case "null":
	default:
		if b[0] != '"' {
			return &json.UnmarshalTypeError{Value: signal.JSONKind(b), Type: stringType}
		}
		if err := json.Unmarshal(b, &s.got); err != nil {
			return err
		}
		if st := signal.Status(s.got); st == signal.StatusFiring || st == signal.StatusResolved {
			s.status = st
		}
	}
	return nil
}

// check returns an error for the field at path unless the status was
// firing or resolved.
func (s *wireStatus) check(path string) error {
	if s.status == "" {
		return &Error{Field: path, Msg: `must be "firing" or "resolved", got ` + quote(s.got)}
	}
	return nil
}
