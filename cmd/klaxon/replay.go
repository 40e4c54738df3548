package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/klaxonhq/klaxon/cluster"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/replay"
	"github.com/klaxonhq/klaxon/rules"
)

const replayUsage = "usage: klaxon replay --rules GLOB [GLOB...] --from T [--to T] [--config FILE | --data DIR]"

// globList is a flag that may repeat, each use adding one glob.
type globList []string

func (g *globList) String() string     { return strings.Join(*g, " ") }
func (g *globList) Set(s string) error { *g = append(*g, s); return nil }

// replayArgs is what the replay command line asks for.
type replayArgs struct {
	cfgPath, dataDir, from, to string
	globs                      globList
}

// runReplay replays the journal's recorded entries through candidate rules
// and prints the incidents that would have differed.
func runReplay(args []string, stdout, stderr io.Writer) int {
	a, code := parseReplayArgs(args, stderr)
	if code != 0 {
		return code
	}
	opts, err := a.window(time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 2
	}
	if opts.Candidate, err = loadCandidate(a.globs); err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	dir, err := a.journalDir()
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	read := journal.ReadDir
	if cluster.IsDataDir(dir) {
		read = cluster.ReadDir // a replica's journal is its raft log
		fmt.Fprintln(stdout, replicaNote)
	}
	rep, err := replay.Run(func(seq uint64, fn func(journal.Record) error) error {
		return read(dir, seq, fn)
	}, opts)
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	printReport(stdout, rep, opts)
	return 0
}

// replicaNote heads a replay of a replica's raft log, whose tail a node cut
// off from the majority may hold uncommitted.
const replicaNote = "note: this is a replica's raft log: if this node was cut off from the majority (no quorum), " +
	"its last entries may never have committed; to be sure, replay a copy of the leader's data directory"

// parseReplayArgs reads flags and rule globs in any order, so that a glob
// the shell expanded into several files (an unquoted 'dir/*.yml') is read
// as those files rather than ending the flags.
func parseReplayArgs(args []string, stderr io.Writer) (replayArgs, int) {
	var a replayArgs
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a.cfgPath, "config", "configs/klaxon.yml", "configuration file (for its data_dir)")
	fs.StringVar(&a.dataDir, "data", "", "data directory to read (default: the configuration's data_dir)")
	fs.Var(&a.globs, "rules", "candidate rule files: a glob, quoted; may repeat, and further files or globs may follow the flags")
	fs.StringVar(&a.from, "from", "", "start of the range: RFC 3339, or a duration before now (90m, 36h, 7d, 2w)")
	fs.StringVar(&a.to, "to", "", "end of the range: RFC 3339, or a duration before now (default: now)")
	for {
		if err := fs.Parse(args); err != nil {
			return a, 2
		}
		if fs.NArg() == 0 {
			break
		}
		a.globs, args = append(a.globs, fs.Arg(0)), fs.Args()[1:]
	}
	if len(a.globs) == 0 || a.from == "" {
		fmt.Fprintln(stderr, replayUsage)
		return a, 2
	}
	return a, 0
}

// window turns --from and --to into the replay's range.
func (a replayArgs) window(now time.Time) (replay.Options, error) {
	var opts replay.Options
	var err error
	if opts.From, err = parseWhen(a.from, now); err != nil {
		return opts, fmt.Errorf("--from: %w", err)
	}
	if a.to != "" {
		if opts.To, err = parseWhen(a.to, now); err != nil {
			return opts, fmt.Errorf("--to: %w", err)
		}
	}
	end := opts.To
	if end.IsZero() {
		end = now
	}
	if opts.From.After(end) {
		return opts, fmt.Errorf("--from %s is after --to %s: the range is empty", stamp(opts.From), stamp(end))
	}
	return opts, nil
}

// parseWhen reads an RFC 3339 time, or a duration meaning that long ago in
// the form rule files use (Prometheus durations: 90m, 36h, 7d, 2w).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := model.ParseDuration(s); err == nil {
		return now.Add(-time.Duration(d)), nil
	}
	if d, err := time.ParseDuration(s); err == nil { // 1h30m, which Prometheus durations also take, and 1.5h
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-18T12:00:00Z) nor a duration (90m, 36h, 7d, 2w)", s)
	}
	return t, nil
}

// loadCandidate reads the candidate rule files; a glob that matches no file
// is an error, since replaying against the built-in defaults by accident
// would compare the wrong thing.
func loadCandidate(globs []string) ([]rules.File, error) {
	for _, g := range globs {
		matches, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("--rules %q: %w", g, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("--rules %q matches no file", g)
		}
	}
	files, err := rules.Load("", globs)
	if err != nil {
		return nil, fmt.Errorf("candidate rules: %w", err)
	}
	return files, nil
}

// journalDir is the data directory to read, refused unless it already
// holds a journal: opening one creates files, and replay must change
// nothing.
func (a replayArgs) journalDir() (string, error) {
	dir, from := a.dataDir, "--data"
	if dir == "" {
		cfg, err := config.Load(a.cfgPath)
		if err != nil {
			return "", err
		}
		dir, from = cfg.DataDir, a.cfgPath+"'s data_dir"
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("data directory %s (%s) does not exist; replay reads a journal and creates none", dir, from)
	case err != nil:
		return "", fmt.Errorf("data directory %s (%s): %w", dir, from, err)
	case !info.IsDir():
		return "", fmt.Errorf("data directory %s (%s) is not a directory", dir, from)
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil && !cluster.IsDataDir(dir) {
		return "", fmt.Errorf("data directory %s (%s) holds no journal (no MANIFEST); replay reads a journal and creates none", dir, from)
	}
	return dir, nil
}

// printReport writes the warnings, what the recorded rules were, the
// differences and a summary.
func printReport(w io.Writer, rep *replay.Report, opts replay.Options) {
	for _, s := range rep.Warnings {
		fmt.Fprintln(w, "warning:", s)
	}
	if rep.Entries == 0 {
		fmt.Fprintln(w, nothingToReplay(rep, opts))
		return
	}
	for _, s := range rep.Rules {
		fmt.Fprintln(w, "rules:", s)
	}
	n := rep.Differences(w)
	fmt.Fprintf(w, "%d entries replayed: %d incidents recorded, %d under the candidate rules, %d differ\n",
		rep.Entries, len(rep.Actual), len(rep.Candidate), n)
}

// nothingToReplay says why a range held no entries.
func nothingToReplay(rep *replay.Report, opts replay.Options) string {
	if rep.Oldest.IsZero() {
		return "0 entries replayed: the journal is empty"
	}
	line := fmt.Sprintf("0 entries replayed: none from %s", stamp(opts.From))
	if !opts.To.IsZero() {
		line += " to " + stamp(opts.To)
	}
	line += "; the oldest entry kept is at " + stamp(rep.Oldest)
	if rep.Newest.Before(opts.From) {
		line += ", the newest at " + stamp(rep.Newest)
	}
	return line
}
