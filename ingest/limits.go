package ingest

import "time"

// EarliestTime and LatestTime bound every startsAt and endsAt a payload may
// carry; a timestamp outside [EarliestTime, LatestTime) refuses the request
// with a 400 naming the field. The bounds are fixed instants, not relative
// to the receipt time, so a retried payload always gets the same answer.
// They keep a sender's broken clock (year 1, year 9999) out of the journal:
// no real alert began before the Unix epoch, and 2262 is where nanosecond
// Unix times overflow. A future time inside the bounds is kept as sent, as
// Alertmanager does; rules measure spans between instants saturated to
// [0, rules.MaxSpan]. Go's zero time (0001-01-01T00:00:00Z), which
// Alertmanager sends for "no end", still means unset.
var (
	EarliestTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	LatestTime   = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Limits bounds what one request may carry, so that a single sender cannot
// make Klaxon store or triage unbounded data. Zero fields take the defaults.
type Limits struct {
	// MaxAlerts is the most alerts one request may carry (default 10000).
	MaxAlerts int
	// MaxLabels is the most labels, and separately the most annotations, one
	// alert may carry (default 64).
	MaxLabels int
	// MaxLabelBytes bounds the length of one label's name plus value
	// (default 4096).
	MaxLabelBytes int
	// MaxAnnotationBytes bounds the length of one annotation's name plus
	// value; annotations hold prose, so the bound is looser (default 65536).
	MaxAnnotationBytes int
	// MaxBodyBytes is the largest request body the handlers read
	// (default 4 MiB).
	MaxBodyBytes int64
}

// The defaults Limits falls back to for fields left at zero.
const (
	DefaultMaxAlerts          = 10000
	DefaultMaxLabels          = 64
	DefaultMaxLabelBytes      = 4096
	DefaultMaxAnnotationBytes = 64 << 10
	DefaultMaxBodyBytes       = 4 << 20
)

// withDefaults returns l with every unset (zero or negative) field set to its
// default.
func (l Limits) withDefaults() Limits {
	if l.MaxAlerts <= 0 {
		l.MaxAlerts = DefaultMaxAlerts
	}
	if l.MaxLabels <= 0 {
		l.MaxLabels = DefaultMaxLabels
	}
	if l.MaxLabelBytes <= 0 {
		l.MaxLabelBytes = DefaultMaxLabelBytes
	}
	if l.MaxAnnotationBytes <= 0 {
		l.MaxAnnotationBytes = DefaultMaxAnnotationBytes
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return l
}
