package rules

import (
	"time"

	"github.com/klaxonhq/klaxon/rules/calendar"
)

// Page says when a level's incidents page the on-call responder.
type Page string

// The paging modes.
const (
	PageImmediately   Page = "immediately"    // page at once, day or night
	PageBusinessHours Page = "business_hours" // wait until the policy's calendar is open
)

// StatusPage says whether a level's incidents reach the status page.
type StatusPage string

// The status-page modes.
const (
	StatusPageAuto     StatusPage = "auto"     // publish without asking
	StatusPageApproval StatusPage = "approval" // draft, publish once a human approves
	StatusPageOff      StatusPage = "off"      // never publish
)

// Policy is what happens to incidents of one severity level.
type Policy struct {
	Level      Level
	Page       Page
	Calendar   *Calendar // set when Page is PageBusinessHours
	StatusPage StatusPage
	// StatusPageDelay holds an automatic external update back this long,
	// unless withdrawn, before it is published (auto only).
	StatusPageDelay time.Duration
	ChatRoom        bool // open a chat room for the incident
	// ManualResolve keeps an incident whose alerts have all resolved in
	// monitoring until a human resolves it (auto_resolve: false).
	ManualResolve bool
	// ResolveAfter, if set, is how long an incident stays quiet (every
	// alert resolved) before it resolves by itself, in place of the
	// correlation's quiet_period.
	ResolveAfter time.Duration
	// FinalMessage names the receivers (defined under receivers: in the
	// on-call files) that get the final internal message on resolution.
	FinalMessage []string
}

// defaultPolicy applies to levels the rule files give no policy: page at
// once, open a room, and let a human approve what the status page says.
func defaultPolicy(l Level) Policy {
	return Policy{Level: l, Page: PageImmediately, StatusPage: StatusPageApproval, ChatRoom: true}
}

// Policy returns the policy for level l (the default policy for a level the
// set does not define).
func (s *Set) Policy(l Level) Policy {
	if l < 1 || int(l) > len(s.policies) {
		return defaultPolicy(l)
	}
	return s.policies[l-1]
}

// QuietFor is how long an incident at this level stays quiet before it
// resolves by itself: ResolveAfter, or the correlation's quiet period.
func (p Policy) QuietFor(quietPeriod time.Duration) time.Duration {
	if p.ResolveAfter > 0 {
		return p.ResolveAfter
	}
	return quietPeriod
}

// PageAt is when an incident that wants a page at t should page: t itself, or
// the next time the calendar is open.
func (p Policy) PageAt(t time.Time) time.Time {
	if p.Page != PageBusinessHours || p.Calendar == nil {
		return t
	}
	return p.Calendar.NextOpen(t)
}

// Calendar is a weekly schedule of business hours in one time zone, with
// holidays (package calendar).
type Calendar = calendar.Calendar
