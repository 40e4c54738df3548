package replay

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/rules"
)

// Differences lists, oldest first, every incident that differs between the
// runs; it writes nothing when the candidate changes nothing.
func (rep *Report) Differences(w io.Writer) int {
	cand := make(map[string]Outcome, len(rep.Candidate))
	for _, o := range rep.Candidate {
		cand[o.identity()] = o
	}
	n := 0
	for i := len(rep.Actual) - 1; i >= 0; i-- {
		a := rep.Actual[i]
		c, ok := cand[a.identity()]
		delete(cand, a.identity())
		switch {
		case !ok:
			fmt.Fprintf(w, "- %s %s, opened by %s (%s): would not open; its signals join another incident\n",
				a.name(), a.Severity, describe(a), alerts(a.Alerts))
		case a.Severity != c.Severity || a.Rule != c.Rule || a.Alerts != c.Alerts || a.Status != c.Status:
			fmt.Fprintf(w, "~ %s, opened by %s: %s -> %s\n", a.name(), describe(a), a.verdict(), c.verdict())
		default:
			continue
		}
		n++
	}
	for i := len(rep.Candidate) - 1; i >= 0; i-- {
		c := rep.Candidate[i]
		if _, left := cand[c.identity()]; left {
			fmt.Fprintf(w, "+ new incident %s, opened by %s at %s\n", c.verdict(), describe(c), c.Opened.Format(time.RFC3339))
			n++
		}
	}
	return n
}

// name is the incident's live key, or its key in the replay said to be one.
func (o Outcome) name() string {
	if o.LiveKey != "" {
		return o.LiveKey
	}
	return o.Key + " (numbered within the replay)"
}

// verdict is what a run decided about the incident.
func (o Outcome) verdict() string {
	return fmt.Sprintf("%s (%s; %s; %s)", o.Severity, ruleName(o.Rule), alerts(o.Alerts), o.Status)
}

func ruleName(rule string) string {
	if rule == "" {
		return "no rule (default severity)"
	}
	return fmt.Sprintf("rule %q", rule)
}

func alerts(n int) string {
	if n == 1 {
		return "1 alert"
	}
	return fmt.Sprintf("%d alerts", n)
}

// describe names the signal that opened the incident the way Prometheus
// prints a series: its alertname (or its ID) and its other labels.
func describe(o Outcome) string {
	name, ok := o.Labels["alertname"]
	if !ok {
		name = o.Opener
	}
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(o.Labels)) {
		if k != "alertname" {
			pairs = append(pairs, fmt.Sprintf("%s=%q", k, o.Labels[k]))
		}
	}
	return name + "{" + strings.Join(pairs, ", ") + "}"
}

// diffFiles says which rule files differ between two sets, a and b, named
// aName and bName, by file name without its directory (the recorded rules
// and a candidate usually live in different directories); "" when the sets
// are the same.
func diffFiles(a, b []rules.File, aName, bName string) string {
	switch {
	case len(a) == 0 && len(b) == 0:
		return ""
	case len(a) == 0:
		return aName + " are the built-in defaults (no rule files)"
	case len(b) == 0:
		return bName + " are the built-in defaults (no rule files)"
	}
	am, bm := byName(a), byName(b)
	var out []string
	for _, name := range slices.Sorted(maps.Keys(am)) {
		data, ok := bm[name]
		switch {
		case !ok:
			out = append(out, name+" only in "+aName)
		case data != am[name]:
			out = append(out, name+" edited")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(bm)) {
		if _, ok := am[name]; !ok {
			out = append(out, name+" only in "+bName)
		}
	}
	return strings.Join(out, ", ")
}

// byName maps file names without their directory to contents, or full
// names when two files in the set share a base name.
func byName(files []rules.File) map[string]string {
	m := make(map[string]string, len(files))
	for _, f := range files {
		base := filepath.Base(f.Name)
		if _, dup := m[base]; dup {
			return fullNames(files)
		}
		m[base] = string(f.Data)
	}
	return m
}

func fullNames(files []rules.File) map[string]string {
	m := make(map[string]string, len(files))
	for _, f := range files {
		m[f.Name] = string(f.Data)
	}
	return m
}
