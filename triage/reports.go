package triage

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

// A report is a ticket or a mention: people telling that something is
// wrong. Reports do not fire and resolve as alerts do. A report joins the
// open incident of its service (or grouping key); without one it waits in
// its service's pool, where the rules' counts can open an incident from
// reports alone (twenty tickets about checkout in fifteen minutes). A
// report nothing attributes is kept and counted in a pool of its own.

// pool holds the reports of one grouping key that no open incident took,
// for the longest window the rules count over.
type pool struct {
	Key     string   `json:"key"`
	Service string   `json:"service,omitempty"`
	Reports []string `json:"reports"` // signal IDs, oldest first
	tally
}

// applyReport records a ticket or mention and reports whether it changed
// anything. The same ticket updated is one ticket; a mention delivered
// again is one mention, and more reach (boosts, reposts) adds reach only.
func (s *State) applyReport(c *change, sig *signal.Signal, a *Alert, h uint64) bool {
	now := s.now
	if a != nil {
		if a.Hash == h {
			a.LastSeen = stampOf(now)
			return false
		}
		more := sig.Reach() - a.Signal.Reach()
		a.Signal, a.Hash, a.LastSeen = *sig, h, stampOf(now)
		if t := s.reportTally(a); t != nil && sig.Kind == signal.KindMention && more > 0 {
			t.count(rules.CounterReach, more, now, s.keepCounts())
		}
		return true
	}
	if sig.Status == signal.StatusResolved {
		return true // the end of a report never seen: nothing to record
	}
	if sig.RepostOf() != "" {
		return s.applyRepost(c, sig, h)
	}
	id := sig.ID()
	a = &Alert{Signal: *sig, Hash: h, FirstSeen: stampOf(now), LastSeen: stampOf(now), hits: s.matchHits(sig)}
	s.alerts[id] = a
	s.timers.set(timerReportText, id, now.Add(ReportTextRetention))
	cls := s.rules.Classify(sig)
	inc := s.openByKey[cls.Key]
	if inc == nil && cls.Service != nil {
		inc = s.openBySvc[cls.Service.Name]
	}
	if inc != nil {
		s.joinReport(c, inc, a, now)
		return true
	}
	s.poolReport(c, cls, a, now)
	return true
}

// ReportTextRetention is how long a ticket's or mention's body is kept
// (for correlation and responders): then it is deleted from the state, and
// with the next snapshot from disk, while the report and its counts stay.
// The journal keeps entries for storage.retention, which should not be
// longer (the configuration warns).
const ReportTextRetention = 30 * 24 * time.Hour

// forgetText deletes a report's body once it is kept no longer.
func (s *State) forgetText(id string) {
	if a := s.alerts[id]; a != nil {
		a.Signal.ClearText()
	}
}

// reportTally is where a known report was counted: its open incident or
// its pool; nil when neither holds it any more.
func (s *State) reportTally(a *Alert) *tally {
	if inc := s.incidents[a.Incident]; inc != nil && inc.open() {
		return &inc.tally
	}
	if a.Incident != "" {
		return nil
	}
	if p := s.pools[s.poolKeys[s.reposted(a)]]; p != nil {
		return &p.tally
	}
	return nil
}

// maxRepostChain bounds how far reposts of reposts are followed.
const maxRepostChain = 8

// reposted is the report a repost stands for: the post it reposts, through
// reposts of reposts, while that post is still held; any other report is
// itself. A repost waits in its post's pool, derived rather than recorded,
// so that a restored state knows it as the live one does.
func (s *State) reposted(a *Alert) *Alert {
	for range maxRepostChain {
		if a.Signal.RepostOf() == "" {
			break
		}
		orig := s.alerts[string(a.Signal.Kind)+"/"+a.Signal.RepostOf()]
		if orig == nil {
			break
		}
		a = orig
	}
	return a
}

// joinReport puts a new report into an open incident. A report keeps an
// incident that has no firing alert from resolving until its quiet period
// has passed since the last report.
func (s *State) joinReport(c *change, inc *Incident, a *Alert, now time.Time) {
	a.Incident = inc.Key
	inc.Alerts = append(inc.Alerts, a.Signal.ID())
	inc.LastSignalAt = now
	s.countSignal(&inc.tally, &a.Signal, now)
	inc.customer(a.Signal.Customer())
	inc.addAlertEvent(Event{At: now, Seq: c.seq, Kind: EventReport}, func() string { return describeReport(&a.Signal) })
	if !inc.QuietSince.IsZero() {
		inc.QuietSince = now
		s.armQuiet(inc, now)
	}
	c.touch(inc)
}

// poolReport adds a report to its key's pool and opens an incident from the
// pool when a severity rule holds for it.
func (s *State) poolReport(c *change, cls rules.Class, a *Alert, now time.Time) {
	p := s.pools[cls.Key]
	if p == nil {
		p = &pool{Key: cls.Key}
		if cls.Service != nil {
			p.Service = cls.Service.Name
		}
		s.pools[cls.Key] = p
	}
	s.poolKeys[a] = p.Key
	s.expirePool(p, now)
	p.Reports = append(p.Reports, a.Signal.ID())
	s.countSignal(&p.tally, &a.Signal, now)
	p.customer(a.Signal.Customer())
	s.timers.set(timerPoolExpiry, p.Key, now.Add(s.keepCounts()))
	if v := s.evaluatePool(p, now); v.Rule != "" {
		s.openFromPool(c, cls, p, a, v, now)
	}
}

// evaluatePool asks the severity rules about a pool as if it were an
// incident of its service.
func (s *State) evaluatePool(p *pool, now time.Time) rules.Verdict {
	hits := make([]int, s.rules.NumMatchers())
	started := now
	for _, id := range p.Reports {
		if a := s.alerts[id]; a != nil {
			for _, i := range a.matcherHits() {
				hits[i]++
			}
			started = minTime(started, a.FirstSeen.Time())
		}
	}
	f := rules.Facts{Now: now, Started: started, MatcherHits: hits, Customers: len(p.Customers),
		Count: func(ctr rules.Counter, d time.Duration) int64 { return p.sum(ctr, now, d) }}
	if p.Service != "" {
		f.Services = []string{p.Service}
	}
	return s.rules.Evaluate(&f)
}

// openFromPool opens an incident from a pool's reports: a rule holds for
// them although no alert fired.
func (s *State) openFromPool(c *change, cls rules.Class, p *pool, a *Alert, v rules.Verdict, now time.Time) {
	inc := s.openIncident(c, cls, &a.Signal, now)
	inc.tally = p.tally
	for _, id := range p.Reports {
		if r := s.alerts[id]; r != nil {
			r.Incident = inc.Key
			delete(s.poolKeys, r)
			inc.Alerts = append(inc.Alerts, id)
			inc.StartedAt = minTime(inc.StartedAt, r.FirstSeen.Time())
		}
	}
	inc.LastSignalAt = now
	c.event(inc, Event{At: now, Seq: c.seq, Kind: EventCorrelated, Message: fmt.Sprintf(
		"opened from reports alone by rule %s: %d tickets, %d mentions (reach %d) about %s",
		v.Rule, p.Totals[counterIndex[rules.CounterTickets]], p.Totals[counterIndex[rules.CounterMentions]],
		p.Totals[counterIndex[rules.CounterReach]], p.Key)})
	delete(s.pools, p.Key)
	s.timers.set(timerPoolExpiry, p.Key, time.Time{})
	c.touch(inc)
}

// expirePool forgets the reports that fell out of the rules' longest window.
func (s *State) expirePool(p *pool, now time.Time) {
	horizon := now.Add(-s.keepCounts())
	keep := slices.IndexFunc(p.Reports, func(id string) bool {
		a := s.alerts[id]
		return a != nil && a.FirstSeen.Time().After(horizon)
	})
	if keep < 0 {
		keep = len(p.Reports)
	}
	for _, id := range p.Reports[:keep] {
		if a := s.alerts[id]; a != nil {
			s.expiries.set(a, time.Time{})
			delete(s.poolKeys, a)
		}
		delete(s.alerts, id)
		s.timers.set(timerReportText, id, time.Time{})
	}
	p.Reports = p.Reports[keep:]
}

// poolExpired drops a pool that took no report for the longest window.
func (s *State) poolExpired(key string, at time.Time) {
	if p := s.pools[key]; p != nil {
		s.expirePool(p, at)
		if len(p.Reports) == 0 {
			delete(s.pools, key)
		}
	}
}

// describeReport names a report briefly for a timeline.
func describeReport(sig *signal.Signal) string {
	what := sig.Annotations.Get("summary")
	if what == "" {
		what = truncate(sig.Text(), 120)
	}
	who := ""
	if sig.Customer() != "" {
		who = " from " + sig.Customer()
	}
	return fmt.Sprintf("%s%s: %s", sig.Kind, who, truncate(what, 200))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// capturePools copies the pools for a snapshot, in key order.
func (s *State) capturePools() []*pool {
	out := make([]*pool, 0, len(s.pools))
	for _, key := range slices.Sorted(maps.Keys(s.pools)) {
		p := *s.pools[key]
		p.Reports = slices.Clone(p.Reports)
		p.Counts = slices.Clone(p.Counts)
		p.Customers = maps.Clone(p.Customers)
		out = append(out, &p)
	}
	return out
}

// PoolView is a pool of reports no open incident took, as the API shows it.
type PoolView struct {
	Key       string `json:"key"`
	Service   string `json:"service,omitempty"` // "" when nothing attributes them
	Tickets   int64  `json:"tickets"`
	Mentions  int64  `json:"mentions"`
	Reach     int64  `json:"reach"`
	Customers int    `json:"customers"`
	Reports   int    `json:"reports"` // still within the rules' longest window
}

// Pools lists the pools of reports waiting, by key.
func (s *State) Pools() []PoolView {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []PoolView{}
	for _, key := range slices.Sorted(maps.Keys(s.pools)) {
		p := s.pools[key]
		out = append(out, PoolView{Key: p.Key, Service: p.Service, Reports: len(p.Reports), Customers: len(p.Customers),
			Tickets:  p.Totals[counterIndex[rules.CounterTickets]],
			Mentions: p.Totals[counterIndex[rules.CounterMentions]],
			Reach:    p.Totals[counterIndex[rules.CounterReach]]})
	}
	return out
}

// applyRepost counts a boost or retweet as reach for the post it reposts:
// it is recorded under its own identity, so a delivery again changes
// nothing, but it adds no report. A repost of a post never seen counts as
// that post's first report.
func (s *State) applyRepost(c *change, sig *signal.Signal, h uint64) bool {
	now := s.now
	orig := s.alerts[string(sig.Kind)+"/"+sig.RepostOf()]
	if orig == nil {
		first := *sig
		rep := sig.Reported()
		first.Fingerprint, rep.RepostOf = rep.RepostOf, ""
		first.SetReport(rep)
		s.applyReport(c, &first, nil, hashSignal(&first))
		orig = s.alerts[first.ID()]
	} else if t := s.reportTally(orig); t != nil {
		t.count(rules.CounterReach, sig.Reach(), now, s.keepCounts())
	}
	rp := &Alert{Signal: *sig, Hash: h, FirstSeen: stampOf(now), LastSeen: stampOf(now)}
	rp.Signal.ClearText() // the reposted text is the original's
	if orig != nil {
		rp.Incident = orig.Incident
	}
	s.alerts[sig.ID()] = rp
	return true
}
