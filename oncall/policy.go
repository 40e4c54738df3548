package oncall

import (
	"fmt"
	"slices"
	"time"
)

// Notification is one thing an escalation does: a page to a person through
// some of their contact methods, a page to the policy's fallback receiver,
// or a step that found nobody on call and moved on at once.
type Notification struct {
	Round    int       // 0 for the first pass through the steps
	Step     int       // index into the policy's steps; -1 for the fallback
	Due      time.Time // when it is sent
	Person   string    // who is paged; "" for the fallback and for nobody
	Via      string    // why: "schedule S", "team T" or "person"
	Rule     int       // index into the person's notification rules
	Methods  []string  // the person's contact methods notified
	Receiver string    // the fallback receiver's name, for the fallback
	Nobody   bool      // the step found nobody on call and moved on
}

// ID names the notification as a pure function of the decision, so that a
// notification log can tell whether it was already sent.
func (n Notification) ID() string {
	switch {
	case n.Step < 0:
		return "fallback/" + n.Receiver
	case n.Nobody:
		return fmt.Sprintf("%d/%d/nobody", n.Round, n.Step)
	}
	return fmt.Sprintf("%d/%d/%s/%d", n.Round, n.Step, n.Person, n.Rule)
}

// String describes the notification in one line.
func (n Notification) String() string {
	at := n.Due.UTC().Format(time.RFC3339)
	switch {
	case n.Step < 0:
		return fmt.Sprintf("%s fallback receiver %s", at, n.Receiver)
	case n.Nobody:
		return fmt.Sprintf("%s round %d step %d: nobody on call, moved on", at, n.Round+1, n.Step+1)
	}
	return fmt.Sprintf("%s round %d step %d: %s via %s through %v", at, n.Round+1, n.Step+1, n.Person, n.Via, n.Methods)
}

// Plan lists every notification the named policy sends for an escalation
// that started at start and was acknowledged or resolved at stop (zero: not
// yet), in the order they are due. Each step pages its targets, each
// through their notification rules, then waits its escalate_after; a step
// that finds nobody moves on at once. After the last round the fallback
// receiver is paged, so an escalation never ends with nobody paged.
// Nothing due at or after stop is sent.
func (c *Config) Plan(policy string, start, stop time.Time, overrides []Override) ([]Notification, error) {
	p, ok := c.Policies[policy]
	if !ok {
		return nil, fmt.Errorf("unknown escalation policy %q", policy)
	}
	stopped := func(t time.Time) bool { return !stop.IsZero() && !t.Before(stop) }
	var out []Notification
	due := start.UTC()
	for round := 0; round <= p.Repeat; round++ {
		for i := range p.Steps {
			if stopped(due) {
				return sortByDue(out), nil
			}
			pages, wait := c.StepPages(p, round, i, due, overrides)
			for _, n := range pages {
				if !stopped(n.Due) {
					out = append(out, n)
				}
			}
			due = due.Add(wait)
		}
	}
	if !stopped(due) {
		out = append(out, c.FallbackPage(p, due))
	}
	return sortByDue(out), nil
}

// StepPages returns what step i of round round of policy p sends when it
// comes due at due: a page per target through each of their notification
// rules (each due that rule's delay later), or one Nobody notification;
// and how long to wait before the next step (0 after a step that found
// nobody, which moves on at once).
func (c *Config) StepPages(p *Policy, round, i int, due time.Time, overrides []Override) ([]Notification, time.Duration) {
	st := p.Steps[i]
	base := Notification{Round: round, Step: i, Due: due.UTC()}
	targets := c.targets(st, due, overrides)
	if len(targets) == 0 {
		base.Nobody = true
		return []Notification{base}, 0
	}
	var out []Notification
	for _, t := range targets {
		out = append(out, c.pages(t, base)...)
	}
	return out, st.EscalateAfter
}

// FallbackPage is the page to p's fallback receiver at due.
func (c *Config) FallbackPage(p *Policy, due time.Time) Notification {
	return Notification{Step: -1, Due: due.UTC(), Receiver: p.Fallback.Name}
}

// target is a person a step pages, and through what.
type target struct{ person, via string }

// targets returns whom a step pages at t, each person once, in the order
// schedules, people, teams.
func (c *Config) targets(st Step, t time.Time, overrides []Override) []target {
	var out []target
	add := func(person, via string) {
		if !slices.ContainsFunc(out, func(x target) bool { return x.person == person }) {
			out = append(out, target{person, via})
		}
	}
	for _, s := range st.Schedules {
		for _, sh := range c.Schedules[s].OnCallAt(t, overrides) {
			add(sh.Person, "schedule "+s)
		}
	}
	for _, p := range st.People {
		add(p, "person")
	}
	for _, tm := range st.Teams {
		for _, p := range c.Teams[tm].Members {
			add(p, "team "+tm)
		}
	}
	return out
}

// pages expands one person's page into their notification rules.
func (c *Config) pages(t target, base Notification) []Notification {
	var out []Notification
	for j, r := range c.People[t.person].Rules {
		n := base
		n.Person, n.Via, n.Rule, n.Methods = t.person, t.via, j, r.Methods
		n.Due = base.Due.Add(r.After)
		out = append(out, n)
	}
	return out
}

func sortByDue(ns []Notification) []Notification {
	slices.SortStableFunc(ns, func(a, b Notification) int { return a.Due.Compare(b.Due) })
	return ns
}
