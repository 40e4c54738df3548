package rules

import (
	"strings"
	"testing"
	"time"
)

func TestSpan(t *testing.T) {
	yearOne := time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)
	year9999 := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     time.Duration
	}{
		{"ordinary", now.Add(-90 * time.Minute), now, 90 * time.Minute},
		{"equal", now, now, 0},
		{"reversed", now, now.Add(-time.Hour), 0},
		{"from year one", yearOne, now, MaxSpan},
		{"to year 9999", now, year9999, MaxSpan},
		{"year one to year 9999", yearOne, year9999, MaxSpan},
		{"year 9999 to year one", year9999, yearOne, 0},
		{"zero time", time.Time{}, now, MaxSpan},
		{"just under the cap", now.Add(-MaxSpan + 1), now, MaxSpan - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Span(tc.from, tc.to)
			if got != tc.want {
				t.Fatalf("Span = %v, want %v", got, tc.want)
			}
			if back := time.Duration(float64(got)); back < 0 {
				t.Fatalf("Span %v turns negative through float64: %v", got, back)
			}
		})
	}
}

// TestDurationRuleWithAbsurdStart: an incident whose start comes from a
// broken clock is measured as open for at most MaxSpan, never a negative or
// overflowed duration, and a start in the future counts as just opened.
func TestDurationRuleWithAbsurdStart(t *testing.T) {
	s, err := Compile([]File{{Name: "d.yml", Data: []byte(`
severity:
  rules:
    - name: long
      level: SEV2
      when: {duration: {">=": 2h}}
    - name: short
      level: SEV3
      when: {duration: {"<": 2h}}
`)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		started     time.Time
		rule        string
		explanation string
		recheck     time.Time
	}{
		{"year one", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), "long", "open for 100y >= 2h", time.Time{}},
		{"one hour ago", now.Add(-time.Hour), "short", "open for 1h < 2h", now.Add(time.Hour)},
		{"three hours ago", now.Add(-3 * time.Hour), "long", "open for 3h >= 2h", time.Time{}},
		{"in the future", now.Add(time.Hour), "short", "open for 0s < 2h", now.Add(3 * time.Hour)},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), "short", "open for 0s < 2h",
			time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Add(2 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := s.Evaluate(&Facts{Now: now, Started: tc.started})
			if v.Rule != tc.rule || !strings.Contains(v.Explanation, tc.explanation) {
				t.Errorf("rule %q: %s; want rule %q explaining %q", v.Rule, v.Explanation, tc.rule, tc.explanation)
			}
			if strings.Contains(v.Explanation, "-") {
				t.Errorf("negative duration in %q", v.Explanation)
			}
			if !v.Recheck.Equal(tc.recheck) {
				t.Errorf("recheck %s, want %s", v.Recheck, tc.recheck)
			}
		})
	}
}
