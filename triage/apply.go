package triage

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

// Apply applies one journal record to the state and returns a *Result. It
// implements journal.FSM: records must come in sequence order; a record at
// or below the last applied sequence is ignored, so replay is idempotent.
func (s *State) Apply(rec journal.Record) any {
	e, keys, err := decodeRecord(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.Seq != 0 && rec.Seq <= s.seq {
		return &Result{}
	}
	s.seq = rec.Seq
	if rec.Time.After(s.now) {
		s.now = rec.Time
	}
	if err != nil {
		return &Result{Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
	}
	c := &change{state: s, seq: s.seq, res: &Result{}, touched: s.touchedList, seen: s.touchedBy}
	until := s.now
	if e.Tick != nil && e.Tick.Due.After(until) {
		until = e.Tick.Due // a tick fires what it was appended for, whatever the record's time
	}
	s.advance(c, until)
	switch {
	case len(e.Signals) > 0:
		s.applySignals(c, e.Signals, keys)
	case e.Action != nil:
		c.res.Err = s.applyAction(c, e.Action)
	case e.Rules != nil:
		c.res.Err = s.applyRules(c, e.Rules)
	case e.Delivery != nil:
		c.res.Err = s.applyDelivery(c, e.Delivery)
	case e.OnCall != nil:
		c.res.Err = s.applyOnCall(c, e.OnCall)
	case e.Override != nil:
		c.res.Created = fmt.Sprintf("override-%d", c.seq)
		if c.res.Err = s.applyOverride(c, e.Override, c.res.Created); c.res.Err != nil {
			c.res.Created = ""
		}
	case e.Silence != nil:
		c.res.Err = s.applySilence(c, e.Silence)
	case e.Update != nil:
		c.res.Err = s.applyUpdate(c, e.Update)
	case e.Chat != nil:
		c.res.Err = s.applyChat(c, e.Chat)
	case e.Maintenance != nil:
		if c.res.Err = s.applyMaintenance(c, e.Maintenance); c.res.Err != nil {
			c.res.Created = ""
		}
	}
	c.finish(s.now)
	return c.res
}

// Decode decodes a journaled entry for Apply ahead of time (journal.Decoder):
// recovery decodes on several goroutines and applies on one, and stops at an
// entry this binary cannot read rather than skip it. It also works out its
// signals' keys there, which Apply would otherwise do in line.
func (s *State) Decode(data []byte) (any, error) { return s.DecodeReusing(data, nil) }

// DecodeReusing is Decode into the slices of applied, what Decode returned
// for an entry already applied (journal.Reuser): recovery then decodes a
// million alerts into the room of the entries before them, rather than
// leaving a copy of every signal as garbage. Apply keeps nothing of the
// room: it copies each signal it stores, and of a key it keeps only the
// matcher hits, which each decoding allocates afresh.
func (s *State) DecodeReusing(data []byte, applied any) (any, error) {
	var room []signal.Signal
	var keys []signalKey
	if d, ok := applied.(*decoded); ok {
		room, keys = d.entry.Signals, d.keys
		clear(room)
		clear(keys)
	}
	e, err := decodeInto(data, room[:0])
	if err != nil {
		return nil, err
	}
	keys = keysOf(keys[:0], e.Signals)
	if rs := s.decoding.Load(); rs != nil {
		for i := range keys {
			// Only a firing alert's class and hits are ever used: Apply
			// classifies reports and acks its own way, and a resolve
			// creates no alert and joins no incident.
			if sig := &e.Signals[i]; sig.Status == signal.StatusFiring && !sig.Ack && !rules.IsReport(sig) {
				keys[i].classify(rs, sig)
			}
		}
	}
	return &decoded{entry: e, keys: keys}, nil
}

// decoded is an entry decoded ahead of Apply, with its signals' keys.
type decoded struct {
	entry *Entry
	keys  []signalKey
}

// signalKey is what Apply looks a signal up by, its ID and its hash, and,
// when decoded ahead, what the rules made of it.
type signalKey struct {
	id   string
	hash uint64
	// rules, when not nil, worked out cls and hits ahead of Apply (recovery
	// decodes on the other cores); Apply uses them only if the same rules
	// are still in force, as a rule set never changes once compiled.
	rules *rules.Set
	cls   rules.Class
	hits  []int
}

// classify works out sig's class and matcher hits under rs.
func (k *signalKey) classify(rs *rules.Set, sig *signal.Signal) {
	k.rules, k.cls, k.hits = rs, rs.Classify(sig), rs.MatchSignal(sig)
}

// ahead reports whether k holds what rs makes of the signal it was decoded
// from.
func (k *signalKey) ahead(rs *rules.Set) bool { return k.rules != nil && k.rules == rs }

// keysOf appends the keys of sigs to room, nil for none.
func keysOf(room []signalKey, sigs []signal.Signal) []signalKey {
	if len(sigs) == 0 {
		return nil
	}
	keys := slices.Grow(room[:0], len(sigs))
	for i := range sigs {
		keys = append(keys, keyOf(&sigs[i]))
	}
	return keys
}

func keyOf(sig *signal.Signal) signalKey {
	return signalKey{id: sig.ID(), hash: hashSignal(sig)}
}

// decodeRecord uses the appender's decoding of a live record (the engine
// encodes it from that very entry), the decoding recovery did ahead, or
// decodes the record's bytes. keys is nil unless decoded ahead.
func decodeRecord(rec journal.Record) (*Entry, []signalKey, error) {
	switch d := rec.Decoded.(type) {
	case *Entry:
		return d, nil, nil
	case *decoded:
		return d.entry, d.keys, nil
	}
	e, err := Decode(rec.Data)
	return e, nil, err
}

// change collects the incidents one entry touched, in the order it touched
// them, so that follow-up work (quiet periods, severity) runs once each.
type change struct {
	state   *State
	seq     uint64
	res     *Result
	touched []*Incident
	seen    map[*Incident]bool
	// chatList holds the incidents whose chat room to look at (chat.go).
	chatList []*Incident
	chatSeen map[*Incident]bool
}

// maxReusedTouch bounds the list and map of touched incidents that the
// next entry reuses (State.touchedList, touchedBy) rather than grows its
// own from nothing.
const maxReusedTouch = 512

func (c *change) touch(inc *Incident) {
	if c.seen == nil {
		c.seen = make(map[*Incident]bool)
	}
	if !c.seen[inc] {
		c.seen[inc] = true
		c.touched = append(c.touched, inc)
	}
}

func (c *change) finish(now time.Time) {
	for _, inc := range c.touched {
		if inc.open() {
			c.state.settle(c, inc, now)
			c.state.autoUpdates(c, inc, now)
		}
	}
	c.syncChat()
	if len(c.touched) > maxReusedTouch {
		c.touched, c.seen = nil, nil // clearing them would cost what they once held
	}
	clear(c.touched) // no stale pointers keep incidents from the collector
	clear(c.seen)
	c.touched = c.touched[:0]
	c.state.touchedList, c.state.touchedBy = c.touched, c.seen
}

// advance fires every timer due at or before now, each at its own time,
// alerts' expiries among them.
func (s *State) advance(c *change, now time.Time) {
	for {
		var next *timer
		if len(s.timers.items) > 0 && !s.timers.items[0].at.After(now) {
			next = s.timers.items[0]
		}
		if s.expiries.first(next) && !s.expiries.items[0].Signal.EndsAt.After(now) {
			at := s.expiries.items[0].Signal.EndsAt
			s.expireAlert(c, s.expiries.pop(), at)
			c.finish(at)
			continue
		}
		if next == nil {
			return
		}
		t, _ := s.timers.popDue(now)
		switch t.kind {
		case timerQuietEnd:
			if inc := s.incidents[t.id]; inc != nil && inc.open() && inc.firing == 0 {
				s.quietEnded(c, inc, t.at)
			}
		case timerEvict:
			if inc := s.incidents[t.id]; inc != nil && !inc.open() {
				s.evict(inc, t.at)
			}
		case timerRecheck:
			if inc := s.incidents[t.id]; inc != nil && inc.open() {
				inc.Recheck = time.Time{}
				s.evaluate(c, inc, t.at)
				s.escalate(c, inc, t.at)
				s.armQuiet(inc, t.at) // a new severity's policy may resolve it sooner, later or never
			}
		case timerHeartbeat:
			s.heartbeatMissed(c, t.id, t.at)
		case timerReportText:
			s.forgetText(t.id)
		case timerPoolExpiry:
			s.poolExpired(t.id, t.at)
		case timerEscalate:
			if inc := s.incidents[t.id]; inc != nil && inc.open() {
				s.escalationDue(c, inc, t.at)
			}
		case timerSilence:
			s.silenceDue(c, t.id, t.at)
		case timerUpdate:
			s.publishDue(c, t.id, t.at)
		case timerMaintenance:
			s.maintenanceDue(t.id, t.at)
		case timerRole:
			s.roleReminderDue(c, t.id, t.at)
		case timerChat:
			s.chatArchiveDue(c, t.id)
		}
		c.finish(t.at)
	}
}

func (s *State) expireAlert(c *change, a *Alert, at time.Time) {
	if !a.Firing || a.Signal.EndsAt.After(at) {
		return
	}
	inc := s.incidents[a.Incident]
	if inc == nil || !inc.open() {
		s.setAlertFiring(a, false)
		return
	}
	s.setFiring(c, inc, a, false, at, "expired (endsAt passed without a refresh)")
}

func (s *State) applySignals(c *change, sigs []signal.Signal, keys []signalKey) {
	for i := range sigs {
		var k signalKey
		if keys != nil {
			k = keys[i]
		} else {
			k = keyOf(&sigs[i])
		}
		if s.applySignal(c, &sigs[i], k) {
			c.res.Accepted++
		} else {
			c.res.Duplicates++
		}
	}
}

// applySignal records one signal and reports whether it changed anything.
func (s *State) applySignal(c *change, sig *signal.Signal, k signalKey) bool {
	now := s.now
	id, h := k.id, k.hash
	ahead := k.ahead(s.rules) // until sig is replaced below
	a := s.alerts[id]
	switch {
	case rules.IsReport(sig):
		return s.applyReport(c, sig, a, h)
	case sig.Ack:
		return s.applyEventAck(c, sig, a)
	case sig.Kind == signal.KindHeartbeat:
		sig, ahead = s.beat(sig), false
	}
	if a != nil && sig.Status == signal.StatusResolved && sig.Labels.Len() < a.Signal.Labels.Len() {
		sig, ahead = keepLabels(sig, a), false // an event API's resolve names its alert by key alone
	}
	firing := sig.Status == signal.StatusFiring && (sig.EndsAt.IsZero() || sig.EndsAt.After(now))
	// A firing alert whose incident was resolved (by a human, or before the
	// alert's end arrived) fires into an open incident at once, re-sends
	// included: a resolved incident never swallows a firing signal.
	orphan := a != nil && a.Firing && firing && !s.inOpenIncident(a)
	if a != nil && (a.Hash == h || staleFiring(a, sig)) && !orphan {
		a.LastSeen = stampOf(now)
		return false
	}
	if a == nil && !firing {
		return true // the end of something never seen: nothing to record
	}
	newOccurrence := a == nil || !a.Firing || !a.Signal.StartsAt.Equal(sig.StartsAt) || orphan
	if a != nil && a.Firing && a.Signal.Source != sig.Source {
		s.held.move(a.Signal.Source, sig.Source) // admission counts follow the latest source
	}
	if a == nil {
		hits := k.hits
		if !ahead {
			hits = s.rules.MatchSignal(sig)
		}
		a = &Alert{FirstSeen: stampOf(now), hits: s.sharedHits.share(hits)}
		s.alerts[id] = a
	}
	s.store(a, sig, id)
	a.Hash, a.LastSeen = h, stampOf(now)
	a.Signal.Annotations = s.shared.share(sig.Annotations)
	expiry := time.Time{}
	if firing && !sig.EndsAt.IsZero() {
		expiry = sig.EndsAt
	}
	s.expiries.set(a, expiry)

	inc := s.incidents[a.Incident]
	switch {
	case inc != nil && inc.open():
		s.setFiring(c, inc, a, firing, now, "")
	case firing && newOccurrence && s.reopen(c, inc, a, now):
		s.setFiring(c, inc, a, true, now, "")
	case firing && newOccurrence:
		s.setAlertFiring(a, false)
		cls := k.cls
		if !ahead {
			cls = s.rules.Classify(&a.Signal)
		}
		s.attach(c, a, id, cls, now)
		if inc != nil && inc.Key != a.Incident {
			c.event(inc, Event{At: now, Seq: c.seq, Kind: EventFollowedUp,
				Message: fmt.Sprintf("%s fired again after this incident was resolved: it is in %s now", describe(&a.Signal), a.Incident)})
		}
	default:
		s.setAlertFiring(a, firing)
	}
	return true
}

// store makes sig, of the alert whose ID is id, a's latest delivery. a's
// fingerprint stays the tail of the ID string the alerts map first stored
// it under, and its link is one alerts with the same link share: neither
// costs a string of its own.
func (s *State) store(a *Alert, sig *signal.Signal, id string) {
	fp, link := a.Signal.Fingerprint, a.Signal.Link
	if fp == "" {
		fp = id[len(id)-len(sig.Fingerprint):]
	}
	if link != sig.Link {
		link = s.links.share(sig.Link)
	}
	a.Signal = *sig
	a.Signal.Fingerprint, a.Signal.Link = fp, link
}

// staleFiring reports a late copy of a firing occurrence that has already
// been explicitly resolved; applying it would re-open what is over.
func staleFiring(a *Alert, sig *signal.Signal) bool {
	return a.Signal.Status == signal.StatusResolved && sig.Status == signal.StatusFiring &&
		a.Signal.StartsAt.Equal(sig.StartsAt)
}

// attach puts a newly firing alert, whose ID is id and class cls, into the
// open incident it correlates with, or into a new one. The incident lists
// the very string the alerts map is keyed by, not a copy.
func (s *State) attach(c *change, a *Alert, id string, cls rules.Class, now time.Time) {
	inc := s.openByKey[cls.Key]
	if inc == nil {
		inc = s.correlateByDependency(c, cls, &a.Signal, now)
	}
	if inc == nil {
		inc = s.openIncident(c, cls, &a.Signal, now)
	}
	a.Incident, a.Joined = inc.Key, stampOf(now)
	inc.Alerts = appendHeld(inc.Alerts, id)
	if st := a.Signal.StartsAt; !st.IsZero() && st.Before(inc.StartedAt) {
		inc.StartedAt = st
	}
	s.setFiring(c, inc, a, true, now, "")
}

// correlateByDependency finds an open incident on a service that the signal's
// service depends on, or that depends on it, active within the window.
// A quiet incident (all its alerts resolved, waiting out its quiet period)
// takes back only re-fires of its own group, never another service's alert.
func (s *State) correlateByDependency(c *change, cls rules.Class, sig *signal.Signal, now time.Time) *Incident {
	if cls.Service == nil {
		return nil
	}
	name := cls.Service.Name
	corr := cls.Correlation
	try := func(other string, upstream bool) *Incident {
		inc := s.openBySvc[other]
		if inc == nil || inc.firing == 0 || now.Sub(inc.LastSignalAt) > corr.Window ||
			(corr.MaxServices > 0 && len(inc.Services) >= corr.MaxServices) {
			return nil
		}
		var msg string
		if upstream {
			msg = fmt.Sprintf("%s joined: it depends on %s, which this incident is about", name, other)
			if inc.Cause == "" {
				inc.Cause = other
			}
		} else {
			inc.Cause, inc.Title = name, title(sig)
			msg = fmt.Sprintf("%s joined: %s depends on it, so it is the likely cause; the title follows it: %q", name, other, inc.Title)
		}
		s.absorb(inc, cls)
		c.event(inc, Event{At: now, Seq: c.seq, Kind: EventCorrelated, Message: msg})
		c.touch(inc)
		return inc
	}
	for _, up := range s.rules.Upstreams(name) {
		if inc := try(up, true); inc != nil {
			return inc
		}
	}
	for _, down := range s.dependents[name] {
		if inc := try(down, false); inc != nil {
			return inc
		}
	}
	return nil
}

// absorb makes inc the open incident for cls's key and service.
func (s *State) absorb(inc *Incident, cls rules.Class) {
	if !slices.Contains(inc.GroupKeys, cls.Key) {
		inc.GroupKeys = append(inc.GroupKeys, cls.Key)
	}
	s.openByKey[cls.Key] = inc
	if cls.Service != nil {
		if !inc.hasService(cls.Service.Name) {
			inc.Services = append(inc.Services, cls.Service.Name)
		}
		if cur := s.openBySvc[cls.Service.Name]; cur == nil || cur.Number < inc.Number {
			s.openBySvc[cls.Service.Name] = inc
		}
	}
}

func (s *State) openIncident(c *change, cls rules.Class, sig *signal.Signal, now time.Time) *Incident {
	c.res.Opened++
	s.openCount++
	n := s.nextInc
	s.nextInc++
	inc := &Incident{
		Key:         fmt.Sprintf("INC-%d", n),
		Number:      n,
		Title:       title(sig),
		Service:     serviceName(cls, sig),
		Status:      StatusTriggered,
		OpenedAt:    now,
		StartedAt:   now,
		Correlation: cls.Correlation,
	}
	s.absorb(inc, cls)
	inc.derive(s.rules)
	c.event(inc, Event{At: now, Seq: c.seq, Kind: EventOpened,
		Message: fmt.Sprintf("opened for %s by %s", cls.Key, describe(sig))})
	s.incidents[inc.Key] = inc
	s.order = append(s.order, inc)
	return inc
}

// setFiring moves an attached alert between firing and resolved.
func (s *State) setFiring(c *change, inc *Incident, a *Alert, firing bool, at time.Time, why string) {
	c.touch(inc)
	inc.LastSignalAt = at
	if a.Firing == firing {
		return
	}
	s.setAlertFiring(a, firing)
	if firing {
		inc.addAlert(a, 1)
		s.countSignal(&inc.tally, &a.Signal, at)
		inc.customer(a.Signal.Customer())
		inc.addAlertEvent(Event{At: at, Seq: c.seq, Kind: EventAlertFiring},
			func() string { return describe(&a.Signal) + " firing" })
		return
	}
	inc.addAlert(a, -1)
	if why == "" {
		why = "resolved"
	}
	inc.addAlertEvent(Event{At: at, Seq: c.seq, Kind: EventAlertResolved},
		func() string { return describe(&a.Signal) + " " + why })
}

// countSignal adds a newly firing signal to the incident's counters: alerts,
// tickets, or mentions and their reach.
func (s *State) countSignal(t *tally, sig *signal.Signal, at time.Time) {
	keep := s.keepCounts()
	for _, d := range tallied(sig) {
		t.count(d.counter, d.n, at, keep)
	}
}

// delta is what one signal adds to one counter.
type delta struct {
	counter rules.Counter
	n       int64
}

// tallied is what a signal adds to the tallies: an alert, a ticket, or a
// mention and its reach.
func tallied(sig *signal.Signal) []delta {
	switch sig.Kind {
	case signal.KindTicket:
		return []delta{{rules.CounterTickets, 1}}
	case signal.KindMention:
		return []delta{{rules.CounterMentions, 1}, {rules.CounterReach, sig.Reach()}}
	default:
		return []delta{{rules.CounterAlerts, 1}}
	}
}

// keepCounts is how long counter buckets are kept: the longest window any
// rule counts over, and at least an hour for the API.
func (s *State) keepCounts() time.Duration {
	return max(s.rules.MaxWindow(), time.Hour)
}

// settle runs after an entry touched an open incident: quiet period,
// severity and paging.
func (s *State) settle(c *change, inc *Incident, now time.Time) {
	seq := c.seq
	switch {
	case inc.firing == 0 && inc.QuietSince.IsZero():
		inc.QuietSince = now
		c.event(inc, Event{At: now, Seq: seq, Kind: EventQuiet, Message: s.quietMessage(inc)})
	case inc.firing > 0 && !inc.QuietSince.IsZero():
		inc.QuietSince = time.Time{}
	}
	s.evaluate(c, inc, now)
	s.escalate(c, inc, now)
	s.armQuiet(inc, now) // after evaluate: the severity's policy decides when
}

// evaluate applies the severity rules to an open incident. Severity rises by
// itself, falls only if the rules allow it, and never overrides a human.
func (s *State) evaluate(c *change, inc *Incident, now time.Time) {
	seq := c.seq
	if inc.Override != nil {
		return
	}
	f := inc.facts(now)
	v := s.rules.Evaluate(&f)
	inc.Recheck = v.Recheck
	s.timers.set(timerRecheck, inc.Key, v.Recheck)
	old := inc.Severity
	switch {
	case old == 0:
	case v.Level == old, v.Level > old && !s.rules.AllowDowngrade():
		return
	}
	inc.Severity, inc.Rule, inc.Why = v.Level, v.Rule, v.Explanation
	msg := v.Explanation
	if old != 0 {
		msg = fmt.Sprintf("%s -> %s: %s", old, v.Level, v.Explanation)
	}
	c.event(inc, Event{At: now, Seq: seq, Kind: EventSeverity, Message: msg})
}

func (s *State) resolve(c *change, inc *Incident, at time.Time, by, why string) {
	c.res.Resolved = append(c.res.Resolved, at.Sub(inc.OpenedAt))
	s.openCount--
	s.stopEscalation(c, inc, "resolved")
	inc.Status = StatusResolved
	inc.ResolvedAt, inc.ResolvedBy = at, by
	c.event(inc, Event{At: at, Seq: c.seq, Kind: EventResolved, Message: why, By: by})
	for _, k := range inc.GroupKeys {
		if s.openByKey[k] == inc {
			delete(s.openByKey, k)
		}
	}
	for _, name := range inc.Services {
		if s.openBySvc[name] == inc {
			s.reindexService(name)
		}
	}
	s.timers.set(timerQuietEnd, inc.Key, time.Time{})
	s.timers.set(timerRecheck, inc.Key, time.Time{})
	s.timers.set(timerEvict, inc.Key, at.Add(Retention))
}

// reindexService points openBySvc[name] at the newest open incident that
// holds the service, or at nothing: the same answer rebuild gives.
func (s *State) reindexService(name string) {
	delete(s.openBySvc, name)
	for i := len(s.order) - 1; i >= 0; i-- {
		if inc := s.order[i]; inc.open() && inc.hasService(name) {
			s.openBySvc[name] = inc
			return
		}
	}
}

// hashSignal hashes everything of a signal that a re-delivery could change:
// FNV-1a over each string and a zero byte, and over each number's eight
// little-endian bytes, as hash/fnv would give it, without its allocations.
// Annotations go in as their stringsHash and their count.
func hashSignal(sig *signal.Signal) uint64 {
	h := uint64(fnvOffset)
	str := func(s string) { h = fnvString(h, s) * fnvPrime } // then the zero byte
	num := func(n int64) {
		for i := range 8 {
			h = (h ^ uint64(n)>>(8*i)&0xff) * fnvPrime
		}
	}
	str(string(sig.Source))
	str(string(sig.Status))
	num(sig.StartsAt.UnixNano())
	num(sig.EndsAt.UnixNano())
	str(sig.Text())
	str(sig.Customer())
	str(sig.Link)
	num(sig.Reach())
	if sig.RepostOf() != "" { // only when set, so that other signals hash as before
		str("repost:" + sig.RepostOf())
	}
	if sig.Ack {
		str("ack")
	}
	num(int64(stringsHash(sig.Annotations)))
	num(int64(sig.Annotations.Len()))
	return h
}

func serviceName(cls rules.Class, sig *signal.Signal) string {
	if cls.Service != nil {
		return cls.Service.Name
	}
	return sig.Labels.Get("service")
}

func title(sig *signal.Signal) string {
	if t := sig.Annotations.Get("summary"); t != "" {
		return truncate(t, 200)
	}
	return truncate(describe(sig), 200)
}

// describe names a signal briefly: alertname{other labels}.
func describe(sig *signal.Signal) string {
	b := make([]byte, 0, 128)
	b = append(b, sig.Labels.Get("alertname")...)
	b = append(b, '{')
	first := true
	for k, v := range sig.Labels.All() {
		if k == "alertname" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, k...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, v) // as %q quotes it
	}
	b = append(b, '}')
	return truncate(string(b), 300)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// inOpenIncident reports whether a belongs to an incident that is open.
func (s *State) inOpenIncident(a *Alert) bool {
	inc := s.incidents[a.Incident]
	return inc != nil && inc.open()
}

// event adds e to inc's timeline and, unless it is one alert's firing or
// resolution, to the entry's result, for the log line each incident event
// gets.
func (c *change) event(inc *Incident, e Event) {
	inc.addEvent(e)
	c.state.eventUpdates(c, inc, e)
	if e.Kind != EventAlertFiring && e.Kind != EventAlertResolved && e.Kind != EventChat {
		c.chatDirty(inc)
	}
	if e.Kind != EventAlertFiring && e.Kind != EventAlertResolved {
		c.res.Events = append(c.res.Events, IncidentEvent{Incident: inc.Key, Severity: inc.Severity.String(), Event: e})
	}
}

// reopen reopens inc, resolved not longer ago than its reopen_within, for
// its alert a that fires again; it reports whether it did. It does not
// when another open incident has taken over inc's group meanwhile.
func (s *State) reopen(c *change, inc *Incident, a *Alert, now time.Time) bool {
	if inc == nil || inc.open() || inc.Correlation.ReopenWithin <= 0 || now.Sub(inc.ResolvedAt) > inc.Correlation.ReopenWithin {
		return false
	}
	for _, k := range inc.GroupKeys {
		if s.openByKey[k] != nil {
			return false
		}
	}
	s.setAlertFiring(a, false)
	inc.Status, inc.ResolvedAt, inc.ResolvedBy, inc.QuietSince = StatusTriggered, time.Time{}, "", time.Time{}
	inc.AcknowledgedAt, inc.AcknowledgedBy = time.Time{}, ""
	s.openCount++
	s.timers.set(timerEvict, inc.Key, time.Time{})
	for _, k := range inc.GroupKeys {
		s.openByKey[k] = inc
	}
	for _, name := range inc.Services {
		if cur := s.openBySvc[name]; cur == nil || cur.Number < inc.Number {
			s.openBySvc[name] = inc
		}
	}
	inc.derive(s.rules)
	for _, id := range inc.Alerts {
		if b := s.alerts[id]; b != nil && b.Incident == inc.Key && b.Firing {
			inc.addAlert(b, 1)
		}
	}
	c.event(inc, Event{At: now, Seq: c.seq, Kind: EventReopened,
		Message: fmt.Sprintf("reopened: %s fired again within %s of the resolution (reopen_within)", describe(&a.Signal), inc.Correlation.ReopenWithin)})
	if e := inc.Escalation; e != nil {
		// Pages again from the first step, as a new escalation, with new
		// page IDs: the cycle tells them from the ones before.
		*e = Escalation{Policy: e.Policy, CurStep: -1, Cycle: e.Cycle + 1}
	}
	return true
}
