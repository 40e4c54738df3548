package ingest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPooledAlertsLeaveNothingBehind parses a payload whose alerts carry
// every field, then smaller ones with fewer fields, which decode into the
// same pooled slices: nothing of the first may show in the others.
func TestPooledAlertsLeaveNothingBehind(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	full := func(i int) string {
		return fmt.Sprintf(`{"labels":{"alertname":"A","n":"%d"},"annotations":{"summary":"s%d"},"startsAt":"2026-03-14T09:26:53Z","endsAt":"2026-03-14T10:26:53Z","generatorURL":"http://p/%d"}`, i, i, i)
	}
	bare := func(i int) string { return fmt.Sprintf(`{"labels":{"alertname":"B","n":"%d"}}`, i) }
	payload := func(n int, alert func(int) string) []byte {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = alert(i)
		}
		return []byte("[" + strings.Join(parts, ",") + "]")
	}
	for round := range 3 {
		if _, err := ParseAlertsV2(payload(50, full), now, Limits{}); err != nil {
			t.Fatal(err)
		}
		sigs, err := ParseAlertsV2(payload(10, bare), now, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range sigs {
			if s.Labels.Get("alertname") != "B" || s.Annotations.Len() != 0 || s.Link != "" || !s.StartsAt.Equal(now) {
				t.Fatalf("round %d: alert %d of the bare payload came out %+v", round, i, s)
			}
		}
	}
}
