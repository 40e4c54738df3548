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
// Text is a ticket's body or a mention's text, for keyword matching; it is
// written by customers and the public and may hold personal data, so it
// never goes into labels, logs or external pages.
type Signal struct {
	Source      Source    `json:"source"`
	Kind        Kind      `json:"kind"`
	Fingerprint string    `json:"fingerprint"`
	Status      Status    `json:"status"`
	Labels      Strings   `json:"labels"`
	Annotations Strings   `json:"annotations,omitzero"`
	Text        string    `json:"text,omitempty"`
	StartsAt    time.Time `json:"startsAt"`
	EndsAt      time.Time `json:"endsAt,omitzero"`
	Customer    string    `json:"customer,omitempty"`
	Link        string    `json:"link,omitempty"`
	Reach       int64     `json:"reach,omitempty"`
	// RepostOf, on a mention that is a repost (a Mastodon boost, an X
	// retweet), is the Fingerprint of the original post's mention: the
	// repost adds its Reach to that mention rather than being a new report.
	RepostOf string `json:"repostOf,omitempty"`
	// Ack marks a PagerDuty acknowledge event: not a new report but a
	// request to acknowledge whatever incident holds the signal with this
	// ID. Status stays firing.
	Ack bool `json:"ack,omitempty"`
}

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
