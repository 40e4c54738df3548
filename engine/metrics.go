package engine

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// metrics are the incident lifecycle figures, observed from live results
// only (not from recovery), so a restart does not count anything twice.
type metrics struct {
	opened        prometheus.Counter
	timeToAck     prometheus.Histogram
	timeToResolve prometheus.Histogram
	timeToPage    prometheus.Histogram
	fallbacks     prometheus.Counter
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
		timeToPage: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "klaxon_incident_time_to_first_page_seconds", Help: "Time from an incident opening to its first delivered page.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 86400},
		}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_escalations_fallback_total", Help: "Escalations spent without an acknowledgement, that paged their policy's fallback receiver.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.opened, m.timeToAck, m.timeToResolve, m.timeToPage, m.fallbacks,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "klaxon_incidents_open", Help: "Incidents not yet resolved.",
			}, func() float64 { return float64(state.OpenCount()) }),
			activeAlerts{state})
	}
	return m
}

// activeAlertsDesc describes klaxon_alerts_active.
var activeAlertsDesc = prometheus.NewDesc("klaxon_alerts_active",
	"Firing alerts the triage state holds, by the source of their latest signal; what limits.active_alerts and limits.active_alerts_per_source bound.",
	[]string{"source"}, nil)

// activeAlerts collects klaxon_alerts_active from the state's counts at
// scrape time; every known source is reported, at 0 when it holds none.
type activeAlerts struct{ state *triage.State }

// Describe sends the metric's description.
func (a activeAlerts) Describe(ch chan<- *prometheus.Desc) { ch <- activeAlertsDesc }

// Collect sends one gauge per source.
func (a activeAlerts) Collect(ch chan<- prometheus.Metric) {
	by := a.state.Held().BySource
	for _, src := range []signal.Source{signal.SourceAlertmanager, signal.SourcePrometheus} {
		if _, ok := by[src]; !ok {
			by[src] = 0
		}
	}
	for src, n := range by {
		ch <- prometheus.MustNewConstMetric(activeAlertsDesc, prometheus.GaugeValue, float64(n), string(src))
	}
}

func (m *metrics) observe(res *triage.Result) {
	m.opened.Add(float64(res.Opened))
	for _, d := range res.Acknowledged {
		m.timeToAck.Observe(d.Seconds())
	}
	for _, d := range res.Resolved {
		m.timeToResolve.Observe(d.Seconds())
	}
	for _, d := range res.FirstPage {
		m.timeToPage.Observe(d.Seconds())
	}
	m.fallbacks.Add(float64(res.Fallbacks))
}
