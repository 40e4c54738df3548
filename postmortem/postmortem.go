// Package postmortem renders an incident's post-mortem draft in Markdown:
// summary, impact figures, severity and why, roles, the timeline, the
// contributing signals, and the sections people fill in afterwards.
package postmortem

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/klaxonhq/klaxon/configs/templates"
	"github.com/klaxonhq/klaxon/triage"
)

// maxSignals bounds how many contributing signals a draft lists.
const maxSignals = 100

// timeLayout is how a draft writes instants, always in UTC.
const timeLayout = "2006-01-02 15:04:05 UTC"

// Data is what the template renders: one incident, its figures already
// worked out and its times already written.
type Data struct {
	Key, Title, Service, Status, Severity, Why, Rule string
	Generated, Started, Opened                       string
	Acknowledged, AcknowledgedBy                     string // "" when never acknowledged
	Resolved, ResolvedBy                             string // "" while open
	Duration, TimeToAck                              string // TimeToAck is "" when never acknowledged
	Tickets, Mentions, Reach, Alerts                 int64
	Customers                                        int
	CustomerShare                                    float64 // percent of all customers, 0 when unknown
	PagesSent                                        int
	Factors                                          []string
	WhatTheySee                                      []triage.Seen
	Roles                                            []Role // held at the end, by role name
	RoleHistory                                      []Term
	Timeline                                         []Line
	AlertEventsOmitted                               int
	Signals                                          []Signal
	SignalsOmitted                                   int
	Archived                                         bool
}

// Role is a role and who holds it.
type Role struct{ Role, Person string }

// Term is one stretch of time a person held a role.
type Term struct{ Role, Person, From, To, By string }

// Line is one timeline item.
type Line struct {
	At, Kind, Text, By     string
	Struck                 bool
	StruckBy, StruckReason string
	Corrected              bool
}

// Signal is one contributing signal.
type Signal struct{ ID, Name, Summary, Status, Since string }

// NewData works out the figures of incident d at instant now (the
// duration of an incident still open runs to now).
func NewData(d *triage.Detail, now time.Time) Data {
	out := Data{Key: d.Key, Title: d.Title, Service: d.Service, Status: string(d.Status), Severity: d.Severity,
		Why: d.Explanation, Rule: d.Rule, Generated: stamp(now), Started: stamp(d.StartedAt), Opened: stamp(d.OpenedAt),
		AcknowledgedBy: d.AcknowledgedBy, ResolvedBy: d.ResolvedBy,
		Tickets: d.Impact.Tickets, Mentions: d.Impact.Mentions, Reach: d.Impact.Reach, Alerts: d.Impact.Alerts,
		Customers: d.Impact.Customers, PagesSent: d.Figures.PagesSent, CustomerShare: d.Impact.CustomerShare, Factors: d.Impact.Factors,
		WhatTheySee: d.Impact.WhatTheySee, Archived: d.Archived}
	if out.Severity == "" {
		out.Severity = "unclassified"
	}
	end := now
	if d.ResolvedAt != nil {
		end, out.Resolved = *d.ResolvedAt, stamp(*d.ResolvedAt)
		out.Duration = span(end.Sub(d.StartedAt))
	} else {
		out.Duration = "ongoing, " + span(end.Sub(d.StartedAt)) + " so far"
	}
	if d.AcknowledgedAt != nil {
		out.Acknowledged, out.TimeToAck = stamp(*d.AcknowledgedAt), span(d.AcknowledgedAt.Sub(d.OpenedAt))
	}
	for _, role := range slices.Sorted(maps.Keys(d.Roles)) {
		out.Roles = append(out.Roles, Role{Role: role, Person: d.Roles[role]})
	}
	for _, t := range d.RoleHistory {
		term := Term{Role: t.Role, Person: t.Person, From: stamp(t.From), By: t.By}
		if !t.To.IsZero() {
			term.To = stamp(t.To)
		}
		out.RoleHistory = append(out.RoleHistory, term)
	}
	tl := triage.MergeTimeline(d)
	out.AlertEventsOmitted = tl.AlertEventsOmitted
	for _, it := range tl.Items {
		out.Timeline = append(out.Timeline, line(it))
	}
	for i, sv := range d.Signals {
		if i == maxSignals {
			break
		}
		out.Signals = append(out.Signals, Signal{ID: sv.ID, Name: triage.Describe(&sv.Signal), Summary: sv.Annotations.Get("summary"), Status: string(sv.Status), Since: stamp(sv.StartsAt)})
	}
	out.SignalsOmitted = max(d.SignalsTotal, len(d.Signals)) - len(out.Signals)
	return out
}

func line(it triage.TimelineItem) Line {
	l := Line{At: stamp(it.At), Kind: it.Kind, Text: it.Message, By: it.By}
	if e := it.Entry; e != nil {
		l.Corrected = len(e.Revisions) > 0
		if s := e.Struck; s != nil {
			l.Struck, l.StruckBy, l.StruckReason = true, s.By, s.Reason
		}
	}
	return l
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(timeLayout)
}

func span(d time.Duration) string { return max(d, 0).Round(time.Second).String() }

// Template is a parsed post-mortem template.
type Template struct{ t *template.Template }

// funcs are the helpers a template may use: md writes text as inline
// Markdown (one line, markup characters escaped); cell does the same for
// a table cell.
var funcs = template.FuncMap{"md": inline, "cell": cell}

// mdEscaper escapes what would turn plain text into Markdown markup.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `&lt;`, `>`, `&gt;`, "\r\n", " ", "\n", " ", "\r", " ")

func inline(s string) string { return mdEscaper.Replace(s) }

func cell(s string) string { return strings.ReplaceAll(inline(s), "|", `\|`) }

// Parse parses a post-mortem template and tries it on a sample incident,
// so that one naming an unknown field fails here, not when a draft is
// asked for.
func Parse(name, text string) (*Template, error) {
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("post-mortem template %s: %w", name, err)
	}
	tpl := &Template{t: t}
	if err := tpl.Render(io.Discard, sample()); err != nil {
		return nil, fmt.Errorf("post-mortem template %s: %w", name, err)
	}
	return tpl, nil
}

// Load reads the template from file, or the one built in
// (configs/templates/postmortem.md.tmpl) when file is "".
func Load(file string) (*Template, error) {
	if file == "" {
		return Parse("postmortem.md.tmpl", templates.Postmortem)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("post-mortem template: %w", err)
	}
	return Parse(file, string(data))
}

// Render writes the draft of data to w.
func (t *Template) Render(w io.Writer, data Data) error {
	var buf bytes.Buffer // nothing is written when the template fails halfway
	if err := t.t.Execute(&buf, data); err != nil {
		return fmt.Errorf("render post-mortem: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// sample is an incident with every list filled, for Parse's trial.
func sample() Data {
	return Data{Key: "INC-1", Title: "t", Severity: "SEV1", Duration: "1m", Factors: []string{"f"},
		WhatTheySee: []triage.Seen{{What: "w", Count: 1}}, Roles: []Role{{"r", "p"}}, RoleHistory: []Term{{"r", "p", "a", "b", "c"}},
		Timeline: []Line{{At: "a", Kind: "k", Text: "t", Struck: true, Corrected: true}}, Signals: []Signal{{"i", "n", "m", "s", "a"}},
		SignalsOmitted: 1, AlertEventsOmitted: 1}
}
