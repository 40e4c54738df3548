package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// maxDedupKey is the longest dedup_key PagerDuty accepts.
const maxDedupKey = 255

// The event actions of the PagerDuty Events API v2.
const (
	PagerDutyTrigger     = "trigger"
	PagerDutyAcknowledge = "acknowledge"
	PagerDutyResolve     = "resolve"
)

// pagerDutyBody is a PagerDuty Events API v2 event (POST /v2/enqueue).
type pagerDutyBody struct {
	RoutingKey  string          `json:"routing_key"`
	EventAction string          `json:"event_action"`
	DedupKey    string          `json:"dedup_key"`
	Payload     json.RawMessage `json:"payload"`
	Client      string          `json:"client"`
	ClientURL   string          `json:"client_url"`
	Links       []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	Images []struct {
		Src  string `json:"src"`
		Href string `json:"href"`
		Alt  string `json:"alt"`
	} `json:"images"`
}

// pagerDutyPayload is the payload of a trigger event.
type pagerDutyPayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     isoTime         `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// PagerDutyEvent is a parsed PagerDuty Events API v2 event.
type PagerDutyEvent struct {
	// RoutingKey is the integration key the sender used: the credential
	// the handler must check (in constant time) before storing anything.
	// It is a secret: never log it; it is in no label or annotation.
	RoutingKey string
	// Action is PagerDutyTrigger, PagerDutyAcknowledge or PagerDutyResolve.
	Action string
	// DedupKey is the event's dedup_key, or, for a trigger without one, a
	// key derived from its payload (so a retried trigger gets the same
	// key), to be answered to the sender.
	DedupKey string
	// Signal is the event as a signal of kind alert from
	// signal.SourcePagerDuty; see ParsePagerDutyEvent.
	Signal signal.Signal
}

// ParsePagerDutyEvent parses a PagerDuty Events API v2 body, received at
// now, as PagerDuty validates it: routing_key and event_action (trigger,
// acknowledge, resolve) are required; a trigger needs payload.summary,
// payload.source and payload.severity (critical, error, warning, info);
// acknowledge and resolve need dedup_key, and their payload is ignored.
//
// The signal's Fingerprint is identity(pagerduty-events, dedup_key), so a
// trigger, its re-triggers, its acknowledge and its resolve share one ID.
// A trigger is firing, with labels severity, source, component, group,
// class and dedup_key, the summary, client and custom_details (as compact
// JSON) as annotations, the first usable link (or client_url) as Link and
// payload.timestamp (else now) as StartsAt; links and client_url that
// are not http(s) URLs are skipped, as PagerDuty takes any text there. A resolve is resolved and an
// acknowledge is firing with Ack set; both carry only the dedup_key label,
// so triage should keep the trigger's labels and ignore an acknowledge of
// an ID it does not know.
func ParsePagerDutyEvent(body []byte, now time.Time, lim Limits) (PagerDutyEvent, error) {
	var e pagerDutyBody
	if err := decodeObject(body, &e); err != nil {
		return PagerDutyEvent{}, err
	}
	if e.RoutingKey == "" {
		return PagerDutyEvent{}, &Error{Field: "routing_key", Msg: "must not be empty"}
	}
	if len(e.DedupKey) > maxDedupKey {
		return PagerDutyEvent{}, &Error{Field: "dedup_key", Msg: fmt.Sprintf("is %d bytes, more than the limit of %d", len(e.DedupKey), maxDedupKey)}
	}
	b := newBuilder(lim, signal.SourcePagerDuty, signal.KindAlert, now)
	switch e.EventAction {
	case PagerDutyTrigger:
		if e.DedupKey == "" {
			sum := sha256.Sum256(bytes.TrimSpace(e.Payload))
			e.DedupKey = hex.EncodeToString(sum[:16])
		}
		pagerDutyTrigger(b, &e)
	case PagerDutyAcknowledge, PagerDutyResolve:
		if e.DedupKey == "" {
			return PagerDutyEvent{}, &Error{Field: "dedup_key", Msg: "is required to " + e.EventAction}
		}
		b.sig.Ack = e.EventAction == PagerDutyAcknowledge
		if e.EventAction == PagerDutyResolve {
			b.resolved()
		}
	default:
		return PagerDutyEvent{}, &Error{Field: "event_action", Msg: `must be "trigger", "acknowledge" or "resolve", got ` + quote(e.EventAction)}
	}
	b.id("dedup_key", "", e.DedupKey)
	b.label("dedup_key", "dedup_key", e.DedupKey)
	sigs, err := b.done()
	if err != nil {
		return PagerDutyEvent{}, err
	}
	return PagerDutyEvent{RoutingKey: e.RoutingKey, Action: e.EventAction, DedupKey: e.DedupKey, Signal: sigs[0]}, nil
}

// pagerDutyTrigger fills b from a trigger event's payload, links and client.
func pagerDutyTrigger(b *builder, e *pagerDutyBody) {
	if len(e.Payload) == 0 || string(e.Payload) == "null" {
		b.fail("payload", "is required to trigger")
		return
	}
	var p pagerDutyPayload
	if err := decodeObject(e.Payload, &p); err != nil {
		perr := err.(*Error)
		perr.Field = "payload" + dotted(perr.Field)
		b.err = perr
		return
	}
	if p.Summary == "" {
		b.fail("payload.summary", "must not be empty")
	}
	if p.Source == "" {
		b.fail("payload.source", "must not be empty")
	}
	switch p.Severity {
	case "critical", "error", "warning", "info":
	default:
		b.fail("payload.severity", `must be "critical", "error", "warning" or "info", got `+quote(p.Severity))
	}
	b.label("payload.severity", "severity", p.Severity)
	b.label("payload.source", "source", p.Source)
	b.label("payload.component", "component", p.Component)
	b.label("payload.group", "group", p.Group)
	b.label("payload.class", "class", p.Class)
	b.annotation("payload.summary", annotationSummary, p.Summary)
	b.annotation("client", "client", e.Client)
	b.annotation("payload.custom_details", "custom_details", compactJSON(p.CustomDetails))
	b.startsAt("payload.timestamp", p.Timestamp)
	b.sig.Link = pagerDutyLink(e, b.lim.MaxAnnotationBytes)
}

// pagerDutyLink returns the first link of the event, or its client_url,
// that is an absolute http or https URL of at most limit bytes. PagerDuty
// accepts any text there, so an unusable one is skipped rather than
// refusing the event.
func pagerDutyLink(e *pagerDutyBody, limit int) string {
	for _, l := range e.Links {
		if len(l.Href) <= limit && usableLink(l.Href) {
			return l.Href
		}
	}
	if len(e.ClientURL) <= limit && usableLink(e.ClientURL) {
		return e.ClientURL
	}
	return ""
}

// dotted prefixes a non-empty field path with a dot.
func dotted(field string) string {
	if field == "" {
		return ""
	}
	return "." + field
}

// compactJSON returns a JSON value as compact text: a string as itself,
// null as "".
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return ""
	}
	return buf.String()
}

// PagerDutyReply is the JSON body the Events API v2 answers with: 202 with
// status "success", message "Event processed" and the dedup_key, or 400
// with status "invalid event" and the errors.
type PagerDutyReply struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// PagerDutyAccepted is the reply to a stored event (HTTP 202).
func PagerDutyAccepted(dedupKey string) PagerDutyReply {
	return PagerDutyReply{Status: "success", Message: "Event processed", DedupKey: dedupKey}
}

// PagerDutyRejected is the reply to an event refused with err (HTTP 400).
func PagerDutyRejected(err error) PagerDutyReply {
	return PagerDutyReply{Status: "invalid event", Message: "Event object is invalid", Errors: []string{err.Error()}}
}
