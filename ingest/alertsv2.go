package ingest

import (
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// postableAlert is one alert in an Alertmanager API v2 POST /api/v2/alerts
// body (models.PostableAlert), as Prometheus sends it.
type postableAlert struct {
	Labels       wireKV   `json:"labels"`
	Annotations  wireKV   `json:"annotations"`
	StartsAt     wireTime `json:"startsAt"`
	EndsAt       wireTime `json:"endsAt"`
	GeneratorURL string   `json:"generatorURL"`
}

// ParseAlertsV2 parses the body of an Alertmanager API v2 alerts push,
// received at now, into signals from signal.SourcePrometheus, with
// Alertmanager's semantics: an alert without an end time is firing and ends
// after the default resolve timeout (5m) unless pushed again; one whose end
// time is not after now is resolved. It rejects the whole body, with an
// *Error, if any part of it is bad.
func ParseAlertsV2(body []byte, now time.Time, lim Limits) ([]signal.Signal, error) {
	sigs, n, err := parseAlertsV2(body, now, lim.withDefaults())
	return sigs, withAlerts(err, n)
}

// parseAlertsV2 is ParseAlertsV2 with lim already defaulted; it also
// returns how many alerts the body held, for counting rejected ones.
func parseAlertsV2(body []byte, now time.Time, lim Limits) ([]signal.Signal, int, error) {
	var alerts []postableAlert
	fast := func() (ok bool) {
		var got []postableAlert
		if got, ok = decodeAlertsV2Fast(body); ok {
			alerts = got
		}
		return ok
	}
	defer func() { postables.put(alerts) }()
	if err := decodeWith[postableAlert](body, &alerts, true, fast); err != nil {
		return nil, len(alerts), err
	}
	n := len(alerts)
	if alerts == nil {
		return nil, 0, &Error{Msg: "body must be a JSON array of alerts, got null"}
	}
	p := newAlertParser(lim, now)
	if err := p.tooManyAlerts(n); err != nil {
		return nil, n, err
	}
	sigs := signalSlices.get(n)[:n]
	for i := range alerts {
		a := &alerts[i]
		start, end, err := p.times(i, a.StartsAt, a.EndsAt)
		if err != nil {
			return nil, n, err
		}
		if end.IsZero() {
			end = p.now.Add(resolveTimeout)
			if end.Before(start) { // Alertmanager refuses this too
				return nil, n, &Error{Field: alertPath(i, "startsAt"), Msg: fmt.Sprintf("is more than %s after receipt and no endsAt is given", resolveTimeout)}
			}
		}
		status := signal.StatusFiring
		if !end.After(p.now) {
			status = signal.StatusResolved
		}
		sig, err := p.signal(i, signal.SourcePrometheus, status, a.Labels, a.Annotations, start, end, a.GeneratorURL)
		if err != nil {
			return nil, n, err
		}
		sigs[i] = sig
	}
	return sigs, n, nil
}
