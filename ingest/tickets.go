package ingest

import (
	"cmp"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// Tickets become signals of kind ticket. Every delivery and update of the
// same ticket from the same source has one Fingerprint (see identity), so
// triage sees the ticket as one signal whose fields change. A ticket that is
// solved or closed (or deleted) is resolved; any other is firing. StartsAt is
// when the ticket was created (the receipt time if the payload does not
// say), so updates of an open ticket are not new occurrences. Labels are
// ticket, service, priority (lower-cased), category and tags; the subject is
// the summary annotation; the body is Text (cut to MaxAnnotationBytes) and,
// like the customer's name, may hold personal data.

// GenericTicket is the documented body of POST /ingest/tickets/generic.
// Only id is required.
type GenericTicket struct {
	ID           flexID   `json:"id"`
	Subject      string   `json:"subject"`
	Body         string   `json:"body"`
	CustomerID   flexID   `json:"customer_id"`
	CustomerName string   `json:"customer_name"`
	Service      string   `json:"service"`   // or component; service wins
	Component    string   `json:"component"` // used when service is empty
	Priority     string   `json:"priority"`
	Category     string   `json:"category"`
	Tags         []string `json:"tags"`
	// Status is the ticket's own status: solved, closed or resolved
	// (any case) resolve the signal; anything else, or none, is open.
	Status    string  `json:"status"`
	CreatedAt isoTime `json:"created_at"`
	URL       string  `json:"url"`
}

// ParseTicketGeneric parses one ticket in Klaxon's generic shape
// (GenericTicket) into a signal from signal.SourceTicketsGeneric.
func ParseTicketGeneric(body []byte, now time.Time, lim Limits) ([]signal.Signal, error) {
	var t GenericTicket
	if err := decodeObject(body, &t); err != nil {
		return nil, err
	}
	b := newBuilder(lim, signal.SourceTicketsGeneric, signal.KindTicket, now)
	b.id("id", "", string(t.ID))
	b.label("id", labelTicket, string(t.ID))
	service, serviceField := t.Service, "service"
	if service == "" {
		service, serviceField = t.Component, "component"
	}
	b.label(serviceField, labelService, service)
	b.label("priority", labelPriority, strings.ToLower(t.Priority))
	b.label("category", labelCategory, t.Category)
	b.tags("tags", t.Tags)
	b.annotation("subject", annotationSummary, t.Subject)
	b.annotation("status", annotationStatus, t.Status)
	b.annotation("customer_name", annotationCustomerName, t.CustomerName)
	b.customer("customer_id", string(t.CustomerID))
	b.text(t.Body)
	b.link("url", t.URL)
	b.startsAt("created_at", t.CreatedAt)
	if closedStatus(t.Status) {
		b.resolved()
	}
	return b.done()
}

// closedStatus reports whether a ticket status means the ticket is done.
func closedStatus(s string) bool {
	switch strings.ToLower(s) {
	case "solved", "closed", "resolved", "done":
		return true
	}
	return false
}

// zendeskEvent is a Zendesk event webhook body for a ticket event
// (zen:event-type:ticket.*).
type zendeskEvent struct {
	Type      string        `json:"type"`
	AccountID flexID        `json:"account_id"`
	ID        string        `json:"id"`
	Time      isoTime       `json:"time"`
	Subject   string        `json:"subject"`
	Detail    zendeskDetail `json:"detail"`
	Event     struct {
		Current json.RawMessage `json:"current"`
	} `json:"event"`
}

// zendeskDetail is the ticket as a Zendesk ticket event describes it.
type zendeskDetail struct {
	ID             flexID   `json:"id"`
	Subject        string   `json:"subject"`
	Description    string   `json:"description"`
	Status         string   `json:"status"`
	Priority       string   `json:"priority"`
	Type           string   `json:"type"`
	Tags           []string `json:"tags"`
	RequesterID    flexID   `json:"requester_id"`
	OrganizationID flexID   `json:"organization_id"`
	CreatedAt      isoTime  `json:"created_at"`
}

// zendeskTicketPrefix starts the type of every Zendesk ticket event.
const zendeskTicketPrefix = "zen:event-type:ticket."

// zendeskGone are the ticket events after which the ticket no longer
// reports anything: they resolve its signal.
var zendeskGone = map[string]bool{
	"soft_deleted": true, "permanently_deleted": true, "marked_as_spam": true, "merged": true,
}

// ParseZendesk parses a Zendesk ticket event webhook body (type
// zen:event-type:ticket.created, .status_changed or any other ticket event)
// into a signal from signal.SourceZendesk; other event types are refused.
// The identity is the ticket id within the Zendesk account (account_id).
// The body must pass VerifyZendesk first. Customer is the ticket's
// organization id, or its requester's id if it has no organization. The
// payload carries no ticket URL, so Link is empty.
func ParseZendesk(body []byte, now time.Time, lim Limits) ([]signal.Signal, error) {
	var e zendeskEvent
	if err := decodeObject(body, &e); err != nil {
		return nil, err
	}
	event, ok := strings.CutPrefix(e.Type, zendeskTicketPrefix)
	if !ok {
		return nil, &Error{Field: "type", Msg: "must be a ticket event (" + zendeskTicketPrefix + "*), got " + quote(e.Type)}
	}
	d := &e.Detail
	status := d.Status
	if event == "status_changed" {
		var current string
		if json.Unmarshal(e.Event.Current, &current) == nil && current != "" {
			status = current
		}
	}
	b := newBuilder(lim, signal.SourceZendesk, signal.KindTicket, now)
	b.id("detail.id", string(e.AccountID), string(d.ID))
	b.label("detail.id", labelTicket, string(d.ID))
	b.label("detail.priority", labelPriority, strings.ToLower(d.Priority))
	b.label("detail.type", labelCategory, strings.ToLower(d.Type))
	b.tags("detail.tags", d.Tags)
	b.annotation("detail.subject", annotationSummary, d.Subject)
	b.annotation("detail.status", annotationStatus, strings.ToLower(status))
	b.annotation("type", annotationEvent, event)
	customer, field := string(d.OrganizationID), "detail.organization_id"
	if customer == "" || customer == "0" { // Zendesk's "no organization"
		customer, field = string(d.RequesterID), "detail.requester_id"
	}
	b.customer(field, customer)
	b.text(d.Description)
	b.startsAt("time", e.Time)
	b.startsAt("detail.created_at", d.CreatedAt)
	if closedStatus(status) || zendeskGone[event] {
		b.resolved()
	}
	return b.done()
}

// jiraEvent is a Jira (Service Management) issue webhook body.
type jiraEvent struct {
	Timestamp    *int64 `json:"timestamp"`
	WebhookEvent string `json:"webhookEvent"`
	Issue        struct {
		ID     flexID     `json:"id"`
		Self   string     `json:"self"`
		Key    string     `json:"key"`
		Fields jiraFields `json:"fields"`
	} `json:"issue"`
}

// jiraFields are the issue fields Klaxon uses.
type jiraFields struct {
	Summary     string          `json:"summary"`
	Description json.RawMessage `json:"description"` // a string, or ADF (an object)
	Created     isoTime         `json:"created"`
	Labels      []string        `json:"labels"`
	Priority    *jiraNamed      `json:"priority"`
	IssueType   *jiraNamed      `json:"issuetype"`
	Project     *struct {
		Key string `json:"key"`
	} `json:"project"`
	Components []jiraNamed `json:"components"`
	Status     *struct {
		Name           string `json:"name"`
		StatusCategory *struct {
			Key string `json:"key"`
		} `json:"statusCategory"`
	} `json:"status"`
	Resolution json.RawMessage `json:"resolution"` // null while unresolved
	Reporter   *struct {
		AccountID   string `json:"accountId"`
		DisplayName string `json:"displayName"`
	} `json:"reporter"`
}

// jiraNamed is a Jira field value with a name: priority, issue type,
// component.
type jiraNamed struct {
	Name string `json:"name"`
}

// ParseJSM parses a Jira Service Management issue webhook body
// (jira:issue_created, jira:issue_updated, jira:issue_deleted) into a
// signal from signal.SourceJSM, identified by the issue's id (which, unlike
// its key, survives a move) on its Jira site (the host of issue.self). It is resolved when the issue's status is in
// the done category, it has a resolution, or it was deleted. Labels: ticket
// (the key, or the id if there is none), project, service (the first component), priority, category
// (the issue type), tags (Jira labels). Customer is the reporter's account
// id. Link is the issue's browse URL, made from issue.self.
func ParseJSM(body []byte, now time.Time, lim Limits) ([]signal.Signal, error) {
	var e jiraEvent
	if err := decodeObject(body, &e); err != nil {
		return nil, err
	}
	switch e.WebhookEvent {
	case "jira:issue_created", "jira:issue_updated", "jira:issue_deleted":
	default:
		return nil, &Error{Field: "webhookEvent", Msg: `must be "jira:issue_created", "jira:issue_updated" or "jira:issue_deleted", got ` + quote(e.WebhookEvent)}
	}
	is, f := &e.Issue, &e.Issue.Fields
	b := newBuilder(lim, signal.SourceJSM, signal.KindTicket, now)
	if e.Timestamp != nil {
		b.startsAt("timestamp", isoTime{at: time.UnixMilli(*e.Timestamp).UTC()})
	}
	b.id("issue.id", jiraSite(is.Self), string(is.ID))
	b.label("issue.key", labelTicket, cmp.Or(is.Key, string(is.ID)))
	if f.Project != nil {
		b.label("issue.fields.project.key", labelProject, f.Project.Key)
	}
	if len(f.Components) > 0 {
		b.label("issue.fields.components[0].name", labelService, f.Components[0].Name)
	}
	if f.Priority != nil {
		b.label("issue.fields.priority.name", labelPriority, strings.ToLower(f.Priority.Name))
	}
	if f.IssueType != nil {
		b.label("issue.fields.issuetype.name", labelCategory, f.IssueType.Name)
	}
	b.tags("issue.fields.labels", f.Labels)
	b.annotation("issue.fields.summary", annotationSummary, f.Summary)
	b.annotation("webhookEvent", annotationEvent, strings.TrimPrefix(e.WebhookEvent, "jira:"))
	if f.Reporter != nil {
		b.customer("issue.fields.reporter.accountId", f.Reporter.AccountID)
		b.annotation("issue.fields.reporter.displayName", annotationCustomerName, f.Reporter.DisplayName)
	}
	done := e.WebhookEvent == "jira:issue_deleted" || len(f.Resolution) > 0 && string(f.Resolution) != "null"
	if f.Status != nil {
		b.annotation("issue.fields.status.name", annotationStatus, f.Status.Name)
		done = done || f.Status.StatusCategory != nil && f.Status.StatusCategory.Key == "done"
	}
	b.text(jiraText(f.Description))
	b.link("issue.self", jiraBrowseURL(is.Self, is.Key))
	b.startsAt("issue.fields.created", f.Created)
	if done {
		b.resolved()
	}
	return b.done()
}

// jiraSite returns the host of an issue's REST URL, or "".
func jiraSite(self string) string {
	u, err := url.Parse(self)
	if err != nil {
		return ""
	}
	return u.Host
}

// jiraBrowseURL turns an issue's REST URL into the URL people open, or ""
// if it cannot.
func jiraBrowseURL(self, key string) string {
	u, err := url.Parse(self)
	if err != nil || key == "" || u.Host == "" {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/browse/" + key}).String()
}

// jiraText returns an issue description as plain text: a string as it is,
// an Atlassian Document Format object as its text nodes separated by
// spaces, anything else as "".
func jiraText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	var parts []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if t, ok := v["text"].(string); ok {
				parts = append(parts, t)
			}
			walk(v["content"])
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	return strings.Join(parts, " ")
}
