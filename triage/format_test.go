package triage_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// generate writes the data directory of the current format into testdata:
// run it once per format version, before the format changes again.
var generate = flag.Bool("generate", false, "write testdata/datadir-vN.tar.gz and its expected views for the current format")

// formatHistory is a journal that exercises every entry kind, with a
// snapshot in the middle and records after it.
func formatHistory(t *testing.T) []*triage.Entry {
	t.Helper()
	files, err := rules.Load("", []string{"../configs/rules/*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files { // payments reopens, so that its chat room is unarchived (format 8)
		if filepath.Base(f.Name) == "services.yml" {
			files[i].Data = bytes.Replace(f.Data, []byte("    depends_on: [postgres-primary]\n"),
				[]byte("    depends_on: [postgres-primary]\n    correlation: {reopen_within: 3h}\n"), 1)
		}
	}
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	sig := func(status signal.Status, kv ...string) signal.Signal {
		labels := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			labels[kv[i]] = kv[i+1]
		}
		s := signal.Signal{Source: signal.SourceAlertmanager, Kind: signal.KindAlert,
			Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)), Status: status, Labels: signal.StringsFrom(labels), StartsAt: t0,
			Annotations: signal.StringsFrom(map[string]string{"summary": "checkout returns 500s"})}
		if status == signal.StatusResolved {
			s.EndsAt = t0.Add(time.Minute)
		}
		return s
	}
	down := []string{"alertname", "CheckoutDown", "service", "checkout", "env", "prod", "severity", "critical"}
	disk := []string{"alertname", "DiskFull", "service", "search", "instance", "db-1"}
	return []*triage.Entry{
		{Rules: &triage.RulesChange{Files: files}},
		{Signals: []signal.Signal{sig(signal.StatusFiring, down...)}},
		{Signals: []signal.Signal{sig(signal.StatusFiring, disk...)}},
		{Action: &triage.Action{Kind: triage.ActionAck, Incident: "INC-1", By: "ada", Note: "looking"}},
		{Action: &triage.Action{Kind: triage.ActionSetSeverity, Incident: "INC-2", By: "ada", Severity: "SEV1", Note: "customers"}},
		{Signals: []signal.Signal{sig(signal.StatusResolved, down...)}},
		{Tick: &triage.Tick{Due: t0.Add(time.Hour)}},
		{Action: &triage.Action{Kind: triage.ActionClearSeverity, Incident: "INC-2", By: "ada"}},
		{Action: &triage.Action{Kind: triage.ActionResolve, Incident: "INC-2", By: "ada"}},
		{Signals: []signal.Signal{sig(signal.StatusFiring, "alertname", "PaymentsSlow", "service", "payments")}},
		{Delivery: &triage.Delivery{Intent: "INC-3/page/0/0/ada/ada-webhook", Attempt: 1, Error: "503 Service Unavailable", Retry: true}},
		{OnCall: &triage.OnCallChange{Files: []oncall.File{{Name: "roles.yml", Data: []byte(formatRoles)}}}},
		// Format 7: chat rooms (ada gets a Slack ID).
		{OnCall: &triage.OnCallChange{Files: []oncall.File{{Name: "roles.yml", Data: []byte(strings.Replace(formatRoles, "time_zone: UTC,", "time_zone: UTC, slack: U024BE7LH,", 1))}}}},
		{Chat: &triage.ChatChange{Settings: &triage.ChatSettings{MinSeverity: "SEV1", ArchiveAfter: time.Hour}}},
		{Action: &triage.Action{Kind: triage.ActionSetSeverity, Incident: "INC-3", By: "ada", Severity: "SEV1", Note: "all payments fail"}},
		{Delivery: &triage.Delivery{Intent: "INC-3/chat/000000/create", Attempt: 1, OK: true, Ref: "C0123CHAT"}},
		{Action: &triage.Action{Kind: triage.ActionAssignRole, Incident: "INC-3", By: "ada", Role: "scribe", Person: "ada"}},
		{Action: &triage.Action{Kind: triage.ActionTimelinePost, Incident: "INC-3", By: "ada", EntryKind: triage.EntryObservation,
			Note: "payments latency up since the deploy", At: t0.Add(12 * time.Minute)}},
		{Action: &triage.Action{Kind: triage.ActionTimelineCorrect, Incident: "INC-3", By: "ada", Entry: 1,
			Note: "payments latency up since the 12:10 deploy"}},
		{Action: &triage.Action{Kind: triage.ActionTimelinePost, Incident: "INC-3", By: "ben", EntryKind: triage.EntryTheory, Note: "the deploy"}},
		{Action: &triage.Action{Kind: triage.ActionTimelineStrike, Incident: "INC-3", By: "ben", Entry: 2, Note: "wrong incident"}},
		{Action: &triage.Action{Kind: triage.ActionResolve, Incident: "INC-1", By: "ada"}}, // SEV1: a final message (format 7)
		// Format 8: INC-3 resolved, its room archived, then reopened: the
		// unarchive waits for the archive, the rest for the unarchive.
		{Action: &triage.Action{Kind: triage.ActionResolve, Incident: "INC-3", By: "ada"}},
		{Tick: &triage.Tick{Due: t0.Add(3 * time.Hour)}},
		{Signals: []signal.Signal{sig(signal.StatusFiring, "alertname", "PaymentsSlow", "service", "payments")}},
	}
}

// formatRoles is an on-call file with a person, a role and a receiver, so
// that the format's history holds a role assignment (format 6) and a final
// message (format 7).
const formatRoles = `
people:
  ada: {name: Ada, time_zone: UTC, contact_methods: [{name: push, webhook_configs: [{url: "http://127.0.0.1:1/ada"}]}]}
roles:
  scribe: {name: Scribe, instructions: Keep the notes.}
receivers:
  - {name: incident-announce, webhook_configs: [{url: "http://127.0.0.1:1/announce"}]}
`

// views is what the API shows of a state: every incident's detail.
func views(s *triage.State) []triage.Detail {
	list, _ := s.List(triage.Filter{Limit: 1000})
	var out []triage.Detail
	for _, sum := range list {
		d, _ := s.Get(sum.Key, 0, 1000)
		out = append(out, d)
	}
	return out
}

// writeDataDir journals history into a new data directory: the first half
// before a clean shutdown (which snapshots), the rest after it, then stops
// as a crash would, so that opening it restores and replays. It returns
// what the API shows at the end.
func writeDataDir(t *testing.T, dir string, history []*triage.Entry) []triage.Detail {
	t.Helper()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	n := 0
	clock := func() time.Time { n++; return t0.Add(time.Duration(n) * time.Minute) }
	half := len(history) / 2
	for phase, part := range [][]*triage.Entry{history[:half], history[half:]} {
		state := triage.New(nil)
		j, err := journal.OpenBadger(journal.Options{Dir: dir, Clock: clock, MemTableSize: 1 << 20}, state)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range part {
			data, err := triage.Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			if _, res, err := j.Append(context.Background(), data, nil); err != nil {
				t.Fatalf("entry %d: %v", i, err)
			} else if r := res.(*triage.Result); r.Err != nil {
				t.Fatalf("entry %d: %v", i, r.Err)
			}
		}
		if phase == 0 {
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		return views(state) // no Close: a crash leaves records after the snapshot
	}
	return nil
}

func TestGenerateFormatDataDir(t *testing.T) {
	if !*generate {
		t.Skip("run with -generate to write the current format's data directory")
	}
	dir := t.TempDir()
	want := writeDataDir(t, dir, formatHistory(t))
	name := fmt.Sprintf("testdata/datadir-v%d", triage.FormatVersion)
	writeJSON(t, name+".views.json", want)
	writeTarGz(t, name+".tar.gz", dir)
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeTarGz(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "LOCK" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name, hdr.ModTime = d.Name(), time.Unix(0, 0)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	for _, err := range []error{err, tw.Close(), zw.Close()} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestEntryEncodingGolden pins the encoding of every entry kind: a change
// that alters stored bytes must bump FormatVersion and keep reading the old.
func TestEntryEncodingGolden(t *testing.T) {
	history := formatHistory(t)
	kinds := map[string]*triage.Entry{
		"rules":              history[0],
		"chat":               {Chat: &triage.ChatChange{Settings: &triage.ChatSettings{MinSeverity: "SEV2", ArchiveAfter: 24 * time.Hour}}},
		"delivery-ref":       {Delivery: &triage.Delivery{Intent: "INC-3/chat/000000/create", Attempt: 1, OK: true, Ref: "C0123CHAT"}},
		"delivery-unarchive": {Delivery: &triage.Delivery{Intent: "INC-3/chat/000008/unarchive", Attempt: 1, Error: "not_authorized"}},
		"signals":            history[1],
		"action-ack":         history[3],
		"action-set-sev":     history[4],
		"tick":               history[6],
		"delivery":           history[10],
		"maintenance": {Maintenance: &triage.MaintenanceChange{Title: "Database upgrade", Components: []string{"Checkout API"},
			Start: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC), By: "ada"}},
		"update": {Update: &triage.UpdateChange{Op: triage.UpdatePost, Incident: "INC-3", Audience: triage.AudienceExternal,
			State: triage.StateIdentified, Text: "We found the cause: a failed disk.", By: "ada"}},
		"action-escalate": {Action: &triage.Action{Kind: triage.ActionEscalate, Incident: "INC-3", By: "ada"}},
		"action-assign-role": {Action: &triage.Action{Kind: triage.ActionAssignRole, Incident: "INC-3", By: "ada",
			Role: "technical_lead", Person: "ben"}},
		"action-timeline-post": {Action: &triage.Action{Kind: triage.ActionTimelinePost, Incident: "INC-3", By: "ada",
			EntryKind: triage.EntryExperiment, Note: "rolled back payments to v41", At: time.Date(2026, 11, 25, 12, 12, 0, 0, time.UTC)}},
		"action-timeline-correct": {Action: &triage.Action{Kind: triage.ActionTimelineCorrect, Incident: "INC-3", By: "ada",
			Entry: 1, EntryKind: triage.EntryAction, Note: "rolled back payments to v40"}},
		"oncall": {OnCall: &triage.OnCallChange{Files: []oncall.File{{Name: "people.yml", Data: []byte("people: {}\n")}}}},
		"override": {Override: &triage.OverrideChange{Set: &oncall.Override{Schedule: "checkout-primary", Person: "ben",
			Start: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)}}},
		"silence": {Silence: &triage.SilenceChange{ID: "00000000-0000-8000-8000-000000000007",
			Matchers: []string{`alertname="DiskFull"`, `instance=~"db-.*"`}, StartsAt: time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC),
			EndsAt: time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC), CreatedBy: "ada", Comment: "disk swap",
			Annotations: map[string]string{"ticket": "OPS-1"}, By: "admin"}},
	}
	for name, e := range kinds {
		t.Run(name, func(t *testing.T) {
			got, err := triage.Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			want := golden(t, "entry-"+name, got)
			back, err := triage.Decode(want)
			if err != nil {
				t.Fatalf("golden entry does not decode: %v", err)
			}
			if again, _ := triage.Encode(back); !bytes.Equal(again, want) {
				t.Errorf("golden entry does not round-trip:\n got %q\nwant %q", again, want)
			}
		})
	}
}

// TestSnapshotEncodingGolden pins the encoding of a snapshot.
func TestSnapshotEncodingGolden(t *testing.T) {
	s := applyAll(t, formatHistory(t))
	got, err := s.Snapshot()()
	if err != nil {
		t.Fatal(err)
	}
	want := golden(t, "snapshot", got)
	restored := triage.New(nil)
	if err := restored.Restore(want); err != nil {
		t.Fatalf("golden snapshot does not restore: %v", err)
	}
	if again, _ := restored.Snapshot()(); !bytes.Equal(again, want) {
		t.Error("golden snapshot does not round-trip")
	}
}

// applyAll applies entries to a new state, one minute apart.
func applyAll(t *testing.T, entries []*triage.Entry) *triage.State {
	t.Helper()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := triage.New(nil)
	for i, e := range entries {
		data, err := triage.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		rec := journal.Record{Seq: uint64(i + 1), Time: t0.Add(time.Duration(i+1) * time.Minute), Data: data}
		if res := s.Apply(rec).(*triage.Result); res.Err != nil {
			t.Fatalf("entry %d: %v", i, res.Err)
		}
	}
	return s
}

// golden compares got with testdata/golden/name.golden (rewriting it with
// -update) and returns the golden bytes.
func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: encoding changed (bump triage.FormatVersion, keep reading the old format, then -update):\n got %.300q\nwant %.300q", name, got, want)
	}
	return want
}

// TestOpensEveryEarlierFormat opens the data directory each earlier format
// wrote (a snapshot plus records after it, left as a crash leaves them) and
// checks that the API shows exactly what the writer's did.
func TestOpensEveryEarlierFormat(t *testing.T) {
	for v := 1; v <= triage.FormatVersion; v++ {
		name := fmt.Sprintf("testdata/datadir-v%d", v)
		if _, err := os.Stat(name + ".tar.gz"); errors.Is(err, fs.ErrNotExist) && v == triage.FormatVersion {
			continue // the current format's is written when it is superseded
		}
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			dir := t.TempDir()
			extractTarGz(t, name+".tar.gz", dir)
			state := triage.New(nil)
			j, err := journal.OpenBadger(journal.Options{Dir: dir, MemTableSize: 1 << 20}, state)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			got, err := json.Marshal(views(state))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(name + ".views.json")
			if err != nil {
				t.Fatal(err)
			}
			var gotV, wantV any
			if err := errors.Join(json.Unmarshal(got, &gotV), json.Unmarshal(want, &wantV)); err != nil {
				t.Fatal(err)
			}
			// Fields the API gained since are not in the old views; every
			// field that was there must read exactly as the writer saw it.
			if diff := subsetDiff("", wantV, gotV); diff != "" {
				t.Errorf("format %d data directory reads differently: %s", v, diff)
			}
		})
	}
}

// subsetDiff reports the first place where got lacks or differs from
// something in want; keys only got has are ignored.
func subsetDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", path, got)
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if d := subsetDiff(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d items", path, got, len(w))
		}
		for i := range w {
			if d := subsetDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
	}
	return ""
}

func extractTarGz(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(filepath.Join(dir, filepath.Base(hdr.Name)), os.O_CREATE|os.O_WRONLY, os.FileMode(hdr.Mode))
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(out, tr)
		if err := errors.Join(err, out.Close()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnknownFormatStopsRecovery: a record or snapshot this binary cannot
// read stops the journal from opening, naming the sequence and version,
// instead of being skipped.
func TestUnknownFormatStopsRecovery(t *testing.T) {
	good, err := triage.Encode(&triage.Entry{Tick: &triage.Tick{Due: time.Unix(0, 0).UTC()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"newer version", append([]byte{triage.FormatVersion + 1}, good[1:]...), []string{"record 2", fmt.Sprintf("entry format version %d is not one this binary reads", triage.FormatVersion+1)}},
		{"unknown kind", append([]byte{triage.FormatVersion}, `{"teleport":{"id":"x"}}`...), []string{"record 2", `unknown field "teleport"`, fmt.Sprintf("format version %d", triage.FormatVersion)}},
		{"garbage", []byte{triage.FormatVersion, 'x'}, []string{"record 2", fmt.Sprintf("format version %d", triage.FormatVersion)}},
		{"empty", nil, []string{"record 2", "no data"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			j, err := journal.OpenBadger(journal.Options{Dir: dir, MemTableSize: 1 << 20}, unsnapshotted{})
			if err != nil {
				t.Fatal(err)
			}
			for _, data := range [][]byte{good, tc.data, good} {
				if _, _, err := j.Append(context.Background(), data, nil); err != nil {
					t.Fatal(err)
				}
			}
			_ = j.Close() // its snapshot fails: the records stay to be replayed
			state := triage.New(nil)
			_, err = journal.OpenBadger(journal.Options{Dir: dir, MemTableSize: 1 << 20}, state)
			if err == nil {
				t.Fatal("opened a journal holding an unreadable record")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if state.LastSeq() > 1 {
				t.Errorf("applied up to record %d, past the unreadable one", state.LastSeq())
			}
		})
	}
}

func TestUnknownSnapshotVersionIsRefused(t *testing.T) {
	err := triage.New(nil).Restore([]byte{triage.FormatVersion + 1, '{', '}'})
	var fe *triage.FormatError
	if !errors.As(err, &fe) || fe.Version != triage.FormatVersion+1 || fe.What != "snapshot" {
		t.Fatalf("Restore of a version-%d snapshot = %v", triage.FormatVersion+1, err)
	}
}

// unsnapshotted stores records without reading them and never snapshots,
// so that a reopened journal replays every record it wrote.
type unsnapshotted struct{}

func (unsnapshotted) Apply(journal.Record) any { return nil }
func (unsnapshotted) Snapshot() journal.SnapshotFunc {
	return func() ([]byte, error) { return nil, errors.New("not snapshotted") }
}
func (unsnapshotted) Restore([]byte) error { return nil }
