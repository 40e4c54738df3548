package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// otherService is the service label of incidents whose service is not in the
// rules' catalogue (or that have none): the catalogue bounds the label.
const otherService = "other"

// metrics are the incident lifecycle figures, observed from live results
// only (not from recovery), so a restart does not count anything twice.
type metrics struct {
	state         *triage.State
	opened        prometheus.Counter
	timeToAck     *prometheus.HistogramVec
	timeToResolve *prometheus.HistogramVec
	timeToPage    prometheus.Histogram
	fallbacks     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, state *triage.State) *metrics {
	buckets := []float64{30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400}
	bySeverity := []string{"severity", "service"}
	m := &metrics{
		state: state,
		opened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_incidents_opened_total", Help: "Incidents opened.",
		}),
		timeToAck: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "klaxon_incident_time_to_acknowledge_seconds", Buckets: buckets,
			Help: "Time from an incident opening to its acknowledgement, by its severity then and its catalogue service (other: none).",
		}, bySeverity),
		timeToResolve: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "klaxon_incident_time_to_resolve_seconds", Buckets: buckets,
			Help: "Time from an incident opening to its resolution, by its severity then and its catalogue service (other: none).",
		}, bySeverity),
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
			openIncidents{state}, activeAlerts{state})
	}
	return m
}

func (m *metrics) observe(res *triage.Result) {
	m.opened.Add(float64(res.Opened))
	m.observeDurations(m.timeToAck, res, triage.EventAcknowledged, res.Acknowledged)
	m.observeDurations(m.timeToResolve, res, triage.EventResolved, res.Resolved)
	for _, d := range res.FirstPage {
		m.timeToPage.Observe(d.Seconds())
	}
	m.fallbacks.Add(float64(res.Fallbacks))
}

// observeDurations observes each duration under the severity and service of
// the incident whose event of the given kind it goes with: triage appends
// a duration and its event together, so the i-th duration is the i-th such
// event's.
func (m *metrics) observeDurations(h *prometheus.HistogramVec, res *triage.Result, kind triage.EventKind, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	i := 0
	for _, ev := range res.Events {
		if ev.Kind != kind || i == len(ds) {
			continue
		}
		h.WithLabelValues(ev.Severity, m.service(ev.Incident)).Observe(ds[i].Seconds())
		i++
	}
	for ; i < len(ds); i++ { // not expected: a duration without its event
		h.WithLabelValues("none", otherService).Observe(ds[i].Seconds())
	}
}

// service is the incident's service label: its service if the catalogue
// has it, else otherService.
func (m *metrics) service(key string) string {
	d, ok := m.state.Get(key, 0, 0)
	if !ok {
		return otherService
	}
	return catalogued(m.state.Rules(), d.Service)
}

// catalogued is name if the catalogue of rs holds it, else otherService.
func catalogued(rs *rules.Set, name string) string {
	if name == "" || rs == nil || rs.Service(name) == nil {
		return otherService
	}
	return name
}

// openIncidentsDesc describes klaxon_incidents_open.
var openIncidentsDesc = prometheus.NewDesc("klaxon_incidents_open",
	"Incidents not yet resolved, by severity and catalogue service (other: none); every pair is reported, at 0 when none is open.",
	[]string{"severity", "service"}, nil)

// openIncidents collects klaxon_incidents_open by counting the open
// incidents at scrape time, a page of the state's list at a time.
type openIncidents struct{ state *triage.State }

// Describe sends the metric's description.
func (o openIncidents) Describe(ch chan<- *prometheus.Desc) { ch <- openIncidentsDesc }

// Collect sends one gauge per severity level and service.
func (o openIncidents) Collect(ch chan<- prometheus.Metric) {
	for k, n := range o.count() {
		ch <- prometheus.MustNewConstMetric(openIncidentsDesc, prometheus.GaugeValue, float64(n), k.severity, k.service)
	}
}

// openKey is one klaxon_incidents_open series.
type openKey struct{ severity, service string }

// count returns the open incidents by severity and service, with every
// pair of a level and a catalogue service (or otherService) present.
func (o openIncidents) count() map[openKey]int {
	rs := o.state.Rules()
	counts := map[openKey]int{}
	if rs != nil {
		services := []string{otherService}
		for _, svc := range rs.Services() {
			services = append(services, svc.Name)
		}
		for _, l := range rs.Levels() {
			for _, svc := range services {
				counts[openKey{l.Name, svc}] = 0
			}
		}
	}
	f := triage.Filter{Status: "open", Limit: 1000}
	for {
		page, next := o.state.List(f)
		for _, s := range page {
			counts[openKey{s.Severity, catalogued(rs, s.Service)}]++
		}
		if next == 0 {
			return counts
		}
		f.Before = next
	}
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
