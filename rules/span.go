package rules

import (
	"time"

	"github.com/klaxonhq/klaxon/rules/severity"
)

// MaxSpan bounds every span rules measure between two instants (see
// severity.MaxSpan).
const MaxSpan = severity.MaxSpan

// Span returns to.Sub(from) saturated to [0, MaxSpan], so that a sender's
// broken clock gives a long or an empty span, never an overflowed one.
func Span(from, to time.Time) time.Duration { return severity.Span(from, to) }
