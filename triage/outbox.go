package triage

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// IntentKind names what an intent does outside Klaxon.
type IntentKind string

// The kinds of intent.
const (
	IntentPage IntentKind = "page" // notify a person (or a policy's fallback receiver) of an incident
	// IntentRole (roles.go) and IntentFinal (resolution.go) are the others.
)

// Intent is an effect that Apply decided and a worker outside Apply carries
// out: a page, later a chat message or a status-page publish. Its ID is a
// pure function of the decision, so every replica and every replay decides
// the same intents, and receivers use it as their deduplication key.
// Intents are part of the state until a delivery settles them.
type Intent struct {
	ID       string      `json:"id"`
	Kind     IntentKind  `json:"kind"`
	Incident string      `json:"incident"`
	Person   string      `json:"person,omitempty"` // who is paged; "" for a fallback receiver
	Receiver string      `json:"receiver"`         // the contact method or receiver to deliver through
	Step     int         `json:"step"`             // escalation step, from 0
	Round    int         `json:"round"`            // repetition of the policy, from 0
	Due      time.Time   `json:"due"`              // when it is to go out (again, after a failure)
	Attempts int         `json:"attempts"`         // failed deliveries so far
	Error    string      `json:"error,omitempty"`  // why the last attempt failed
	Message  Message     `json:"message"`
	Chat     *ChatIntent `json:"chat,omitempty"` // what a chat intent does (chat.go)
}

// Message is what a page says about its incident, fixed when it was decided.
type Message struct {
	Key         string            `json:"key"`
	Title       string            `json:"title"`
	Severity    string            `json:"severity"`
	Status      Status            `json:"status"`
	Service     string            `json:"service,omitempty"`
	Explanation string            `json:"explanation"`
	OpenedAt    time.Time         `json:"openedAt"`
	Labels      map[string]string `json:"labels,omitempty"` // routing context: team, service, policy
	// Final are the figures of a final message (IntentFinal), fixed when
	// the incident resolved.
	Final *Figures `json:"final,omitempty"`
}

// Delivery is a worker's report of one attempt at an intent: journaled, so
// that applying it settles the intent on every replica and after recovery.
// The applied deliveries are the notification log.
type Delivery struct {
	Intent  string `json:"intent"`
	Attempt int    `json:"attempt"` // the intent's Attempts+1 when it was taken
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
	Retry   bool   `json:"retry,omitempty"` // the failure may pass (timeout, 5xx): try again later
	Ref     string `json:"ref,omitempty"`   // what the delivery made, for later intents: a created chat room's channel ID
}

// Delivery retries: the first after retryBase, doubling up to retryMax, at
// most maxAttempts attempts in all.
const (
	retryBase   = 10 * time.Second
	retryMax    = 5 * time.Minute
	maxAttempts = 5
	maxError    = 500
)

// addIntent makes an intent pending, unless one with its ID was decided
// before (pending or settled): a decision is carried out once.
func (s *State) addIntent(c *change, in Intent) bool {
	if _, dup := s.intents[in.ID]; dup || s.settled[in.ID] || s.incidents[in.Incident] == nil {
		return false
	}
	s.intents[in.ID] = &in
	s.queue(&in)
	c.res.Intents++
	return true
}

// applyDelivery settles an intent or schedules its retry. A report for an
// intent already settled (a worker's report journaled twice around a crash)
// or for an earlier attempt changes nothing.
func (s *State) applyDelivery(c *change, d *Delivery) error {
	in := s.intents[d.Intent]
	if in == nil || d.Attempt != in.Attempts+1 {
		return nil
	}
	if in.Kind == IntentChat {
		return s.applyChatDelivery(c, in, d) // chat.go
	}
	inc := s.incidents[in.Incident]
	if d.OK {
		s.finishIntent(c, in, inc, true)
		return nil
	}
	in.Attempts++
	in.Error = truncate(d.Error, maxError)
	if !d.Retry || in.Attempts >= maxAttempts {
		s.finishIntent(c, in, inc, false)
		return nil
	}
	in.Due = s.now.Add(min(retryBase<<(in.Attempts-1), retryMax))
	s.dueIntents.fix(in.ID)
	return nil
}

// finishIntent ends an intent: it is never carried out again.
func (s *State) finishIntent(c *change, in *Intent, inc *Incident, ok bool) {
	delete(s.intents, in.ID)
	s.dueIntents.remove(in.ID)
	c.res.Delivered = append(c.res.Delivered, DeliveryOutcome{Intent: *in, OK: ok})
	if inc == nil {
		return
	}
	inc.Settled = append(inc.Settled, in.ID)
	s.settled[in.ID] = true
	if ok && in.Kind == IntentPage {
		inc.PagesSent++
		if inc.FirstPaged.IsZero() {
			inc.FirstPaged = s.now
			c.res.FirstPage = append(c.res.FirstPage, s.now.Sub(inc.OpenedAt))
		}
	}
	kind, msg := deliveryMessage(in, ok)
	c.event(inc, Event{At: s.now, Seq: c.seq, Kind: kind, Message: msg})
	s.escalateAfterDelivery(c, inc, in, ok)
}

// cancelIntents drops the pending intents of an incident that no longer
// wants them (acknowledged, resolved); the ones under way may still arrive.
func (s *State) cancelIntents(inc *Incident, kind IntentKind) {
	s.cancelIntentsWhere(inc, func(in *Intent) bool { return in.Kind == kind })
}

// cancelIntentsWhere drops the pending intents of an incident that match.
func (s *State) cancelIntentsWhere(inc *Incident, match func(*Intent) bool) {
	var ids []string
	for id, in := range s.intents {
		if in.Incident == inc.Key && match(in) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids) // the order they join inc.Settled in is part of the state
	for _, id := range ids {
		delete(s.intents, id)
		s.unqueue(id)
		inc.Settled = append(inc.Settled, id)
		s.settled[id] = true
	}
}

func who(in *Intent) string {
	if in.Person == "" {
		return "the fallback receiver"
	}
	return in.Person
}

// DeliveryOutcome is an intent that an entry settled, for metrics.
type DeliveryOutcome struct {
	Intent Intent
	OK     bool
}

// DueIntents returns up to limit pending intents due at or before now,
// earliest first: what the workers are to carry out.
func (s *State) DueIntents(now time.Time, limit int) []Intent {
	s.mu.RLock()
	defer s.mu.RUnlock()
	due := s.dueIntents.due(now, limit)
	out := make([]Intent, len(due))
	for i, in := range due {
		out[i] = *in
	}
	return out
}

// NextIntentDue is when the earliest pending intent is due, if any.
func (s *State) NextIntentDue() (time.Time, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dueIntents.peek()
}

// sortedIntents returns the pending intents in ID order, for snapshots.
func (s *State) sortedIntents() []*Intent {
	return slices.SortedFunc(maps.Values(s.intents), func(a, b *Intent) int { return cmp.Compare(a.ID, b.ID) })
}
