package ingest

import (
	"path/filepath"
	"testing"
)

// BenchmarkParseSources parses one recorded payload of each ticket,
// mention and event format.
func BenchmarkParseSources(b *testing.B) {
	for _, tc := range []struct{ dir, file string }{
		{"tickets-generic", "open.json"},
		{"zendesk", "created.json"},
		{"jsm", "issue_created.json"},
		{"mentions-generic", "post.json"},
		{"mastodon", "status_created.json"},
		{"x", "post.json"},
	} {
		body := readFile(b, filepath.Join("testdata", tc.dir, tc.file))
		parse := sourceParsers[tc.dir].parse
		b.Run(tc.dir, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parse(body, testNow, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	body := readFile(b, filepath.Join("testdata", "pagerduty", "trigger.json"))
	b.Run("pagerduty", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParsePagerDutyEvent(body, testNow, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("zendesk-verify", func(b *testing.B) {
		body := readFile(b, filepath.Join("testdata", "zendesk", "created.json"))
		secret := []byte("secret")
		sig := SignZendesk(body, "2026-03-14T10:00:00Z", secret)
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := VerifyZendesk(body, sig, "2026-03-14T10:00:00Z", secret, testNow, DefaultZendeskWindow); err != nil {
				b.Fatal(err)
			}
		}
	})
}
