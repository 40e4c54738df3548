package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// writeJournal stores, in a stopped journal in a new directory, a rule
// change to configs/rules and two alerts that those rules put in one
// incident.
func writeJournal(t *testing.T) string {
	t.Helper()
	files, err := rules.Load("../../configs/rules", []string{"*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	j, err := journal.OpenBadger(journal.Options{Dir: dir}, triage.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, e := range []*triage.Entry{
		{Rules: &triage.RulesChange{Files: files}},
		{Signals: []signal.Signal{alert(now, "alertname", "CheckoutDown", "service", "checkout", "env", "prod")}},
		{Signals: []signal.Signal{alert(now, "alertname", "PostgresDown", "service", "postgres", "role", "primary")}},
	} {
		data, err := triage.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := j.Append(context.Background(), data, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func alert(at time.Time, kv ...string) signal.Signal {
	labels := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		labels[kv[i]] = kv[i+1]
	}
	return signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert, Status: signal.StatusFiring,
		Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)), Labels: signal.StringsFrom(labels), StartsAt: at}
}

// TestReplayTraps: each way `klaxon replay` misled, and the error or line
// it gives now.
func TestReplayTraps(t *testing.T) {
	data := writeJournal(t)
	missing := filepath.Join(t.TempDir(), "nodata")
	empty := t.TempDir()
	const r = "../../configs/rules/"
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err []string // substrings of stdout and stderr
		notOut   []string
	}{
		{"a glob that matches nothing is an error, not the defaults",
			[]string{"--rules", "nonexist/*.yml", "--from", "1h", "--data", data}, 1,
			nil, []string{`--rules "nonexist/*.yml" matches no file`}, nil},
		{"a missing data directory is refused, not created",
			[]string{"--rules", r + "*.yml", "--from", "1h", "--data", missing}, 1,
			nil, []string{"nodata (--data) does not exist; replay reads a journal and creates none"}, nil},
		{"a directory without a journal is refused",
			[]string{"--rules", r + "*.yml", "--from", "1h", "--data", empty}, 1,
			nil, []string{"holds no journal"}, nil},
		{"days, as rule files write them",
			[]string{"--rules", r + "*.yml", "--from", "7d", "--data", data}, 0,
			[]string{"3 entries replayed: 1 incidents recorded, 1 under the candidate rules, 0 differ"}, nil, []string{"rules:"}},
		{"weeks, and a --to", []string{"--rules", r + "*.yml", "--from", "1w", "--to", "0s", "--data", data}, 0,
			[]string{"3 entries replayed"}, nil, nil},
		{"--from after --to",
			[]string{"--rules", r + "*.yml", "--from", "1h", "--to", "2h", "--data", data}, 2,
			nil, []string{"is after --to", "the range is empty"}, nil},
		{"a time that is neither",
			[]string{"--rules", r + "*.yml", "--from", "last week", "--data", data}, 2,
			nil, []string{`--from: "last week" is neither an RFC 3339 time`}, nil},
		{"a range the journal does not hold says so",
			[]string{"--rules", r + "*.yml", "--from", "2000-01-01T00:00:00Z", "--to", "2000-01-02T00:00:00Z", "--data", data}, 0,
			[]string{"0 entries replayed: none from 2000-01-01T00:00:00Z to 2000-01-02T00:00:00Z; the oldest entry kept is at"}, nil, nil},
		{"an unquoted glob the shell expanded is every file",
			[]string{"--rules", r + "policies.yml", r + "services.yml", r + "severity.yml", "--from", "1h", "--data", data}, 0,
			[]string{"0 differ"}, nil, []string{"rules:"}},
		{"--rules repeats",
			[]string{"--rules", r + "policies.yml", "--rules", r + "services.yml", "--from", "1h", "--data", data, r + "severity.yml"}, 0,
			[]string{"0 differ"}, nil, []string{"rules:"}},
		{"rules that differ say which files; a split incident names both by their signals",
			[]string{"--rules", r + "policies.yml", "--from", "1h", "--data", data}, 0,
			[]string{"rules: the recorded run starts under rules that differ from the candidate: services.yml only in the recorded rules, severity.yml only in the recorded rules\n",
				`~ INC-1, opened by CheckoutDown{env="prod", service="checkout"}: SEV1 (rule "checkout-down"; 2 alerts; triggered) -> SEV3 (no rule (default severity); 1 alert; triggered)`,
				`+ new incident SEV3 (no rule (default severity); 1 alert; triggered), opened by PostgresDown{role="primary", service="postgres"} at`},
			nil, []string{"alert/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runReplay(tt.args, &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errOut.String())
			}
			for _, want := range tt.out {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out.String())
				}
			}
			for _, bad := range tt.notOut {
				if strings.Contains(out.String(), bad) {
					t.Errorf("stdout has %q:\n%s", bad, out.String())
				}
			}
			for _, want := range tt.err {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
				}
			}
		})
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("replay created the missing data directory: %v", err)
	}
	if names, _ := os.ReadDir(empty); len(names) != 0 {
		t.Errorf("replay wrote %d files into a directory without a journal", len(names))
	}
}
