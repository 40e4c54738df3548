// Package latency holds the few statistics the benchmark commands report
// over measured durations.
package latency

import "time"

// Quantile is the q-quantile of sorted durations (nearest rank), 0 if none.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Millis is d in (fractional) milliseconds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
