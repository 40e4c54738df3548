package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// The incidents subcommands' usage lines: synopsis, two spaces, what it does.
const (
	usageIncidentsList       = "incidents list [--status S] [--severity S] [--service S] [--limit N] [--cursor C] [--archived]  list incidents, newest first"
	usageIncidentsShow       = "incidents show [--signals N] KEY  show an incident: summary, signals, timeline"
	usageIncidentsAck        = "incidents ack [--by NAME] [--note TEXT] KEY  acknowledge an incident"
	usageIncidentsResolve    = "incidents resolve [--by NAME] [--note TEXT] KEY  resolve an incident"
	usageIncidentsEscalate   = "incidents escalate [--by NAME] [--note TEXT] KEY  page the next escalation step now"
	usageIncidentsPostmortem = "incidents postmortem KEY  print an incident's post-mortem draft (Markdown)"
	usageIncidentsSeverity   = "incidents severity [--by NAME] (KEY LEVEL --reason TEXT | KEY --clear)  override an incident's severity, or hand it back to the rules"
)

// now is the clock the tables measure ages with; tests replace it.
var now = time.Now

// synopsis is the part of a usage line before its description.
func synopsis(usage string) string {
	s, _, _ := strings.Cut(usage, "  ")
	return s
}

// startAPI parses an API subcommand's arguments, checks that it got from lo
// to hi positional ones, and builds the client. A nonzero code means stop
// with it; the reason has been printed.
func startAPI(fs *flag.FlagSet, cf *clientFlags, args []string, lo, hi int, usage string, stderr io.Writer) ([]string, *apiClient, int) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, nil, 2
	}
	if len(pos) < lo || len(pos) > hi || (len(pos) > 0 && !validKey(pos[0])) {
		fmt.Fprintln(stderr, "usage: klaxon "+synopsis(usage))
		return nil, nil, 2
	}
	c, err := cf.client()
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return nil, nil, 2
	}
	return pos, c, 0
}

// validKey reports whether key can name an incident in a URL path: a path
// segment of "." or ".." would name another endpoint.
func validKey(key string) bool { return key != "" && key != "." && key != ".." }

// finish prints an API answer: as it is with -o json, else through table.
func finish(data []byte, err error, output string, stdout, stderr io.Writer, table func([]byte) error) int {
	if err == nil {
		if output == "json" {
			_, err = fmt.Fprintln(stdout, strings.TrimSpace(string(data)))
		} else {
			err = table(data)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	return 0
}

// incidentPath is the API path of an incident, or of an action on it.
func incidentPath(key string, action ...string) string {
	return "/api/v1/incidents/" + url.PathEscape(key) + strings.Join(append([]string{""}, action...), "/")
}

// runIncidentsList lists incidents as a table or the API's JSON.
func runIncidentsList(args []string, stdout, stderr io.Writer) int {
	fs, cf := clientFlagSet("incidents list", stderr)
	status := fs.String("status", "open", "open, triggered, acknowledged, resolved, or all (with --archived the default is all)")
	severity := fs.String("severity", "", "only incidents of this severity level, e.g. SEV1")
	service := fs.String("service", "", "only incidents that involve this service")
	limit := fs.Int("limit", 0, "at most this many incidents (the API's default is 50, its maximum 1000)")
	cursor := fs.String("cursor", "", "the page after the one that printed this cursor")
	archived := fs.Bool("archived", false, "list the archived incidents (resolved over a week ago) instead")
	_, c, code := startAPI(fs, cf, args, 0, 0, usageIncidentsList, stderr)
	if code != 0 {
		return code
	}
	q := url.Values{}
	if *archived {
		q.Set("archived", "true")
		if !flagGiven(fs, "status") {
			*status = "all"
		}
	}
	for name, v := range map[string]string{"severity": *severity, "service": *service, "cursor": *cursor} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if *status != "all" {
		q.Set("status", *status)
	}
	if *limit != 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	data, err := c.call(context.Background(), http.MethodGet, "/api/v1/incidents", q, nil)
	return finish(data, err, cf.output, stdout, stderr, func(data []byte) error {
		var page struct {
			Incidents  []triage.Summary `json:"incidents"`
			NextCursor string           `json:"nextCursor"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return fmt.Errorf("reading the incident list: %w", err)
		}
		printList(stdout, page.Incidents, now())
		if page.NextCursor != "" {
			fmt.Fprintf(stderr, "more: add --cursor %s\n", page.NextCursor)
		}
		return nil
	})
}

// flagGiven reports whether the command line set the flag called name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// printList prints incidents as a table: key, severity, status, service,
// age, title.
func printList(w io.Writer, incs []triage.Summary, at time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSEVERITY\tSTATUS\tSERVICE\tAGE\tTITLE")
	for _, s := range incs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Key, severityText(s), s.Status, serviceText(s),
			age(at.Sub(s.OpenedAt)), s.Title)
	}
	_ = tw.Flush()
}

// severityText is the severity, starred when a human set it.
func severityText(s triage.Summary) string {
	if s.Override != nil {
		return s.Severity + "*"
	}
	return s.Severity
}

// serviceText is the incident's service, with how many others it absorbed.
func serviceText(s triage.Summary) string {
	others := 0
	for _, svc := range s.Services {
		if svc != s.Service {
			others++
		}
	}
	switch {
	case s.Service == "":
		return "-"
	case others > 0:
		return fmt.Sprintf("%s+%d", s.Service, others)
	}
	return s.Service
}

// age is a duration to the minute, or second below one, in at most two units.
func age(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// runIncidentsShow prints one incident: summary, signals and timeline.
func runIncidentsShow(args []string, stdout, stderr io.Writer) int {
	fs, cf := clientFlagSet("incidents show", stderr)
	signals := fs.Int("signals", 100, "show at most this many signals (at most 1000)")
	pos, c, code := startAPI(fs, cf, args, 1, 1, usageIncidentsShow, stderr)
	if code != 0 {
		return code
	}
	q := url.Values{"signalsLimit": {strconv.Itoa(*signals)}}
	data, err := c.call(context.Background(), http.MethodGet, incidentPath(pos[0]), q, nil)
	return finish(data, err, cf.output, stdout, stderr, func(data []byte) error {
		var d triage.Detail
		if err := json.Unmarshal(data, &d); err != nil {
			return fmt.Errorf("reading incident %s: %w", pos[0], err)
		}
		printDetail(stdout, d, now())
		return nil
	})
}

// printDetail prints an incident's summary, then its signals and its
// timeline as tables.
func printDetail(w io.Writer, d triage.Detail, at time.Time) {
	s := d.Summary
	fmt.Fprintf(w, "%s  %s\n", s.Key, s.Title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range summaryFields(d, at) {
		if f[1] != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", f[0], f[1])
		}
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nSIGNALS (%d of %d)\n", len(d.Signals), d.SignalsTotal)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tFIRST SEEN\tLAST SEEN\tLABELS")
	for _, sig := range d.Signals {
		state := string(sig.Status)
		if sig.StatusReason != "" {
			state += " (" + sig.StatusReason + ")"
		}
		if len(sig.SilencedBy) > 0 {
			state += " (silenced by " + strings.Join(sig.SilencedBy, ", ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", state, stamp(sig.FirstSeen), stamp(sig.LastSeen), labelText(sig.Labels))
	}
	_ = tw.Flush()

	fmt.Fprintln(w, "\nTIMELINE")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range d.Timeline {
		by := ""
		if e.By != "" && !strings.Contains(e.Message, e.By) {
			by = " (by " + e.By + ")"
		}
		fmt.Fprintf(tw, "%s\t#%d\t%s\t%s%s\n", stamp(e.At), e.Seq, e.Kind, e.Message, by)
	}
	_ = tw.Flush()
	if d.AlertEventsOmitted > 0 {
		fmt.Fprintf(w, "(%d per-alert events omitted)\n", d.AlertEventsOmitted)
	}
}

// summaryFields are the named lines of an incident's summary; empty ones
// are left out.
func summaryFields(d triage.Detail, at time.Time) [][2]string {
	s := d.Summary
	status := string(s.Status)
	if d.Archived {
		status += " (archived: read from disk; actions answer 409)"
	}
	severity := s.Severity + ": " + s.Explanation
	if o := s.Override; o != nil {
		severity = fmt.Sprintf("%s, set by %s at %s: %s", o.Severity, o.By, stamp(o.At), o.Reason)
	}
	service := s.Service
	if others := without(s.Services, s.Service); len(others) > 0 {
		service += " (with " + strings.Join(others, ", ") + ")"
	}
	return [][2]string{
		{"status", status},
		{"severity", severity},
		{"service", service},
		{"cause", s.Cause},
		{"team", s.Routing.Team},
		{"opened", fmt.Sprintf("%s (%s ago); first signal %s, last %s", stamp(s.OpenedAt), age(at.Sub(s.OpenedAt)), stamp(s.StartedAt), stamp(s.LastSignalAt))},
		{"alerts", fmt.Sprintf("%d firing of %d; %d customers", s.Alerts.Firing, s.Alerts.Total, s.Customers)},
		{"acknowledged", byAt(s.AcknowledgedBy, s.AcknowledgedAt)},
		{"resolved", byAt(s.ResolvedBy, s.ResolvedAt)},
		{"escalation", escalationText(s.Escalation)},
	}
}

// without is list without drop.
func without(list []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == drop })
}

func byAt(by string, at *time.Time) string {
	if at == nil {
		return ""
	}
	return fmt.Sprintf("%s by %s", stamp(*at), by)
}

func escalationText(e *triage.Escalation) string {
	switch {
	case e == nil:
		return ""
	case e.Stopped:
		return fmt.Sprintf("policy %s, stopped", e.Policy)
	case e.Fallback:
		return fmt.Sprintf("policy %s, spent: the fallback receiver was paged", e.Policy)
	case e.Next.IsZero():
		return fmt.Sprintf("policy %s, waiting for business hours", e.Policy)
	}
	return fmt.Sprintf("policy %s, next: round %d step %d at %s", e.Policy, e.Round+1, e.Step+1, stamp(e.Next))
}

// labelText is a label set on one line, alertname first, then by name.
func labelText(labels signal.Strings) string {
	parts := make([]string, 0, labels.Len())
	if v, ok := labels.Lookup("alertname"); ok {
		parts = append(parts, "alertname="+strconv.Quote(v))
	}
	for n, v := range labels.All() {
		if n != "alertname" {
			parts = append(parts, n+"="+strconv.Quote(v))
		}
	}
	return strings.Join(parts, " ")
}

// actionRequest is the body of the action endpoints.
type actionRequest struct {
	By       string `json:"by,omitempty"`
	Note     string `json:"note,omitempty"`
	Severity string `json:"severity,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Clear    bool   `json:"clear,omitempty"`
}

// runIncidentsAck acknowledges an incident.
func runIncidentsAck(args []string, stdout, stderr io.Writer) int {
	return runAction("ack", usageIncidentsAck, args, stdout, stderr)
}

// runIncidentsResolve resolves an incident.
func runIncidentsResolve(args []string, stdout, stderr io.Writer) int {
	return runAction("resolve", usageIncidentsResolve, args, stdout, stderr)
}

// runIncidentsEscalate pages an incident's next escalation step now.
func runIncidentsEscalate(args []string, stdout, stderr io.Writer) int {
	return runAction("escalate", usageIncidentsEscalate, args, stdout, stderr)
}

// runAction posts {"by","note"} to an incident's action endpoint.
func runAction(action, usage string, args []string, stdout, stderr io.Writer) int {
	fs, cf := clientFlagSet("incidents "+action, stderr)
	var body actionRequest
	fs.StringVar(&body.By, "by", "", "who acts (default: the token's name)")
	fs.StringVar(&body.Note, "note", "", "a note for the timeline")
	pos, c, code := startAPI(fs, cf, args, 1, 1, usage, stderr)
	if code != 0 {
		return code
	}
	return post(c, incidentPath(pos[0], action), body, cf.output, stdout, stderr)
}

// runIncidentsSeverity sets or clears a human severity override.
func runIncidentsSeverity(args []string, stdout, stderr io.Writer) int {
	fs, cf := clientFlagSet("incidents severity", stderr)
	var body actionRequest
	fs.StringVar(&body.By, "by", "", "who acts (default: the token's name)")
	fs.StringVar(&body.Reason, "reason", "", "why (required when setting a level)")
	fs.BoolVar(&body.Clear, "clear", false, "clear the override: the rules decide again")
	pos, c, code := startAPI(fs, cf, args, 1, 2, usageIncidentsSeverity, stderr)
	if code != 0 {
		return code
	}
	if (len(pos) == 2) == body.Clear {
		fmt.Fprintln(stderr, "usage: klaxon "+synopsis(usageIncidentsSeverity))
		return 2
	}
	if len(pos) == 2 {
		body.Severity = pos[1]
	}
	return post(c, incidentPath(pos[0], "severity"), body, cf.output, stdout, stderr)
}

// post sends an action and prints the incident as it now is, in one line.
func post(c *apiClient, path string, body actionRequest, output string, stdout, stderr io.Writer) int {
	data, err := c.call(context.Background(), http.MethodPost, path, nil, body)
	return finish(data, err, output, stdout, stderr, func(data []byte) error {
		var s triage.Summary
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("reading the incident: %w", err)
		}
		printList(stdout, []triage.Summary{s}, now())
		return nil
	})
}

// runIncidentsPostmortem prints an incident's post-mortem draft, the
// Markdown the API renders, as it is.
func runIncidentsPostmortem(args []string, stdout, stderr io.Writer) int {
	fs, cf := clientFlagSet("incidents postmortem", stderr)
	pos, c, code := startAPI(fs, cf, args, 1, 1, usageIncidentsPostmortem, stderr)
	if code != 0 {
		return code
	}
	data, err := c.call(context.Background(), http.MethodGet, incidentPath(pos[0], "postmortem"), nil, nil)
	return finish(data, err, "", stdout, stderr, func(data []byte) error {
		_, err := stdout.Write(data)
		return err
	})
}
