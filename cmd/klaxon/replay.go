package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/replay"
	"github.com/klaxonhq/klaxon/rules"
)

// runReplay replays the journal's recorded entries through candidate rules
// and prints the incidents that would have differed.
func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "configs/klaxon.yml", "configuration file (for its data_dir)")
	dataDir := fs.String("data", "", "data directory to read (default: the configuration's data_dir)")
	rulesGlob := fs.String("rules", "", "candidate rule files (glob; may repeat as a comma-free list of globs after the flags)")
	from := fs.String("from", "", "start of the range, RFC 3339 or a duration before now (e.g. 168h)")
	to := fs.String("to", "", "end of the range, RFC 3339 or a duration before now (default: now)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	globs := fs.Args()
	if *rulesGlob != "" {
		globs = append([]string{*rulesGlob}, globs...)
	}
	if len(globs) == 0 || *from == "" {
		fmt.Fprintln(stderr, "usage: klaxon replay --rules GLOB [GLOB...] --from T [--to T] [--config FILE | --data DIR]")
		return 2
	}
	now := time.Now()
	var opts replay.Options
	var err error
	if opts.From, err = parseWhen(*from, now); err != nil {
		fmt.Fprintln(stderr, "klaxon: --from:", err)
		return 2
	}
	if *to != "" {
		if opts.To, err = parseWhen(*to, now); err != nil {
			fmt.Fprintln(stderr, "klaxon: --to:", err)
			return 2
		}
	}
	if opts.Candidate, err = rules.Load("", globs); err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	dir := *dataDir
	if dir == "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			fmt.Fprintln(stderr, "klaxon:", err)
			return 1
		}
		dir = cfg.DataDir
	}
	rep, err := replay.Run(func(seq uint64, fn func(journal.Record) error) error {
		return journal.ReadDir(dir, seq, fn)
	}, opts)
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(stdout, "warning:", w)
	}
	n := rep.Differences(stdout)
	fmt.Fprintf(stdout, "%d entries replayed: %d incidents recorded, %d under the candidate rules, %d differ\n",
		rep.Entries, len(rep.Actual), len(rep.Candidate), n)
	return 0
}

// parseWhen reads an RFC 3339 time, or a duration meaning that long ago.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Parse(time.RFC3339, s)
}
