package triage

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/signal"
)

// describeWithFmt is how describe wrote a signal before it stopped going
// through fmt, which it must still match byte for byte: its output is in
// journaled state.
func describeWithFmt(sig *signal.Signal) string {
	var b strings.Builder
	b.WriteString(sig.Labels.Get("alertname"))
	b.WriteByte('{')
	first := true
	for _, k := range slices.Sorted(maps.Keys(sig.Labels.Map())) {
		if k == "alertname" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%s=%q", k, sig.Labels.Get(k))
	}
	b.WriteByte('}')
	return truncate(b.String(), 300)
}

func TestDescribeMatchesFmt(t *testing.T) {
	for name, labels := range map[string]map[string]string{
		"none":        {},
		"alertname":   {"alertname": "HighLatency"},
		"plain":       {"alertname": "HighLatency", "service": "api", "instance": "10.0.0.1:9100"},
		"no name":     {"service": "api"},
		"quotes":      {"alertname": "X", "msg": `say "hi" \ there`},
		"control":     {"alertname": "X", "tab": "a\tb\nc\x00", "bell": "\a"},
		"unicode":     {"alertname": "Ü", "region": "zürich 🚨", "bad": "a\xffb"},
		"truncated":   {"alertname": "Long", "a": strings.Repeat("é", 200), "b": strings.Repeat("x", 200)},
		"empty value": {"alertname": "X", "empty": ""},
	} {
		t.Run(name, func(t *testing.T) {
			sig := &signal.Signal{Labels: signal.StringsFrom(labels)}
			if got, want := describe(sig), describeWithFmt(sig); got != want {
				t.Fatalf("describe = %q, want %q", got, want)
			}
		})
	}
}
