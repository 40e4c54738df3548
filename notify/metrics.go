package notify

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are Alertmanager's notification metrics under Klaxon's namespace.
type metrics struct {
	total   *prometheus.CounterVec
	failed  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		total: f.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_notifications_total",
			Help: "The total number of attempted notifications.",
		}, []string{"integration"}),
		failed: f.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_notifications_failed_total",
			Help: "The total number of failed notifications.",
		}, []string{"integration", "reason"}),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "klaxon_notification_latency_seconds",
			Help:    "The latency of notifications in seconds.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 15, 20},
		}, []string{"integration"}),
	}
}
