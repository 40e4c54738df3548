package slack

import "github.com/prometheus/client_golang/prometheus"

// metrics count the worker's attempts, so that a Slack that is down or
// rate-limiting shows on /metrics.
type metrics struct {
	attempts    *prometheus.CounterVec // by op and outcome: delivered, retry, failed
	rateLimited prometheus.Counter     // Retry-After waits within attempts
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_chat_attempts_total",
			Help: "Attempts at chat-room intents in Slack, by operation and outcome (delivered, retry, failed).",
		}, []string{"op", "outcome"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_chat_rate_limited_total",
			Help: "Slack answers of 429 whose Retry-After the chat worker waited out.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.attempts, m.rateLimited)
	}
	return m
}

func (m *metrics) attempt(op string, ok, retry bool) {
	outcome := "failed"
	switch {
	case ok:
		outcome = "delivered"
	case retry:
		outcome = "retry"
	}
	m.attempts.WithLabelValues(op, outcome).Inc()
}
