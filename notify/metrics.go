package notify

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are Alertmanager's notification metrics under Klaxon's namespace.
type metrics struct {
	total   *prometheus.CounterVec
	failed  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// newMetrics registers the metrics with reg, or takes over the ones a
// Dispatcher before it registered there: a dispatcher rebuilt after a
// reload keeps counting where the last one stopped.
func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		total: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_notifications_total",
			Help: "The total number of attempted notifications.",
		}, []string{"integration"})),
		failed: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_notifications_failed_total",
			Help: "The total number of failed notifications.",
		}, []string{"integration", "reason"})),
		latency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "klaxon_notification_latency_seconds",
			Help:    "The latency of notifications in seconds.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 15, 20},
		}, []string{"integration"})),
	}
}

// register registers c with reg (if any), or returns the collector of the
// same description registered before.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("notify: register metrics: %v", err))
	}
	return c
}
