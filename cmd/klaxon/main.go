// Command klaxon is the alert gateway and triage service: `klaxon serve`
// runs it; the other subcommands check and test its configuration and rules.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	promversion "github.com/prometheus/common/version"
)

// version is Klaxon's version, for logs and the Alertmanager status API:
// github.com/prometheus/common/version.Version, which the Makefile sets at
// build time (as Prometheus and Alertmanager do), else "dev". Setting it
// with -ldflags "-X main.version=…" sets that one too.
var version = "dev"

func init() {
	if promversion.Version == "" {
		promversion.Version = version
	} else {
		version = promversion.Version
	}
}

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
	"version":      {"version | --version  print the version and build facts", runVersion},
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the subcommand named by the first one or two arguments and
// returns the exit code.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "--version" {
		return runVersion(nil, stdout, stderr)
	}
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

// runVersion prints the version and build facts, as `prometheus --version`
// does; klaxon_build_info exports the same.
func runVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, promversion.Print("klaxon"))
	return 0
}
