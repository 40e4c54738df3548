package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/postmortem"
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
	_, rs, err := loadRules(cfg)
	if err == nil {
		err = checkChatSeverity(cfg, rs)
	}
	if err == nil && len(cfg.OnCallFiles) > 0 {
		err = checkOnCallFor(cfg.OnCallFiles, rs)
	}
	if err == nil {
		_, err = postmortem.Load(cfg.Postmortem.TemplateFile)
	}
	if err != nil {
		fmt.Fprintln(stderr, "FAILED:", err)
		return 1
	}
	fmt.Fprintf(stdout, "SUCCESS: %s is valid (%d rule file globs, %d on-call file globs)\n", args[0], len(cfg.RuleFiles), len(cfg.OnCallFiles))
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "WARNING:", w)
	}
	return 0
}

// checkOnCallFor loads the on-call files and checks that every service's
// escalation policy is defined in them (or a "default" policy is), and
// every receiver a policy's final_message names.
func checkOnCallFor(globs []string, rs *rules.Set) error {
	oc, _, err := loadOncall(globs)
	if err != nil {
		return fmt.Errorf("on-call files: %w", err)
	}
	var missing []string
	for _, svc := range rs.Services() {
		name := cmp.Or(svc.EscalationPolicy, "default")
		if oc.Policies[name] == nil {
			missing = append(missing, fmt.Sprintf("service %s: escalation policy %q is not defined in the on-call files", svc.Name, name))
		}
	}
	for _, level := range rs.Levels() {
		for _, name := range rs.Policy(level.Level).FinalMessage {
			if oc.Named[name] == nil {
				missing = append(missing, fmt.Sprintf("policy %s: final_message receiver %q is not defined under receivers in the on-call files", level.Name, name))
			}
		}
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "\n"))
	}
	return nil
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
