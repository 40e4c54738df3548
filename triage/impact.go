package triage

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/rules"
)

// Impact answers, for one incident, the questions of an impact assessment:
// who is affected and what they see, how many, since when, how many tickets
// and mentions with what reach, and what else makes it worse. It is
// internal: customer names and report subjects never reach a public page.
type Impact struct {
	Customers     int       `json:"customers"`
	CustomerNames []string  `json:"customerNames,omitempty"` // the first 20, sorted
	CustomerShare float64   `json:"customerShare,omitempty"` // percent of severity.customers_total
	WhatTheySee   []Seen    `json:"whatTheySee"`             // the most frequent ticket subjects and alert summaries
	Since         time.Time `json:"since"`                   // the earliest signal's start, not the first received
	Tickets       int64     `json:"tickets"`
	Mentions      int64     `json:"mentions"`
	Reach         int64     `json:"reach"`
	Alerts        int64     `json:"alerts"`
	Factors       []string  `json:"factors,omitempty"` // raised flags (security, data loss), social-media attention
}

// Seen is one thing customers or monitoring report, and how often.
type Seen struct {
	What  string `json:"what"`
	Count int    `json:"count"`
}

const (
	maxSeen          = 5
	maxCustomerNames = 20
)

// impact assesses inc from its tallies and its signals' records.
func (s *State) impact(inc *Incident) Impact {
	im := Impact{
		Customers: len(inc.Customers), Since: inc.StartedAt,
		Alerts:   inc.Totals[counterIndex[rules.CounterAlerts]],
		Tickets:  inc.Totals[counterIndex[rules.CounterTickets]],
		Mentions: inc.Totals[counterIndex[rules.CounterMentions]],
		Reach:    inc.Totals[counterIndex[rules.CounterReach]],
	}
	names := slices.Sorted(maps.Keys(inc.Customers))
	im.CustomerNames = names[:min(len(names), maxCustomerNames)]
	if total := s.rules.CustomersTotal(); total > 0 {
		im.CustomerShare = 100 * float64(len(inc.Customers)) / float64(total)
	}
	im.WhatTheySee = s.whatTheySee(inc)
	f := inc.facts(s.now)
	im.Factors = s.rules.Flags(&f)
	if im.Mentions > 0 {
		im.Factors = append(im.Factors, fmt.Sprintf("social media: %d mentions, reach %d", im.Mentions, im.Reach))
	}
	return im
}

// whatTheySee counts the summaries of inc's signals, most frequent first.
func (s *State) whatTheySee(inc *Incident) []Seen {
	counts := map[string]int{}
	for _, id := range inc.Alerts {
		if a := s.alerts[id]; a != nil && a.Incident == inc.Key {
			what := a.Signal.Annotations.Get("summary")
			if what == "" && a.Signal.Kind != "alert" {
				what = truncate(a.Signal.Text(), 120)
			}
			if what != "" {
				counts[truncate(what, 200)]++
			}
		}
	}
	seen := make([]Seen, 0, len(counts))
	for what, n := range counts {
		seen = append(seen, Seen{What: what, Count: n})
	}
	slices.SortFunc(seen, func(a, b Seen) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.What, b.What)) })
	return seen[:min(len(seen), maxSeen)]
}
