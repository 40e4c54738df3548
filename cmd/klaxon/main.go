// Command klaxon is the alert gateway and triage service: `klaxon serve`
// runs it; the other subcommands check and test its configuration and rules,
// and `klaxon incidents` works with a running Klaxon's incidents, as amtool
// does with Alertmanager's alerts.
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

	"statuspage export": {usageStatusPageExport, runStatusPageExport},

	"incidents list":     {usageIncidentsList, runIncidentsList},
	"incidents show":     {usageIncidentsShow, runIncidentsShow},
	"incidents ack":      {usageIncidentsAck, runIncidentsAck},
	"incidents resolve":  {usageIncidentsResolve, runIncidentsResolve},
	"incidents escalate": {usageIncidentsEscalate, runIncidentsEscalate},
	"incidents severity": {usageIncidentsSeverity, runIncidentsSeverity},

	"cluster status": {usageClusterStatus, runClusterStatus},
	"cluster join":   {usageClusterJoin, runClusterJoin},
	"cluster remove": {usageClusterRemove, runClusterRemove},
}

// parsesFlags names the commands whose run parses its arguments with a
// flag.FlagSet (and does nothing else when that fails), so that asking it
// for -h prints its flags.
var parsesFlags = map[string]bool{
	"serve": true, "check oncall": true, "oncall": true, "pages": true, "replay": true,
	"incidents list": true, "incidents show": true, "incidents ack": true, "incidents resolve": true,
	"incidents escalate": true, "incidents severity": true,
	"statuspage export": true,
	"cluster status":    true, "cluster join": true, "cluster remove": true,
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the subcommand named by the first one or two arguments and
// returns the exit code. -h, -help or --help anywhere before "--" prints the
// command's usage instead, and so does `klaxon help COMMAND`.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "--version" {
		return runVersion(nil, stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "help" || isHelp(args[0])) {
		return help(args[1:], stdout, stderr)
	}
	name, rest, ok := lookup(args)
	switch {
	case ok && wantsHelp(rest):
		commandHelp(name, stdout)
		return 0
	case ok:
		return commands[name].run(rest, stdout, stderr)
	case len(args) == 0:
		usage(stderr, "")
	case len(args) > 1 && isGroup(args[0]) && isHelp(args[1]):
		usage(stdout, args[0])
		return 0
	case isGroup(args[0]) && len(args) > 1:
		fmt.Fprintf(stderr, "klaxon: unknown command %q\n", args[0]+" "+args[1])
		usage(stderr, args[0])
	case isGroup(args[0]):
		usage(stderr, args[0])
	default:
		fmt.Fprintf(stderr, "klaxon: unknown command %q\n", args[0])
		usage(stderr, "")
	}
	return 2
}

// lookup finds the command the first two, or first one, of args name.
func lookup(args []string) (name string, rest []string, ok bool) {
	for n := 2; n >= 1; n-- {
		if len(args) < n {
			continue
		}
		if _, ok := commands[strings.Join(args[:n], " ")]; ok {
			return strings.Join(args[:n], " "), args[n:], true
		}
	}
	return "", nil, false
}

// help answers `klaxon help [COMMAND]` and `klaxon --help`.
func help(args []string, stdout, stderr io.Writer) int {
	name, rest, ok := lookup(args)
	switch {
	case len(args) == 0:
		usage(stdout, "")
	case ok && len(rest) == 0:
		commandHelp(name, stdout)
	case len(args) == 1 && isGroup(args[0]):
		usage(stdout, args[0])
	default:
		fmt.Fprintf(stderr, "klaxon: unknown command %q\n", strings.Join(args, " "))
		usage(stderr, "")
		return 2
	}
	return 0
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isHelp(a) {
			return true
		}
	}
	return false
}

// isGroup reports whether word starts commands of more than one word
// ("check", "incidents").
func isGroup(word string) bool {
	for name := range commands {
		if strings.HasPrefix(name, word+" ") {
			return true
		}
	}
	return false
}

// commandHelp prints a command's usage and, if it parses flags, its flags.
func commandHelp(name string, w io.Writer) {
	syn, desc, _ := strings.Cut(commands[name].usage, "  ")
	fmt.Fprintf(w, "usage: klaxon %s\n", syn)
	if desc != "" {
		fmt.Fprintf(w, "\n%s.\n", strings.TrimSpace(desc))
	}
	if !parsesFlags[name] {
		return
	}
	var flags strings.Builder
	commands[name].run([]string{"-h"}, io.Discard, &flags)
	_, defaults, _ := strings.Cut(flags.String(), "\n") // after flag's "Usage of NAME:"
	if defaults != "" {
		fmt.Fprintf(w, "\nflags:\n%s", defaults)
	}
}

// usage lists the commands, or those of a group ("check") if group is set.
func usage(w io.Writer, group string) {
	if group == "" {
		fmt.Fprintln(w, "usage: klaxon COMMAND [ARGS]  (klaxon COMMAND --help for more)")
	} else {
		fmt.Fprintf(w, "usage: klaxon %s COMMAND [ARGS]\n", group)
	}
	names := make([]string, 0, len(commands))
	for name := range commands {
		if group == "" || strings.HasPrefix(name, group+" ") {
			names = append(names, name)
		}
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
