package journal

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the journal's Prometheus instruments; they exist (unregistered)
// even when no Registerer is given, so the hot path never checks for nil.
type metrics struct {
	commitDuration   prometheus.Histogram
	commitRecords    prometheus.Histogram
	commitFailures   prometheus.Counter
	lastSeq          prometheus.Gauge
	snapshotDuration prometheus.Histogram
}

// newMetrics builds the instruments and registers them with reg if it is not
// nil. Instruments already registered by an earlier journal in the same
// process are reused, so a journal can be reopened.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		commitDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "klaxon_journal_commit_duration_seconds",
			Help:    "Time to write and fsync one group commit of the journal.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		commitRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "klaxon_journal_commit_batch_records",
			Help:    "Records written by one group commit of the journal.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		commitFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_journal_commit_failures_total",
			Help: "Group commits of the journal that failed to become durable.",
		}),
		lastSeq: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_journal_last_sequence",
			Help: "Sequence number of the last durable journal record.",
		}),
		snapshotDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "klaxon_journal_snapshot_duration_seconds",
			Help:    "Time to take and store one snapshot of the journal's state machine.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.commitDuration, err = register(reg, m.commitDuration); err != nil {
		return nil, err
	}
	if m.commitRecords, err = register(reg, m.commitRecords); err != nil {
		return nil, err
	}
	if m.commitFailures, err = register(reg, m.commitFailures); err != nil {
		return nil, err
	}
	if m.lastSeq, err = register(reg, m.lastSeq); err != nil {
		return nil, err
	}
	if m.snapshotDuration, err = register(reg, m.snapshotDuration); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c with reg, or returns the identical collector that is
// already registered there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register journal metrics: %w", err)
}
