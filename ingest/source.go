package ingest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/signal"
)

// Parser turns one request body, received at now, into signals, or rejects
// it with an *Error naming the offending field.
type Parser func(body []byte, now time.Time, lim Limits) ([]signal.Signal, error)

// TicketParsers maps the {format} of POST /ingest/tickets/{format} to its
// parser. Zendesk bodies must pass VerifyZendesk first.
var TicketParsers = map[string]Parser{
	"generic": ParseTicketGeneric,
	"zendesk": ParseZendesk,
	"jsm":     ParseJSM,
}

// MentionParsers maps the {format} of POST /ingest/mentions/{format} to its
// parser.
var MentionParsers = map[string]Parser{
	"generic":  ParseMentionGeneric,
	"mastodon": ParseMastodon,
	"x":        ParseX,
}

// Label and annotation names the ticket, mention, heartbeat and event
// parsers set. Labels are few and bounded, for rules to match on; prose and
// personal data (subjects, author names) go into annotations.
const (
	labelTicket    = "ticket"    // the ticket's id or key in its own system
	labelService   = "service"   // service or component the ticket is about
	labelPriority  = "priority"  // lower-cased
	labelCategory  = "category"  // ticket type or category
	labelTags      = "tags"      // sorted, de-duplicated, comma-separated
	labelProject   = "project"   // Jira project key
	labelPlatform  = "platform"  // social network of a mention
	labelLang      = "lang"      // language of a mention, when given
	labelRule      = "rule"      // X filtered-stream rule tags that matched
	labelHeartbeat = "heartbeat" // heartbeat name

	annotationSummary      = "summary"
	annotationStatus       = "ticket_status" // the ticket's own status, as sent
	annotationCustomerName = "customer_name"
	annotationAuthor       = "author"
	annotationAuthorName   = "author_name"
	annotationEvent        = "event"
)

// identity is the Fingerprint of a ticket or mention: the Alertmanager
// fingerprint (16 hex digits) of the label set {source, platform, id}, so
// that every delivery and update of the same ticket or post, from the same
// source, has one identity, whatever else changed.
func identity(src signal.Source, platform, id string) string {
	var ls signal.Builder
	ls.Add("source", string(src))
	ls.Add("id", id)
	if platform != "" {
		ls.Add("platform", platform)
	}
	return fingerprint(ls.Strings())
}

// builder collects one signal's fields, validating each against the limits
// and keeping the first error, which names the payload field at fault.
type builder struct {
	lim         Limits
	sig         signal.Signal
	report      signal.Report // sig's Report, set by done
	labels      signal.Builder
	annotations signal.Builder
	err         error
}

// newBuilder starts a signal of kind from src, firing, received at now.
func newBuilder(lim Limits, src signal.Source, kind signal.Kind, now time.Time) *builder {
	return &builder{lim: lim.withDefaults(), sig: signal.Signal{
		Source: src, Kind: kind, Status: signal.StatusFiring, StartsAt: now.UTC(),
	}}
}

// fail records err unless an error is recorded already.
func (b *builder) fail(field, msg string) {
	if b.err == nil {
		b.err = &Error{Field: field, Msg: msg}
	}
}

// id sets the fingerprint from the ticket's or post's id in field, which
// must be set.
func (b *builder) id(field, platform, id string) {
	if id == "" {
		b.fail(field, "must not be empty")
		return
	}
	if b.tooLong(field, id, b.lim.MaxLabelBytes) {
		return
	}
	b.sig.Fingerprint = identity(b.sig.Source, platform, id)
}

// label sets the label name from the value of field; an empty value is no
// label, as in alerts.
func (b *builder) label(field, name, value string) {
	b.set(&b.labels, "label", b.lim.MaxLabelBytes, field, name, value)
}

// set adds name (a label or annotation: what) to m with the value of
// field, unless it is empty or name and value exceed limit bytes.
func (b *builder) set(m *signal.Builder, what string, limit int, field, name, value string) {
	if value == "" {
		return
	}
	if n := len(name) + len(value); n > limit {
		b.fail(field, fmt.Sprintf("%s %s: name and value are %d bytes, more than the limit of %d", what, name, n, limit))
		return
	}
	m.Add(name, value)
}

// tooLong records an error and reports true if the value of field is
// longer than limit bytes.
func (b *builder) tooLong(field, value string, limit int) bool {
	if len(value) <= limit {
		return false
	}
	b.fail(field, fmt.Sprintf("is %d bytes, more than the limit of %d", len(value), limit))
	return true
}

// tags sets the tags label from the list in field: sorted, without
// duplicates or empty entries, joined with commas (which a tag must not
// hold).
func (b *builder) tags(field string, tags []string) {
	if len(tags) > b.lim.MaxLabels {
		b.fail(field, fmt.Sprintf("%d entries, more than the limit of %d", len(tags), b.lim.MaxLabels))
		return
	}
	clean := make([]string, 0, len(tags))
	for i, t := range tags {
		if strings.Contains(t, ",") {
			b.fail(field+"["+strconv.Itoa(i)+"]", "must not contain a comma, got "+quote(t))
			return
		}
		if t != "" {
			clean = append(clean, t)
		}
	}
	slices.Sort(clean)
	b.label(field, labelTags, strings.Join(slices.Compact(clean), ","))
}

// annotation sets the annotation name from the value of field.
func (b *builder) annotation(field, name, value string) {
	b.set(&b.annotations, "annotation", b.lim.MaxAnnotationBytes, field, name, value)
}

// text sets the signal's Text. Text longer than MaxAnnotationBytes is cut
// there (on a rune boundary), not refused: a customer's long e-mail is not
// bad input, and a refusal would lose the ticket.
func (b *builder) text(s string) {
	if len(s) > b.lim.MaxAnnotationBytes {
		cut := b.lim.MaxAnnotationBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	b.report.Text = s
}

// customer sets the signal's Customer from field.
func (b *builder) customer(field, id string) {
	if b.tooLong(field, id, b.lim.MaxLabelBytes) {
		return
	}
	b.report.Customer = id
}

// link sets the signal's Link from field, which must be an absolute http or
// https URL if set.
func (b *builder) link(field, link string) {
	if link == "" {
		return
	}
	if b.tooLong(field, link, b.lim.MaxAnnotationBytes) {
		return
	}
	if !usableLink(link) {
		b.fail(field, "must be an absolute http or https URL, got "+quote(link))
		return
	}
	b.sig.Link = link
}

// usableLink reports whether link is an absolute http or https URL, which
// notifications and the UI can offer to open.
func usableLink(link string) bool {
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// startsAt sets the start from t when it was given.
func (b *builder) startsAt(field string, t isoTime) {
	if t.bad != "" {
		b.fail(field, t.bad)
		return
	}
	if t.at.IsZero() {
		return
	}
	if t.at.Before(EarliestTime) || !t.at.Before(LatestTime) {
		b.fail(field, outsideRange(t.at))
		return
	}
	b.sig.StartsAt = t.at
}

// resolved marks the signal resolved.
func (b *builder) resolved() { b.sig.Status = signal.StatusResolved }

// done returns the signal, or the first error as the only result.
func (b *builder) done() ([]signal.Signal, error) {
	if b.err != nil {
		return nil, b.err
	}
	b.sig.Labels = b.labels.Strings()
	b.sig.SetReport(b.report)
	if annotations := b.annotations.Strings(); !annotations.IsZero() {
		b.sig.Annotations = annotations
	}
	return []signal.Signal{b.sig}, nil
}

// outsideRange says that t is outside [EarliestTime, LatestTime).
func outsideRange(t time.Time) string {
	return fmt.Sprintf("%s is outside the accepted range [%s, %s)",
		t.Format(time.RFC3339Nano), EarliestTime.Format(time.RFC3339), LatestTime.Format(time.RFC3339))
}

// isoTime is an ISO 8601 timestamp in a payload: RFC 3339, or with a
// numeric offset without a colon (2015-07-17T08:42:58.315+0000) as
// PagerDuty and Jira send. A malformed one is recorded, not refused, so
// that the error can name the field (see wireTime).
type isoTime struct {
	at  time.Time
	bad string
}

// isoLayouts are the layouts isoTime accepts; fractional seconds are
// optional in both.
var isoLayouts = []string{time.RFC3339, "2006-01-02T15:04:05Z0700"}

// UnmarshalJSON decodes a timestamp string; null or "" leaves it unset.
func (t *isoTime) UnmarshalJSON(b []byte) error {
	if b[0] != '"' {
		if string(b) != "null" {
			t.bad = "wrong type: got JSON " + signal.JSONKind(b) + ", want ISO 8601 timestamp string"
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*t = parseISOTime(s)
	return nil
}

// parseISOTime parses s as isoTime does; "" is unset.
func parseISOTime(s string) isoTime {
	if s == "" {
		return isoTime{}
	}
	for _, layout := range isoLayouts {
		if at, err := time.Parse(layout, s); err == nil {
			return isoTime{at: at.UTC()}
		}
	}
	return isoTime{bad: "must be an ISO 8601 timestamp with a time zone, got " + quote(s)}
}

// flexID is an identifier a payload may send as a JSON string or number
// (Zendesk sends ids as strings in webhooks and numbers elsewhere).
type flexID string

// UnmarshalJSON decodes a string, an integer or null.
func (id *flexID) UnmarshalJSON(b []byte) error {
	switch {
	case b[0] == '"':
		return json.Unmarshal(b, (*string)(id))
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		if _, err := strconv.ParseInt(string(b), 10, 64); err != nil {
			return &json.UnmarshalTypeError{Value: "number " + string(b), Type: stringType}
		}
		*id = flexID(b)
		return nil
	case string(b) == "null":
		return nil
	}
	return &json.UnmarshalTypeError{Value: signal.JSONKind(b), Type: stringType}
}

// decodeObject decodes a JSON object body into v, turning every failure
// into an *Error naming the field.
func decodeObject(body []byte, v any) error {
	return decode[struct{}](body, v, false)
}
