package main

import (
	"fmt"
	"io"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/ruletest"
)

func runCheckConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: klaxon check config FILE")
		return 2
	}
	cfg, err := config.Load(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "FAILED:", err)
		return 1
	}
	if _, _, err := loadRules(cfg); err != nil {
		fmt.Fprintln(stderr, "FAILED:", err)
		return 1
	}
	fmt.Fprintf(stdout, "SUCCESS: %s is valid (%d rule file globs)\n", args[0], len(cfg.RuleFiles))
	return 0
}

func runCheckRules(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: klaxon check rules FILE...")
		return 2
	}
	files, err := rules.Load("", args)
	if err != nil {
		fmt.Fprintln(stderr, "FAILED:", err)
		return 1
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "FAILED: no rule files matched")
		return 1
	}
	rs, err := rules.Compile(files)
	if err != nil {
		fmt.Fprintln(stderr, "FAILED:")
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "SUCCESS: %d files, %d services\n", len(files), len(rs.Services()))
	return 0
}

func runTestRules(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: klaxon test rules TESTFILE...")
		return 2
	}
	if !ruletest.Run(stdout, args) {
		return 1
	}
	return 0
}
