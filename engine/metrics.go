package engine

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon/triage"
)

// metrics are the incident lifecycle figures, observed from live results
// only (not from recovery), so a restart does not count anything twice.
type metrics struct {
	opened        prometheus.Counter
	timeToAck     prometheus.Histogram
	timeToResolve prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, state *triage.State) *metrics {
	buckets := []float64{30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400}
	m := &metrics{
		opened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_incidents_opened_total", Help: "Incidents opened.",
		}),
		timeToAck: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "klaxon_incident_time_to_acknowledge_seconds", Help: "Time from an incident opening to its acknowledgement.", Buckets: buckets,
		}),
		timeToResolve: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "klaxon_incident_time_to_resolve_seconds", Help: "Time from an incident opening to its resolution.", Buckets: buckets,
		}),
	}
	if reg != nil {
		reg.MustRegister(m.opened, m.timeToAck, m.timeToResolve,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "klaxon_incidents_open", Help: "Incidents not yet resolved.",
			}, func() float64 { return float64(state.OpenCount()) }))
	}
	return m
}

func (m *metrics) observe(res *triage.Result) {
	m.opened.Add(float64(res.Opened))
	for _, d := range res.Acknowledged {
		m.timeToAck.Observe(d.Seconds())
	}
	for _, d := range res.Resolved {
		m.timeToResolve.Observe(d.Seconds())
	}
}
