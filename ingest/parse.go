// Package ingest turns Alertmanager's webhook notifications and Prometheus'
// alert pushes into signals; it does no HTTP (server/ingest.go serves the endpoints).
package ingest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/prometheus/common/model"

	"github.com/klaxonhq/klaxon/signal"
)

// resolveTimeout is how long an alert pushed without an end time stays
// firing unless it is pushed again: Alertmanager's default resolve_timeout.
const resolveTimeout = 5 * time.Minute

// customerLabel is the label that names the affected customer.
const customerLabel = "customer"

// wireTime is an RFC3339 timestamp in a payload. A malformed one does not
// stop decoding: it is recorded, and reported with the alert's index once
// decoding is done, which encoding/json's own errors could not do.
type wireTime struct {
	at  time.Time
	bad string // why the value is not a timestamp; empty if it is one
}

// UnmarshalJSON decodes an RFC3339 string; null leaves the time unset.
func (t *wireTime) UnmarshalJSON(b []byte) error {
	if err := t.at.UnmarshalJSON(b); err != nil {
		if b[0] == '"' {
			t.bad = "must be an RFC3339 timestamp, got " + quote(string(b[1:len(b)-1]))
		} else {
			t.bad = "wrong type: got JSON " + signal.JSONKind(b) + ", want RFC3339 timestamp string"
		}
	}
	return nil
}

// skipString is a string field whose value Klaxon does not use, such as the
// sender's fingerprint (always recomputed, never trusted). It checks the
// type without allocating a copy.
type skipString struct{}

// UnmarshalJSON accepts a JSON string or null.
func (skipString) UnmarshalJSON(b []byte) error {
	if b[0] == '"' || b[0] == 'n' {
		return nil
	}
	return &json.UnmarshalTypeError{Value: signal.JSONKind(b), Type: reflect.TypeFor[string]()}
}

// alertParser validates the decoded alerts of one payload and turns them
// into signals.
type alertParser struct {
	lim Limits
	now time.Time
}

// newAlertParser returns a parser for one payload received at now.
func newAlertParser(lim Limits, now time.Time) *alertParser {
	return &alertParser{lim: lim, now: now.UTC()}
}

// times checks the i-th alert's start and end. As Alertmanager does, an
// alert without a start began when it ended or, if it has no end either,
// now. A zero end means the sender gave none.
func (p *alertParser) times(i int, startsAt, endsAt wireTime) (start, end time.Time, err error) {
	if startsAt.bad != "" {
		return start, end, &Error{Field: alertPath(i, "startsAt"), Msg: startsAt.bad}
	}
	if endsAt.bad != "" {
		return start, end, &Error{Field: alertPath(i, "endsAt"), Msg: endsAt.bad}
	}
	start, end = startsAt.at.UTC(), endsAt.at.UTC()
	if err := checkBounds(i, "startsAt", start); err != nil {
		return start, end, err
	}
	if err := checkBounds(i, "endsAt", end); err != nil {
		return start, end, err
	}
	if start.IsZero() {
		start = p.now
		if !end.IsZero() {
			start = end
		}
	}
	if !end.IsZero() && end.Before(start) {
		return start, end, &Error{Field: alertPath(i, "endsAt"), Msg: "must not be before startsAt"}
	}
	return start, end, nil
}

// checkBounds refuses a set timestamp outside [EarliestTime, LatestTime).
func checkBounds(i int, field string, t time.Time) error {
	if t.IsZero() || !t.Before(EarliestTime) && t.Before(LatestTime) {
		return nil
	}
	return &Error{Field: alertPath(i, field), Msg: fmt.Sprintf("%s is outside the accepted range [%s, %s)",
		t.Format(time.RFC3339Nano), EarliestTime.Format(time.RFC3339), LatestTime.Format(time.RFC3339))}
}

// signal validates the labels and annotations of the i-th alert and returns
// it as a signal from src. Empty label values are dropped first, as
// Alertmanager does: an empty value means the label is absent.
func (p *alertParser) signal(i int, src signal.Source, status signal.Status, labels, annotations signal.Strings, start, end time.Time, link string) (signal.Signal, error) {
	if err := p.checkCount(i, "labels", labels); err != nil {
		return signal.Signal{}, err
	}
	labels = labels.Without(func(_, value string) bool { return value == "" })
	if err := p.checkStrings(i, "labels", labels, p.lim.MaxLabelBytes); err != nil {
		return signal.Signal{}, err
	}
	if labels.IsZero() {
		return signal.Signal{}, &Error{Field: alertPath(i, "labels"), Msg: "must not be empty"}
	}
	if err := p.checkCount(i, "annotations", annotations); err != nil {
		return signal.Signal{}, err
	}
	if err := p.checkStrings(i, "annotations", annotations, p.lim.MaxAnnotationBytes); err != nil {
		return signal.Signal{}, err
	}
	if annotations.IsZero() {
		annotations = signal.Strings{}
	}
	sig := signal.Signal{
		Source:      src,
		Kind:        signal.KindAlert,
		Fingerprint: fingerprint(labels),
		Status:      status,
		Labels:      labels,
		Annotations: annotations,
		StartsAt:    start,
		EndsAt:      end,
		Link:        link,
	}
	sig.SetReport(signal.Report{Customer: labels.Get(customerLabel)})
	return sig, nil
}

// checkCount refuses more labels or annotations (field) in the i-th alert
// than the limit.
func (p *alertParser) checkCount(i int, field string, m signal.Strings) error {
	if n := m.Len(); n > p.lim.MaxLabels {
		return &Error{Field: alertPath(i, field), Msg: fmt.Sprintf("%d entries, more than the limit of %d", n, p.lim.MaxLabels)}
	}
	return nil
}

// checkStrings validates the names of the labels or annotations (field) of
// the i-th alert and the size of each name and value. Values are valid
// UTF-8 already (see decode).
func (p *alertParser) checkStrings(i int, field string, m signal.Strings, maxBytes int) error {
	for name, value := range m.All() {
		if !model.UTF8Validation.IsValidLabelName(name) {
			return &Error{Field: alertPath(i, field), Msg: "invalid name " + quote(name)}
		}
		if n := len(name) + len(value); n > maxBytes {
			return &Error{Field: keyPath(i, field, name), Msg: fmt.Sprintf("name and value are %d bytes, more than the limit of %d", n, maxBytes)}
		}
	}
	return nil
}

// tooManyAlerts reports whether n alerts exceed the limit, as an error.
func (p *alertParser) tooManyAlerts(n int) error {
	if n > p.lim.MaxAlerts {
		return &Error{Field: "alerts", Msg: fmt.Sprintf("%d alerts, more than the limit of %d", n, p.lim.MaxAlerts)}
	}
	return nil
}
