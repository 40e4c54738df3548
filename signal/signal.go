// Package signal defines Signal, the one shape every source's payload is
// turned into before it is journaled and triaged.
package signal

import (
	"time"

	"github.com/prometheus/common/model"
)

// Kind says what sort of thing a signal reports.
type Kind string

// The kinds of signal Klaxon takes in.
const (
	KindAlert     Kind = "alert"
	KindTicket    Kind = "ticket"
	KindMention   Kind = "mention"
	KindHeartbeat Kind = "heartbeat"
)

// Status is whether the condition a signal reports is ongoing.
type Status string

// The statuses of a signal.
const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// Source names the integration a signal came through.
type Source string

// The sources Klaxon takes in today.
const (
	SourceAlertmanager Source = "alertmanager"
	SourcePrometheus   Source = "prometheus"

	SourceTicketsGeneric  Source = "tickets-generic"
	SourceZendesk         Source = "zendesk"
	SourceJSM             Source = "jsm"
	SourceMentionsGeneric Source = "mentions-generic"
	SourceMastodon        Source = "mastodon"
	SourceX               Source = "x"
	SourceHeartbeat       Source = "heartbeat"
	SourcePagerDuty       Source = "pagerduty-events"
)

// Signal is one report from the outside world: an alert, a ticket, a mention
// or a heartbeat, normalised. Signals are immutable once journaled.
//
// What a ticket or a mention says beyond an alert is in its Report, which
// alerts, most signals by far, do not carry: read it through the methods
// Text, Customer, Reach and RepostOf, which an alert answers with zero
// values, and set it with SetReport.
type Signal struct {
	Source      Source  `json:"source"`
	Kind        Kind    `json:"kind"`
	Fingerprint string  `json:"fingerprint"`
	Status      Status  `json:"status"`
	Labels      Strings `json:"labels"`
	Annotations Strings `json:"annotations,omitzero"`
	// Report is nil on a signal that reports nothing beyond its labels;
	// its fields are the signal's own in JSON.
	*Report
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt,omitzero"`
	Link     string    `json:"link,omitempty"`
	// Ack marks a PagerDuty acknowledge event: not a new report but a
	// request to acknowledge whatever incident holds the signal with this
	// ID. Status stays firing.
	Ack bool `json:"ack,omitempty"`
}

// Report is what a ticket or a mention carries beyond an alert's fields.
//
// Text is a ticket's body or a mention's text, for keyword matching; it is
// written by customers and the public and may hold personal data, so it
// never goes into labels, logs or external pages. A Report is shared by
// the copies of its signal: replace it, never change it.
type Report struct {
	Text     string `json:"text,omitempty"`
	Customer string `json:"customer,omitempty"`
	Reach    int64  `json:"reach,omitempty"`
	// RepostOf, on a mention that is a repost (a Mastodon boost, an X
	// retweet), is the Fingerprint of the original post's mention: the
	// repost adds its Reach to that mention rather than being a new report.
	RepostOf string `json:"repostOf,omitempty"`
}

// Reported returns the signal's Report, the zero Report when it has none.
func (s *Signal) Reported() Report {
	if s.Report == nil {
		return Report{}
	}
	return *s.Report
}

// SetReport makes r the signal's Report; the zero Report removes it.
func (s *Signal) SetReport(r Report) {
	if r == (Report{}) {
		s.Report = nil
		return
	}
	s.Report = &r
}

// ClearText replaces the signal's Report with a copy without its Text.
func (s *Signal) ClearText() {
	r := s.Reported()
	r.Text = ""
	s.SetReport(r)
}

// Text is the signal's Report.Text, "" when it has no Report.
func (s *Signal) Text() string { return s.Reported().Text }

// Customer is the signal's Report.Customer, "" when it has no Report.
func (s *Signal) Customer() string { return s.Reported().Customer }

// Reach is the signal's Report.Reach, 0 when it has no Report.
func (s *Signal) Reach() int64 { return s.Reported().Reach }

// RepostOf is the signal's Report.RepostOf, "" when it has no Report.
func (s *Signal) RepostOf() string { return s.Reported().RepostOf }

// ID is the signal's identity across deliveries: repeated deliveries of the
// same alert (same label set) share it whichever source they came through.
func (s *Signal) ID() string { return string(s.Kind) + "/" + s.Fingerprint }

// Fingerprint is a label set's identity exactly as Alertmanager computes it
// (model.LabelSet.Fingerprint), as 16 hex digits.
func Fingerprint(labels Strings) string {
	ls := make(model.LabelSet, labels.Len())
	for k, v := range labels.All() {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}
