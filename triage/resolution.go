package triage

import (
	"fmt"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/rules"
)

// Resolution: an incident resolves by itself once it has been quiet (no
// alert firing) for its quiet period, unless its severity's policy leaves
// that to a human; on resolving, the final internal message goes to the
// receivers the policy names, as intents.
const (
	// IntentFinal sends the final internal message of a resolved incident
	// to one receiver of the on-call files' receivers section.
	IntentFinal IntentKind = "final"
	// EventFinal records a final message delivered, failed or not sent.
	EventFinal EventKind = "final_message"
)

// Figures are an incident's key figures, computed from the state alone:
// what its final message tells, and what the incident view shows.
type Figures struct {
	Key        string    `json:"key"`
	Title      string    `json:"title"`
	Service    string    `json:"service,omitempty"`
	Services   []string  `json:"services,omitempty"`
	Components []string  `json:"components,omitempty"` // the status-page components of its catalogue services
	Severity   string    `json:"severity"`
	StartedAt  time.Time `json:"startedAt"`
	ResolvedAt time.Time `json:"resolvedAt,omitzero"`
	ResolvedBy string    `json:"resolvedBy,omitempty"`
	// DurationSeconds runs from its earliest signal's start to its
	// resolution (to the state's time while it is open).
	DurationSeconds int64 `json:"durationSeconds"`
	// AcknowledgedBy is who acknowledged it ("" if nobody did), and
	// TimeToAckSeconds how long after it opened.
	AcknowledgedBy   string `json:"acknowledgedBy,omitempty"`
	TimeToAckSeconds int64  `json:"timeToAcknowledgeSeconds,omitempty"`
	PagesSent        int    `json:"pagesSent"` // pages delivered
	Alerts           int64  `json:"alerts"`
	Tickets          int64  `json:"tickets"`
	Mentions         int64  `json:"mentions"`
	Reach            int64  `json:"reach"`
	Customers        int    `json:"customers"` // distinct customers its signals named
	// Roles lists each role it had and who held it, in order of first
	// assignment.
	Roles []RoleHolders `json:"roles,omitempty"`
}

// RoleHolders is a role and everyone who held it, in order.
type RoleHolders struct {
	Role   string   `json:"role"` // the role's name, as the on-call files give it
	People []string `json:"people"`
}

// figures computes inc's key figures.
func (s *State) figures(inc *Incident) Figures {
	end := s.now
	if !inc.open() {
		end = inc.ResolvedAt
	}
	f := Figures{Key: inc.Key, Title: inc.Title, Service: inc.Service, Services: slices.Clone(inc.Services),
		Severity: inc.Severity.String(), StartedAt: inc.StartedAt, ResolvedAt: inc.ResolvedAt, ResolvedBy: inc.ResolvedBy,
		DurationSeconds: seconds(end.Sub(inc.StartedAt)), AcknowledgedBy: inc.AcknowledgedBy, PagesSent: inc.PagesSent,
		Alerts:    inc.Totals[counterIndex[rules.CounterAlerts]],
		Tickets:   inc.Totals[counterIndex[rules.CounterTickets]],
		Mentions:  inc.Totals[counterIndex[rules.CounterMentions]],
		Reach:     inc.Totals[counterIndex[rules.CounterReach]],
		Customers: len(inc.Customers), Roles: s.roleHolders(inc)}
	if !inc.AcknowledgedAt.IsZero() {
		f.TimeToAckSeconds = seconds(inc.AcknowledgedAt.Sub(inc.OpenedAt))
	}
	for _, name := range inc.Services {
		svc := s.rules.Service(name)
		if svc == nil {
			continue
		}
		c := svc.Component
		if c == "" {
			c = svc.DisplayName
		}
		if c != "" && !slices.Contains(f.Components, c) {
			f.Components = append(f.Components, c)
		}
	}
	return f
}

func seconds(d time.Duration) int64 { return int64(max(d, 0) / time.Second) }

// roleHolders lists inc's roles and their holders from its role history.
func (s *State) roleHolders(inc *Incident) []RoleHolders {
	var out []RoleHolders
	for _, t := range inc.RoleHistory {
		name := t.Role
		if s.oncall != nil && s.oncall.Roles[t.Role] != nil {
			name = s.oncall.Roles[t.Role].Name
		}
		i := slices.IndexFunc(out, func(r RoleHolders) bool { return r.Role == name })
		if i < 0 {
			out = append(out, RoleHolders{Role: name})
			i = len(out) - 1
		}
		if !slices.Contains(out[i].People, t.Person) {
			out[i].People = append(out[i].People, t.Person)
		}
	}
	return out
}

// quietEnd is when inc, quiet since QuietSince, resolves by itself: after
// its severity policy's resolve_after or its correlation's quiet period;
// zero when the policy leaves the resolution to a human.
func (s *State) quietEnd(inc *Incident) time.Time {
	p := s.rules.Policy(inc.Severity)
	if p.ManualResolve {
		return time.Time{}
	}
	return inc.QuietSince.Add(p.QuietFor(inc.Correlation.QuietPeriod))
}

// armQuiet sets inc's quiet-end timer from its quiet start and its
// policy, not before now (a policy that shortened the wait resolves it at
// once, never in the past), or clears it when inc is not quiet or waits
// for a human.
func (s *State) armQuiet(inc *Incident, now time.Time) {
	var end time.Time
	if inc.open() && !inc.QuietSince.IsZero() {
		if end = s.quietEnd(inc); !end.IsZero() && end.Before(now) {
			end = now
		}
	}
	s.timers.set(timerQuietEnd, inc.Key, end)
}

// quietMessage is the timeline's note that inc's last alert resolved.
func (s *State) quietMessage(inc *Incident) string {
	if end := s.quietEnd(inc); !end.IsZero() {
		return fmt.Sprintf("all alerts resolved; resolves at %s unless one fires again", end.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("all alerts resolved; %s incidents stay open until a human resolves them (policy auto_resolve: false)", inc.Severity)
}

// quietEnded resolves inc when its quiet period is over and its policy
// lets it resolve by itself; a policy changed meanwhile moves the time.
func (s *State) quietEnded(c *change, inc *Incident, at time.Time) {
	end := s.quietEnd(inc)
	switch {
	case end.IsZero():
		return
	case end.After(at):
		s.timers.set(timerQuietEnd, inc.Key, end)
		return
	}
	quiet := s.rules.Policy(inc.Severity).QuietFor(inc.Correlation.QuietPeriod)
	s.resolve(c, inc, at, "", fmt.Sprintf("resolved automatically: all alerts resolved and quiet for %s", quiet))
	s.finalMessage(c, inc, at)
}

// finalMessage decides the final internal message of inc, just resolved:
// one intent per receiver its severity's policy names, carrying the
// figures. Its ID names the resolution (an incident reopened and resolved
// again tells its end again) and the receiver.
func (s *State) finalMessage(c *change, inc *Incident, at time.Time) {
	names := s.rules.Policy(inc.Severity).FinalMessage
	if len(names) == 0 {
		return
	}
	n := 0
	for _, e := range inc.Timeline {
		if e.Kind == EventResolved {
			n++
		}
	}
	f := s.figures(inc)
	for _, name := range names {
		if s.oncall == nil || s.oncall.Named[name] == nil {
			c.event(inc, Event{At: at, Seq: c.seq, Kind: EventFinal,
				Message: fmt.Sprintf("final message not sent to %q: the on-call files define no such receiver", name)})
			continue
		}
		msg := Message{Key: inc.Key, Title: inc.Title, Severity: inc.Severity.String(), Status: inc.Status,
			Service: inc.Service, Explanation: inc.Why, OpenedAt: inc.OpenedAt, Final: &f}
		s.addIntent(c, Intent{ID: fmt.Sprintf("%s/final/%d/%s", inc.Key, n, name), Kind: IntentFinal, Incident: inc.Key,
			Receiver: oncall.NamedKey(name), Step: -1, Round: -1, Due: at, Message: msg})
	}
}

// deliveryMessage is the timeline's note of an intent's delivery.
func deliveryMessage(in *Intent, ok bool) (EventKind, string) {
	switch {
	case in.Kind == IntentFinal && ok:
		return EventFinal, "final message sent via " + in.Receiver
	case in.Kind == IntentFinal:
		return EventFinal, fmt.Sprintf("final message via %s failed after %d attempts: %s", in.Receiver, in.Attempts, in.Error)
	case ok:
		return EventPaged, fmt.Sprintf("paged %s via %s", who(in), in.Receiver)
	}
	return EventPageFailed, fmt.Sprintf("paging %s via %s failed after %d attempts: %s", who(in), in.Receiver, in.Attempts, in.Error)
}
