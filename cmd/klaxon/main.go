// Command klaxon is the alert gateway and triage service: `klaxon serve`
// runs it; the other subcommands check and test its configuration and rules.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one subcommand: args exclude the subcommand's own name(s).
type command struct {
	usage string
	run   func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"serve":        {"serve [--config FILE]  run Klaxon", runServe},
	"check config": {"check config FILE  validate a configuration file", runCheckConfig},
	"check rules":  {"check rules FILE...  validate rule files", runCheckRules},
	"check oncall": {"check oncall [--from T] [--weeks N] FILE...  validate on-call files; report gaps", runCheckOncall},
	"oncall":       {"oncall [--config-dir DIR] (--schedule S | --policy P) [--at T]  who is on call, offline", runOncall},
	"pages":        {"pages [--listen ADDR]  print the pages a webhook contact method receives (for trying Klaxon out)", runPages},
	"test rules":   {"test rules TESTFILE...  run rule unit tests", runTestRules},
	"replay":       {"replay --rules GLOB --from T [--to T]  compare candidate rules with what happened", runReplay},
	"version":      {"version  print the version", runVersion},
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the subcommand named by the first one or two arguments and
// returns the exit code.
func dispatch(args []string, stdout, stderr io.Writer) int {
	for n := 2; n >= 1; n-- {
		if len(args) < n {
			continue
		}
		if cmd, ok := commands[strings.Join(args[:n], " ")]; ok {
			return cmd.run(args[n:], stdout, stderr)
		}
	}
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: klaxon COMMAND [ARGS]")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintln(w, "  klaxon "+commands[name].usage)
	}
}

func runVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "klaxon", version)
	return 0
}
