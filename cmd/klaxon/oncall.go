package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/klaxonhq/klaxon/oncall"
)

// loadOncall reads the on-call files that globs match and loads them.
func loadOncall(globs []string) (*oncall.Config, int, error) {
	files, err := readOncall(globs)
	if err != nil {
		return nil, 0, err
	}
	cfg, err := oncall.Load(files)
	return cfg, len(files), err
}

// readOncall reads the on-call files that globs match; a glob that matches
// none is an error.
func readOncall(globs []string) ([]oncall.File, error) {
	read, err := readGlobs("on-call files", globs)
	if err != nil {
		return nil, err
	}
	files := make([]oncall.File, len(read))
	for i, f := range read {
		files[i] = oncall.File{Name: f.Name, Data: f.Data}
	}
	return files, nil
}

// parseAt reads an RFC 3339 instant or "now".
func parseAt(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	return time.Parse(time.RFC3339, s)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func span(d time.Duration) string { return model.Duration(d).String() }

// runOncall answers, offline from the files, who is on call in a schedule
// at an instant and why, and optionally what a policy would page.
func runOncall(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("oncall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("config-dir", "configs/oncall", "directory of on-call files (*.yml)")
	schedule := fs.String("schedule", "", "schedule to look up")
	policy := fs.String("policy", "", "escalation policy whose notifications to list for an escalation starting at --at")
	atFlag := fs.String("at", "now", "instant, RFC 3339 or 'now'")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*schedule == "") == (*policy == "") || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: klaxon oncall [--config-dir DIR] (--schedule S | --policy P) [--at T]")
		return 2
	}
	at, err := parseAt(*atFlag, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "klaxon: --at:", err)
		return 2
	}
	cfg, _, err := loadOncall([]string{filepath.Join(*dir, "*.yml")})
	if err != nil {
		fmt.Fprintln(stderr, "FAILED:")
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *policy != "" {
		return printPlan(cfg, *policy, at, stdout, stderr)
	}
	s, ok := cfg.Schedules[*schedule]
	if !ok {
		fmt.Fprintf(stderr, "klaxon: unknown schedule %q (defined: %v)\n", *schedule, slices.Sorted(mapKeys(cfg.Schedules)))
		return 1
	}
	shifts := s.OnCallAt(at, nil)
	if len(shifts) == 0 {
		until := "for the next 4 weeks at least"
		if gaps := s.Gaps(at, at.Add(4*7*24*time.Hour), nil); len(gaps) > 0 && gaps[0].End.Before(at.Add(4*7*24*time.Hour)) {
			until = "until " + stamp(gaps[0].End)
		}
		fmt.Fprintf(stdout, "%s at %s: nobody on call %s\n", s.ID, stamp(at), until)
		return 0
	}
	for _, sh := range shifts {
		fmt.Fprintf(stdout, "%s at %s: %s (%s), on call %s to %s (%s): %s\n", s.ID, stamp(at), sh.Person,
			cfg.People[sh.Person].Name, stamp(sh.Start), stamp(sh.End), span(sh.End.Sub(sh.Start)), sh.Reason())
	}
	return 0
}

func printPlan(cfg *oncall.Config, policy string, at time.Time, stdout, stderr io.Writer) int {
	plan, err := cfg.Plan(policy, at, time.Time{}, nil)
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	fmt.Fprintf(stdout, "escalation policy %s, started %s, never acknowledged:\n", policy, stamp(at))
	for _, n := range plan {
		fmt.Fprintln(stdout, "  "+n.String())
	}
	return 0
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// runCheckOncall validates on-call files and reports the gaps (nobody on
// call) of every schedule over the coming weeks.
func runCheckOncall(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check oncall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fromFlag := fs.String("from", "now", "start of the gap report, RFC 3339 or 'now'")
	weeks := fs.Int("weeks", 4, "weeks the gap report covers")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 || *weeks < 0 {
		fmt.Fprintln(stderr, "usage: klaxon check oncall [--from T] [--weeks N] FILE...")
		return 2
	}
	from, err := parseAt(*fromFlag, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "klaxon: --from:", err)
		return 2
	}
	cfg, n, err := loadOncall(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "FAILED:")
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "SUCCESS: %d files, %d people, %d teams, %d schedules, %d escalation policies\n",
		n, len(cfg.People), len(cfg.Teams), len(cfg.Schedules), len(cfg.Policies))
	to := from.Add(time.Duration(*weeks) * 7 * 24 * time.Hour)
	for _, id := range slices.Sorted(mapKeys(cfg.Schedules)) {
		s := cfg.Schedules[id]
		for _, g := range s.Gaps(from, to, nil) {
			fmt.Fprintf(stdout, "GAP: %s:%d: schedule %s has nobody on call from %s to %s (%s)\n",
				s.Loc.File, s.Loc.Line, id, stamp(g.Start), stamp(g.End), span(g.End.Sub(g.Start)))
		}
	}
	return 0
}
