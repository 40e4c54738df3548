package replay

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// cSev1 makes alert C a SEV1; the other versions of sev.yml do not.
var (
	cSev1 = rules.File{Name: "candidate/sev.yml", Data: []byte(`
severity:
  rules:
    - name: c-sev1
      level: SEV1
      when: {match: '{alertname="C"}'}
`)}
	recordedCSev1 = rules.File{Name: "configs/rules/sev.yml", Data: cSev1.Data}
	zSev1         = rules.File{Name: "configs/rules/sev.yml", Data: []byte(`
severity:
  rules:
    - name: z-sev1
      level: SEV1
      when: {match: '{alertname="Z"}'}
`)}
)

func ruleChange(at time.Time, files ...rules.File) timed {
	return timed{at, &triage.Entry{Rules: &triage.RulesChange{Files: files}}}
}

// from drops a journal's records before seq, as retention does.
func from(read Reader, seq uint64) Reader {
	return func(f uint64, fn func(journal.Record) error) error { return read(max(f, seq), fn) }
}

// abc is three incidents: A and B in the first minutes, C two hours later.
func abc(t *testing.T, before ...timed) Reader {
	return journalOf(t, append(before,
		signals(t0, firing(t0, "alertname", "A", "service", "a")),
		signals(t0.Add(time.Minute), firing(t0, "alertname", "B", "service", "b")),
		signals(t0.Add(2*time.Hour), firing(t0.Add(2*time.Hour), "alertname", "C", "service", "c")),
	)...)
}

// TestReplayTraps: each way a replay's report misled, and the line it
// prints now.
func TestReplayTraps(t *testing.T) {
	window := Options{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour), Candidate: []rules.File{cSev1}}
	tests := []struct {
		name   string
		read   Reader
		opts   Options
		n      int
		lines  []string // substrings of the differences
		absent []string
		notes  []string // substrings of Report.Rules, in order
	}{{
		name:   "a windowed replay names production's key",
		read:   abc(t),
		opts:   window,
		n:      1,
		lines:  []string{`~ INC-3, opened by C{service="c"}: SEV3 (no rule (default severity); 1 alert; triggered) -> SEV1 (rule "c-sev1"; 1 alert; triggered)`},
		absent: []string{"INC-1"},
		notes:  []string{"the recorded run starts under rules that differ from the candidate: the recorded rules are the built-in defaults"},
	}, {
		name:  "a truncated journal cannot know production's key and says so",
		read:  from(abc(t), 2),
		opts:  window,
		n:     1,
		lines: []string{`~ INC-1 (numbered within the replay), opened by C{service="c"}: SEV3`},
		notes: []string{"the recorded rules are the built-in defaults"},
	}, {
		name: "an incident production had opened before the range is numbered within the replay",
		read: journalOf(t,
			signals(t0, firing(t0, "alertname", "C", "service", "c")),
			signals(t0.Add(2*time.Minute), firing(t0, "alertname", "C", "service", "c", "instance", "2")),
		),
		opts:  Options{From: t0.Add(time.Minute), To: t0.Add(time.Hour), Candidate: []rules.File{cSev1}},
		n:     1,
		lines: []string{`~ INC-1 (numbered within the replay), opened by C{instance="2", service="c"}: SEV3`},
		notes: []string{"the recorded rules are the built-in defaults"},
	}, {
		name: "a new incident names its opening signal and the default severity",
		read: journalOf(t,
			ruleChange(t0.Add(-time.Hour), mustLoad(t)...),
			signals(t0, firing(t0, "alertname", "CheckoutDown", "service", "checkout", "env", "prod")),
			signals(t0.Add(time.Minute), firing(t0, "alertname", "PostgresDown", "service", "postgres", "role", "primary")),
		),
		opts: Options{From: t0.Add(-time.Minute), To: t0.Add(time.Hour)},
		n:    2,
		lines: []string{
			`+ new incident SEV3 (no rule (default severity); 1 alert; triggered), opened by PostgresDown{role="primary", service="postgres"} at 2026-11-18T12:01:00Z`,
			`~ INC-1, opened by CheckoutDown{env="prod", service="checkout"}: SEV1 (rule "checkout-down"; 2 alerts; triggered) -> SEV3 (no rule (default severity); 1 alert; triggered)`,
		},
		notes: []string{"differ from the candidate: the candidate rules are the built-in defaults (no rule files)"},
	}, {
		name: "the candidate's rules went live inside the range: the recorded run used older rules before",
		read: journalOf(t,
			ruleChange(t0.Add(-time.Hour), zSev1),
			signals(t0, firing(t0, "alertname", "C", "service", "c")),
			signals(t0.Add(10*time.Minute), resolved(firing(t0, "alertname", "C", "service", "c"), t0.Add(10*time.Minute))),
			ruleChange(t0.Add(90*time.Minute), recordedCSev1),
		),
		opts:  Options{From: t0.Add(-time.Minute), Candidate: []rules.File{cSev1}},
		n:     1,
		lines: []string{`~ INC-1, opened by C{service="c"}: SEV3 (no rule (default severity); 1 alert; resolved) -> SEV1 (rule "c-sev1"; 1 alert; resolved)`},
		notes: []string{"differ from the candidate: sev.yml edited", "the recorded run changed its rules at 2026-11-18T13:30:00Z (sev.yml edited); from then on they are the candidate's, so before then it ran under older rules than the candidate"},
	}, {
		name: "a rule change first in the range only sets the rules the recorded run starts under",
		read: abc(t, ruleChange(t0.Add(-time.Minute), recordedCSev1)),
		opts: Options{From: t0.Add(-time.Hour), Candidate: []rules.File{cSev1}},
	}, {
		name: "identical rules, recorded from another directory, say nothing",
		read: abc(t, ruleChange(t0.Add(-time.Hour), recordedCSev1)),
		opts: Options{From: t0.Add(-time.Minute), Candidate: []rules.File{cSev1}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Run(tt.read, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			n := rep.Differences(&out)
			if n != tt.n {
				t.Errorf("%d differences, want %d:\n%s", n, tt.n, out.String())
			}
			for _, want := range tt.lines {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
			for _, bad := range tt.absent {
				if strings.Contains(out.String(), bad) {
					t.Errorf("report has %q:\n%s", bad, out.String())
				}
			}
			if len(rep.Rules) != len(tt.notes) {
				t.Fatalf("rule notes %q, want %d", rep.Rules, len(tt.notes))
			}
			for i, want := range tt.notes {
				if !strings.Contains(rep.Rules[i], want) {
					t.Errorf("rule note %d = %q, want ~ %q", i, rep.Rules[i], want)
				}
			}
		})
	}
}

func resolved(s signal.Signal, at time.Time) signal.Signal {
	s.Status, s.EndsAt = signal.StatusResolved, at
	return s
}

func mustLoad(t *testing.T) []rules.File {
	t.Helper()
	files, err := rules.Load("../configs/rules", []string{"*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestEmptyRangeSaysWhatTheJournalHolds: a range with no entries reports
// the journal's span, so the caller can say why nothing was compared.
func TestEmptyRangeSaysWhatTheJournalHolds(t *testing.T) {
	tests := []struct {
		name           string
		read           Reader
		opts           Options
		oldest, newest time.Time
	}{
		{"after the newest", abc(t), Options{From: t0.Add(5 * time.Hour)}, t0, t0.Add(2 * time.Hour)},
		{"before the oldest", from(abc(t), 2), Options{From: t0.Add(-time.Hour), To: t0}, t0.Add(time.Minute), t0.Add(time.Minute)},
		{"empty journal", journalOf(t), Options{}, time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Run(tt.read, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Entries != 0 || !rep.Oldest.Equal(tt.oldest) || !rep.Newest.Equal(tt.newest) {
				t.Errorf("entries %d, oldest %s, newest %s; want 0, %s, %s", rep.Entries, rep.Oldest, rep.Newest, tt.oldest, tt.newest)
			}
		})
	}
}
