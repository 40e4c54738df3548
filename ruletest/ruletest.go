// Package ruletest runs rule unit tests, the way `promtool test rules` does
// for Prometheus: input signals at relative times, and the incidents,
// severities and explanations expected at given times.
package ruletest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/rules/yamlsyntax"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// File is one rule test file.
type File struct {
	RuleFiles []string `yaml:"rule_files"` // globs, relative to the test file
	Tests     []Test   `yaml:"tests"`
}

// Test is one scenario: signals in, expectations at points in time.
type Test struct {
	Name    string        `yaml:"name"`
	Signals []InputSignal `yaml:"signals"`
	Actions []InputAction `yaml:"actions"`
	Expect  []Expectation `yaml:"expect"`

	// Line is where the test starts in its file.
	Line int `yaml:"-"`
}

// InputSignal is a signal arriving At after the test starts. Repeat sends
// that many copies, each with a distinct `instance` label.
type InputSignal struct {
	At          Duration          `yaml:"at"`
	Kind        signal.Kind       `yaml:"kind"`   // default alert
	Status      signal.Status     `yaml:"status"` // default firing
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
	Customer    string            `yaml:"customer"`
	Text        string            `yaml:"text"`      // a ticket's body or a mention's text, read for the catalogue's keywords
	Reach       int64             `yaml:"reach"`     // a mention's reach
	StartsAt    *Duration         `yaml:"starts_at"` // default At
	EndsAt      *Duration         `yaml:"ends_at"`
	Repeat      int               `yaml:"repeat"`
}

// InputAction is a human action At after the test starts.
type InputAction struct {
	At       Duration          `yaml:"at"`
	Kind     triage.ActionKind `yaml:"kind"`
	Incident string            `yaml:"incident"`
	By       string            `yaml:"by"`
	Note     string            `yaml:"note"`
	Severity string            `yaml:"severity"`
}

// Expectation lists every incident that exists At after the start. Fields
// left empty in an expected incident are not compared.
type Expectation struct {
	At        Duration           `yaml:"at"`
	Incidents []ExpectedIncident `yaml:"incidents"`
}

// ExpectedIncident is what one incident should look like.
type ExpectedIncident struct {
	Key         string        `yaml:"key"`
	Service     string        `yaml:"service"`
	Services    []string      `yaml:"services"`
	Cause       string        `yaml:"cause"`
	Status      triage.Status `yaml:"status"`
	Severity    string        `yaml:"severity"`
	Rule        *string       `yaml:"rule"`
	Explanation string        `yaml:"explanation"`
	Firing      *int          `yaml:"firing"`
	Alerts      *int          `yaml:"alerts"`
}

// Duration is a Prometheus-style duration ("90s", "5m", "1h30m").
type Duration time.Duration

// UnmarshalYAML parses a duration, naming the line on error.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// start is the fixed instant tests begin at, so results never depend on
// when they run.
var start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// Run runs every test in the named files, writing go-test-like output to w.
// It returns false if any test failed or any file could not be run.
func Run(w io.Writer, paths []string) bool {
	ok := true
	for _, p := range paths {
		if !runFile(w, p) {
			ok = false
		}
	}
	if ok {
		fmt.Fprintln(w, "PASS")
	} else {
		fmt.Fprintln(w, "FAIL")
	}
	return ok
}

func runFile(w io.Writer, path string) bool {
	f, rs, err := load(path)
	if err != nil {
		fmt.Fprintf(w, "--- FAIL: %s\n    %v\n", path, err)
		return false
	}
	ok := true
	for _, t := range f.Tests {
		began := time.Now()
		var errs []error
		if len(t.Expect) == 0 {
			errs = []error{fmt.Errorf("%s:%d: test %q has no expectations, so it cannot fail: add an expect list (at: and incidents:)", path, t.Line, t.Name)}
		} else {
			errs = runTest(rs, t)
		}
		status := "PASS"
		if len(errs) > 0 {
			status, ok = "FAIL", false
		}
		fmt.Fprintf(w, "--- %s: %s (%s) (%.3fs)\n", status, t.Name, path, time.Since(began).Seconds())
		for _, e := range errs {
			fmt.Fprintf(w, "    %v\n", e)
		}
	}
	return ok
}

// load reads a test file strictly and compiles the rule files it names.
func load(path string) (*File, *rules.Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		var typeErr *yaml.TypeError
		if line, problem := yamlsyntax.Locate(err, data); line > 0 && !errors.As(err, &typeErr) {
			return nil, nil, fmt.Errorf("%s:%d: invalid YAML: %s", path, line, problem)
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Tests) == 0 {
		return nil, nil, fmt.Errorf("%s: no tests", path)
	}
	testLines(data, f.Tests)
	files, err := rules.Load(filepath.Dir(path), f.RuleFiles)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(files) == 0 && len(f.RuleFiles) > 0 {
		return nil, nil, fmt.Errorf("%s: rule_files matched no files", path)
	}
	rs, err := rules.Compile(files)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, rs, nil
}

// testLines sets each test's Line from the document, which has decoded.
func testLines(data []byte, tests []Test) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "tests" {
			continue
		}
		for j, n := range root.Content[i+1].Content {
			if j < len(tests) {
				tests[j].Line = n.Line
			}
		}
	}
}

// event is one input, signal or action, at its time.
type event struct {
	at    time.Duration
	entry *triage.Entry
}

func runTest(rs *rules.Set, t Test) []error {
	events, err := inputs(t)
	if err != nil {
		return []error{err}
	}
	d := triage.NewDriver(triage.New(rs))
	expects := slices.Clone(t.Expect)
	sort.SliceStable(expects, func(i, j int) bool { return expects[i].At < expects[j].At })
	var errs []error
	i := 0
	for _, exp := range expects {
		for ; i < len(events) && events[i].at <= time.Duration(exp.At); i++ {
			if err := feed(d, events[i]); err != nil {
				errs = append(errs, err)
			}
		}
		if err := d.Advance(start.Add(time.Duration(exp.At))); err != nil {
			return append(errs, fmt.Errorf("at %s: %w", time.Duration(exp.At), err))
		}
		errs = append(errs, check(d.State(), exp)...)
	}
	return errs
}

// feed applies one input after the timers due before it, and reports an
// entry the state refused.
func feed(d *triage.Driver, ev event) error {
	res, err := d.Feed(start.Add(ev.at), ev.entry)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return fmt.Errorf("at %s: %w", ev.at, err)
	}
	return nil
}

func inputs(t Test) ([]event, error) {
	var events []event
	for i, in := range t.Signals {
		sigs, err := in.signals()
		if err != nil {
			return nil, fmt.Errorf("signals[%d]: %w", i, err)
		}
		events = append(events, event{time.Duration(in.At), &triage.Entry{Signals: sigs}})
	}
	for _, a := range t.Actions {
		act := triage.Action{Kind: a.Kind, Incident: a.Incident, By: a.By, Note: a.Note, Severity: a.Severity}
		if act.By == "" {
			act.By = "ruletest"
		}
		events = append(events, event{time.Duration(a.At), &triage.Entry{Action: &act}})
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at < events[j].at })
	return events, nil
}

func (in InputSignal) signals() ([]signal.Signal, error) {
	if len(in.Labels) == 0 {
		return nil, errors.New("labels: must not be empty")
	}
	n := max(in.Repeat, 1)
	out := make([]signal.Signal, 0, n)
	for i := range n {
		labels := maps.Clone(in.Labels)
		if in.Repeat > 0 {
			labels["instance"] = fmt.Sprintf("%s-%d", labels["instance"], i)
		}
		ls := signal.StringsFrom(labels)
		sig := signal.Signal{
			Source: signal.SourceAlertmanager, Kind: in.Kind, Status: in.Status,
			Fingerprint: signal.Fingerprint(ls), Labels: ls,
			Annotations: signal.StringsFrom(in.Annotations),
			StartsAt:    start.Add(time.Duration(in.At)),
		}
		sig.SetReport(signal.Report{Customer: in.Customer, Text: in.Text, Reach: in.Reach})
		if sig.Kind == "" {
			sig.Kind = signal.KindAlert
		}
		if sig.Status == "" {
			sig.Status = signal.StatusFiring
		}
		if in.StartsAt != nil {
			sig.StartsAt = start.Add(time.Duration(*in.StartsAt))
		}
		if in.EndsAt != nil {
			sig.EndsAt = start.Add(time.Duration(*in.EndsAt))
		}
		out = append(out, sig)
	}
	return out, nil
}

// check compares the incidents that exist with the expected ones, in order
// of opening.
func check(st *triage.State, exp Expectation) []error {
	got, _ := st.List(triage.Filter{Limit: 1000})
	slices.Reverse(got)
	at := time.Duration(exp.At)
	if len(got) != len(exp.Incidents) {
		return []error{fmt.Errorf("at %s: %d incidents, want %d:\n%s", at, len(got), len(exp.Incidents), describe(got))}
	}
	var errs []error
	for i, want := range exp.Incidents {
		for _, d := range diff(got[i], want) {
			errs = append(errs, fmt.Errorf("at %s: incident %d (%s): %s", at, i+1, got[i].Key, d))
		}
	}
	return errs
}

func diff(got triage.Summary, want ExpectedIncident) []string {
	var out []string
	cmp := func(field, g, w string) {
		if w != "" && g != w {
			out = append(out, fmt.Sprintf("%s = %q, want %q", field, g, w))
		}
	}
	cmp("key", got.Key, want.Key)
	cmp("service", got.Service, want.Service)
	cmp("cause", got.Cause, want.Cause)
	cmp("status", string(got.Status), string(want.Status))
	cmp("severity", got.Severity, want.Severity)
	cmp("explanation", got.Explanation, want.Explanation)
	if want.Rule != nil && got.Rule != *want.Rule {
		out = append(out, fmt.Sprintf("rule = %q, want %q", got.Rule, *want.Rule))
	}
	if want.Services != nil && !slices.Equal(got.Services, want.Services) {
		out = append(out, fmt.Sprintf("services = %q, want %q", got.Services, want.Services))
	}
	if want.Firing != nil && got.Alerts.Firing != *want.Firing {
		out = append(out, fmt.Sprintf("firing = %d, want %d", got.Alerts.Firing, *want.Firing))
	}
	if want.Alerts != nil && got.Alerts.Total != *want.Alerts {
		out = append(out, fmt.Sprintf("alerts = %d, want %d", got.Alerts.Total, *want.Alerts))
	}
	return out
}

func describe(incs []triage.Summary) string {
	var b bytes.Buffer
	for _, inc := range incs {
		fmt.Fprintf(&b, "      %s %s %s %s (%d firing): %s\n", inc.Key, inc.Status, inc.Severity, inc.GroupKey, inc.Alerts.Firing, inc.Explanation)
	}
	return b.String()
}
