package severity

import "time"

// MaxSpan bounds every span rules measure between two instants: a century,
// far beyond any real incident, and small enough that the span survives a
// round trip through float64 (the type conditions compare in) unchanged in
// sign.
const MaxSpan = 100 * 365 * 24 * time.Hour

// Span returns to.Sub(from) saturated to [0, MaxSpan]: an instant from a
// sender's broken clock (year 1, year 9999) gives a long or an empty span,
// never an overflowed or negative one.
func Span(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	return min(to.Sub(from), MaxSpan)
}
