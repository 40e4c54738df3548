package triage

import "time"

// stamp is an instant in 8 bytes rather than time.Time's 24, for the times
// every alert and timeline event holds: Unix nanoseconds, 0 for the zero
// Time (and so for the instant 1970-01-01T00:00:00Z, which no record has).
// Triage's instants are UTC (the journal's record times), so a stamp gives
// back the same Time, and its JSON is the Time's.
type stamp int64

// stampOf is t as a stamp.
func stampOf(t time.Time) stamp {
	if t.IsZero() {
		return 0
	}
	return stamp(t.UnixNano())
}

// Time is the instant in UTC; the zero Time for 0.
func (s stamp) Time() time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(s)).UTC()
}

// IsZero reports whether s is the zero Time (omitzero uses it).
func (s stamp) IsZero() bool { return s == 0 }

// MarshalJSON encodes s as time.Time does.
func (s stamp) MarshalJSON() ([]byte, error) { return s.Time().MarshalJSON() }

// UnmarshalJSON decodes a time.Time's JSON.
func (s *stamp) UnmarshalJSON(data []byte) error {
	var t time.Time
	if err := t.UnmarshalJSON(data); err != nil {
		return err
	}
	*s = stampOf(t)
	return nil
}
