package triage

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
)

// snapshot is the serialised state; everything else is derived from it.
// Alerts and incidents are stored in chunks that encode and decode on all
// cores: a snapshot of a million alerts must restore in seconds.
type snapshot struct {
	Seq        uint64            `json:"seq"`
	Now        time.Time         `json:"now"`
	NextInc    uint64            `json:"nextIncident"`
	RuleFiles  []rules.File      `json:"ruleFiles,omitempty"`
	Alerts     []json.RawMessage `json:"alerts"`    // IDs in sorted order; up to format 8 each {"id": alert, …}
	Incidents  []json.RawMessage `json:"incidents"` // each [incident, …], oldest first
	Intents    []*Intent         `json:"intents,omitempty"`
	OnCall     []oncall.File     `json:"oncall,omitempty"`
	Overrides  []oncall.Override `json:"overrides,omitempty"`
	Silences   []*Silence        `json:"silences,omitempty"`
	Pools      []*pool           `json:"pools,omitempty"`
	Heartbeats []*heartbeat      `json:"heartbeats,omitempty"`
	// Maintenances are the maintenance windows, by ID (format 5).
	Maintenances []*Maintenance `json:"maintenances,omitempty"`
	// Chat is the chat-room settings in force (format 7).
	Chat *ChatSettings `json:"chat,omitempty"`

	// binaryAlerts says the alert chunks are binary (format 9 on).
	binaryAlerts bool
}

// snapshotChunk is how many alerts or incidents one chunk holds.
const snapshotChunk = 4096

// Snapshot captures the whole state and returns the function that
// serialises the capture (journal.FSM). The capture copies what Apply
// changes in place (alerts, incident records, counters, customer sets) and
// shares what it never changes again (signals' label maps, the prefixes of
// append-only slices), so serialising can run while Apply goes on.
func (s *State) Snapshot() journal.SnapshotFunc {
	s.mu.RLock()
	snap := snapshot{Seq: s.seq, Now: s.now, NextInc: s.nextInc, RuleFiles: s.ruleFiles,
		OnCall: s.oncallFiles, Overrides: slices.Clone(s.overrides), Silences: s.captureSilences(),
		Pools: s.capturePools(), Heartbeats: s.captureHeartbeats(), Maintenances: s.captureMaintenances(), Chat: s.chat}
	for _, in := range s.sortedIntents() {
		cp := *in
		snap.Intents = append(snap.Intents, &cp)
	}
	alerts := make([]keyedAlert, 0, len(s.alerts))
	copies := make([]Alert, len(s.alerts))
	for id, a := range s.alerts {
		i := len(alerts)
		copies[i] = *a
		alerts = append(alerts, keyedAlert{id, &copies[i]})
	}
	incidents := make([]*Incident, len(s.order))
	incCopies := make([]Incident, len(s.order))
	for i, inc := range s.order {
		incCopies[i] = inc.capture()
		incidents[i] = &incCopies[i]
	}
	s.mu.RUnlock()
	return func() ([]byte, error) {
		slices.SortFunc(alerts, func(a, b keyedAlert) int { return strings.Compare(a.id, b.id) })
		alertChunks := slices.Collect(slices.Chunk(alerts, snapshotChunk))
		incChunks := slices.Collect(slices.Chunk(incidents, snapshotChunk))
		snap.Alerts = make([]json.RawMessage, len(alertChunks))
		snap.Incidents = make([]json.RawMessage, len(incChunks))
		err := parallel(len(alertChunks)+len(incChunks), func(i int) (err error) {
			if i >= len(alertChunks) {
				i -= len(alertChunks)
				snap.Incidents[i], err = json.Marshal(incChunks[i])
				return err
			}
			snap.Alerts[i] = encodeAlertsBinary(alertChunks[i])
			return nil
		})
		if err != nil {
			return nil, err
		}
		return encodeSnapshot(&snap)
	}
}

// parallel runs fn(0) … fn(n-1) on as many goroutines as there are cores
// and returns the first error.
func parallel(n int, fn func(i int) error) error {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make([]error, n)
	)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				errs[i] = fn(i)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// capture copies an incident for a snapshot: slices that are only ever
// appended to are cut to their current length, the rest is copied.
func (inc *Incident) capture() Incident {
	c := *inc
	c.Responders = slices.Clip(inc.Responders)
	if inc.Chat != nil {
		c.Chat = inc.Chat.clone()
	}
	c.Services = slices.Clip(inc.Services)
	c.GroupKeys = slices.Clip(inc.GroupKeys)
	c.Alerts = slices.Clip(inc.Alerts)
	c.Timeline = slices.Clip(inc.Timeline)
	c.Updates = slices.Clone(inc.Updates) // edits and approvals change them in place
	c.Counts = slices.Clone(inc.Counts)
	c.Settled = slices.Clip(inc.Settled)
	c.HumanEntries = cloneEntries(inc.HumanEntries) // corrections and strikes change them in place
	if inc.Escalation != nil {
		e := *inc.Escalation
		c.Escalation = &e
	}
	c.Customers = maps.Clone(inc.Customers)
	// Role changes write the map and end terms in place while the copy is encoded.
	c.Roles, c.RoleReminders = maps.Clone(inc.Roles), maps.Clone(inc.RoleReminders)
	c.RoleHistory = slices.Clone(inc.RoleHistory)
	return c
}

// Restore replaces the state with a snapshot (journal.FSM).
func (s *State) Restore(data []byte) error {
	var snap snapshot
	if err := decodeSnapshot(data, &snap); err != nil {
		return fmt.Errorf("restore triage snapshot: %w", err)
	}
	alertParts := make([][]keyedAlert, len(snap.Alerts))
	incParts := make([][]*Incident, len(snap.Incidents))
	decode := decodeAlerts
	if snap.binaryAlerts {
		decode = decodeAlertsBinary
	}
	// The incidents' chunks go first: each is larger than an alerts' chunk,
	// and one left for last would keep a core waiting on it.
	err := parallel(len(incParts)+len(alertParts), func(i int) (err error) {
		if i < len(incParts) {
			incParts[i], err = decodeIncidents(snap.Incidents[i])
		} else {
			alertParts[i-len(incParts)], err = decode(snap.Alerts[i-len(incParts)])
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("restore triage snapshot: %w", err)
	}
	rs := rules.Default()
	if len(snap.RuleFiles) > 0 {
		var err error
		if rs, err = rules.Compile(snap.RuleFiles); err != nil {
			return fmt.Errorf("restore triage snapshot: rules: %w", err)
		}
	}
	fresh := New(rs)
	fresh.ruleFiles = snap.RuleFiles
	if len(snap.OnCall) > 0 {
		oc := &OnCallChange{Files: snap.OnCall}
		if oc.load(); oc.err != nil {
			return fmt.Errorf("restore triage snapshot: on-call files: %w", oc.err)
		}
		fresh.oncallFiles, fresh.oncall = oc.Files, oc.cfg
	}
	fresh.overrides = snap.Overrides
	fresh.seq, fresh.now, fresh.nextInc = snap.Seq, snap.Now, snap.NextInc
	n := 0
	for _, part := range alertParts {
		n += len(part)
	}
	fresh.alerts = make(map[string]*Alert, n) // filled, not grown
	for _, part := range alertParts {
		for _, ka := range part {
			fresh.alerts[ka.id] = ka.alert // a repeated ID: the last wins, as in encoding/json
		}
	}
	if len(fresh.alerts) < n {
		alertParts = nil // an ID repeated: rebuild goes by the map
	}
	for _, part := range incParts {
		for _, inc := range part {
			fresh.incidents[inc.Key] = inc
			fresh.order = append(fresh.order, inc)
		}
	}
	for _, p := range snap.Pools {
		fresh.pools[p.Key] = p
	}
	for _, hb := range snap.Heartbeats {
		fresh.heartbeats[hb.Fingerprint] = hb
	}
	for _, in := range snap.Intents {
		fresh.intents[in.ID] = in
		fresh.queue(in)
	}
	if err := fresh.restoreSilences(snap.Silences); err != nil {
		return fmt.Errorf("restore triage snapshot: %w", err)
	}
	fresh.restoreMaintenances(snap.Maintenances)
	fresh.chat = snap.Chat
	fresh.rebuildOver(alertParts)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules, s.ruleFiles, s.dependents = fresh.rules, fresh.ruleFiles, fresh.dependents
	s.decoding.Store(fresh.rules)
	s.seq, s.now, s.nextInc = fresh.seq, fresh.now, fresh.nextInc
	s.alerts, s.incidents, s.order = fresh.alerts, fresh.incidents, fresh.order
	s.openByKey, s.openBySvc, s.timers, s.expiries = fresh.openByKey, fresh.openBySvc, fresh.timers, fresh.expiries
	s.shared, s.sharedHits, s.links, s.poolKeys = fresh.shared, fresh.sharedHits, fresh.links, fresh.poolKeys
	s.openCount, s.archived, s.silences = fresh.openCount, nil, fresh.silences
	s.intents, s.settled, s.dueIntents = fresh.intents, fresh.settled, fresh.dueIntents
	s.dueChat, s.chat, s.chatChannels = fresh.dueChat, fresh.chat, fresh.chatChannels
	s.pools, s.heartbeats, s.maintenances = fresh.pools, fresh.heartbeats, fresh.maintenances
	s.oncallFiles, s.oncall, s.overrides = fresh.oncallFiles, fresh.oncall, fresh.overrides
	s.held = fresh.held
	return nil
}

// rebuild recomputes everything derived from alerts, incidents and rules:
// indexes, per-incident statistics, admission counts and timers.
func (s *State) rebuild() { s.rebuildOver(nil) }

// rebuildOver is rebuild visiting the alerts in the order of parts, when
// parts holds every alert of s.alerts once: a snapshot's, in the order
// they were decoded and so laid out in memory. In the alerts map's order
// nearly every alert is a cache miss: restoring a million alerts, rebuild
// took 2.6–2.8 s that way and 0.8–1.1 s this way. What it derives is the
// same in any order.
func (s *State) rebuildOver(parts [][]keyedAlert) {
	s.openByKey = make(map[string]*Incident)
	s.openBySvc = make(map[string]*Incident)
	s.chatChannels = make(map[string]string)
	s.openCount = 0
	s.timers.init()
	s.expiries = expiryHeap{}
	s.held = held{}
	clear(s.settled)
	for _, m := range s.maintenances {
		s.armMaintenance(m)
	}
	gates := s.pendingGates()
	for _, inc := range s.order {
		inc.derive(s.rules)
		s.armUpdates(inc)
		s.armRoleTimers(inc)
		s.armChat(inc, gates[inc.Key])
		for _, id := range inc.Settled {
			s.settled[id] = true
		}
		if !inc.open() {
			s.timers.set(timerEvict, inc.Key, inc.ResolvedAt.Add(Retention))
			continue
		}
		s.openCount++
		for _, k := range inc.GroupKeys {
			s.openByKey[k] = inc
		}
		for _, name := range inc.Services {
			s.openBySvc[name] = inc
		}
		s.armQuiet(inc, s.now) // every timer due by s.now has fired: a reload that shortened the wait resolves it at once
		if inc.Override == nil {
			s.timers.set(timerRecheck, inc.Key, inc.Recheck)
		}
		if e := inc.Escalation; e != nil && !e.Next.IsZero() {
			s.timers.set(timerEscalate, inc.Key, e.Next) // a step, business hours, or an ack timing out
		}
	}
	for fp, hb := range s.heartbeats {
		s.timers.set(timerHeartbeat, fp, hb.Due)
	}
	for _, p := range s.pools {
		var last time.Time
		for _, id := range p.Reports {
			if a := s.alerts[id]; a != nil {
				s.poolKeys[a], last = p.Key, a.FirstSeen.Time()
			}
		}
		s.timers.set(timerPoolExpiry, p.Key, last.Add(s.keepCounts()))
	}
	if parts == nil {
		for id, a := range s.alerts {
			s.rederive(id, a)
		}
	}
	for _, part := range parts {
		for _, ka := range part {
			s.rederive(ka.id, ka.alert)
		}
	}
	s.scheduleSilences()
}

// rederive recomputes what is derived from the alert a, stored under id.
func (s *State) rederive(id string, a *Alert) {
	a.expiryPos = 0 // expiries start afresh
	s.shareStrings(a, id)
	a.Signal.Annotations = s.shared.share(a.Signal.Annotations)
	a.hits = s.matchHits(&a.Signal)
	if rules.IsReport(&a.Signal) && a.Signal.Text() != "" {
		s.timers.set(timerReportText, id, a.FirstSeen.Time().Add(ReportTextRetention))
	}
	if !a.Firing {
		return
	}
	s.held.add(a.Signal.Source, 1)
	if !a.Signal.EndsAt.IsZero() {
		s.expiries.set(a, a.Signal.EndsAt)
	}
	if inc := s.incidents[a.Incident]; inc != nil && inc.open() {
		inc.addAlert(a, 1)
	}
}

// shareStrings makes a, stored under id, share its strings as a live alert
// does (store): its fingerprint is the tail of id, its incident string its
// incident's key, its link a shared one.
func (s *State) shareStrings(a *Alert, id string) {
	if fp := a.Signal.Fingerprint; strings.HasSuffix(id, fp) {
		a.Signal.Fingerprint = id[len(id)-len(fp):]
	}
	if inc := s.incidents[a.Incident]; inc != nil {
		a.Incident = inc.Key
	}
	a.Signal.Link = s.links.share(a.Signal.Link)
}

// reclassify makes an open incident also the incident of the keys and
// services its firing alerts have under new rules, so a rule change does not
// split it: the next alert of the same kind joins it, not a new one.
func (s *State) reclassify(inc *Incident) {
	for _, id := range inc.Alerts {
		a := s.alerts[id]
		if a == nil || a.Incident != inc.Key || !a.Firing {
			continue
		}
		if cls := s.rules.Classify(&a.Signal); s.openByKey[cls.Key] == nil {
			s.absorb(inc, cls)
		}
	}
}

// applyRules installs a new rule set and re-evaluates every open incident.
func (s *State) applyRules(c *change, rc *RulesChange) error {
	rc.compile() // done already, outside the lock, unless a caller built the entry by hand
	if rc.err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, rc.err)
	}
	s.setRules(rc.set, rc.Files)
	for _, inc := range s.order {
		if inc.open() {
			s.recorrelate(c, inc)
		}
	}
	s.rebuild()
	for _, inc := range s.order {
		if inc.open() {
			s.reclassify(inc)
			c.touch(inc)
		}
	}
	return nil
}

// recorrelate gives an open incident the correlation settings the new
// rules give its first alert, so that a quiet period shortened (or
// lengthened) by a reload applies to incidents already waiting it out.
func (s *State) recorrelate(c *change, inc *Incident) {
	a := s.alerts[inc.Alerts[0]]
	if a == nil {
		return
	}
	corr := s.rules.Classify(&a.Signal).Correlation
	if corr == inc.Correlation {
		return
	}
	old := inc.Correlation.QuietPeriod
	inc.Correlation = corr
	if corr.QuietPeriod != old && !inc.QuietSince.IsZero() {
		then := "stays open until a human resolves it"
		if end := s.quietEnd(inc); !end.IsZero() {
			then = "resolves at " + end.UTC().Format(time.RFC3339) + " unless an alert fires again"
		}
		c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventQuiet,
			Message: fmt.Sprintf("the rules changed the quiet period from %s to %s: %s", old, corr.QuietPeriod, then)})
	}
}
