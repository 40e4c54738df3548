package console

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/resolution"
	"github.com/klaxonhq/klaxon/triage"
)

// entryTimeLayouts are the times the entry form's "at" field takes, in
// UTC: a browser's datetime-local value, with or without seconds, or RFC
// 3339 with a zone.
var entryTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

// timelineRow is one item of the merged timeline as the incident page
// shows it: the time it tells, its kind, author and text, and for a human
// entry when it was posted (if not then), its corrections and its strike.
type timelineRow struct {
	triage.TimelineItem
	Human       bool
	Posted      time.Time         // when a human entry was posted, if later than the time it tells
	Struck      *triage.Strike    // who struck a human entry out, when and why
	Corrections int               // how often a human entry was corrected
	Corrected   *triage.Revision  // its latest correction: who replaced the earlier text, and when
	Revisions   []triage.Revision // its earlier versions, oldest first
}

// timelineRows merges d's events, automatic updates and human entries,
// newest first.
func timelineRows(d *triage.Detail) []timelineRow {
	tl := triage.MergeTimeline(d)
	out := make([]timelineRow, len(tl.Items))
	for i, it := range tl.Items {
		r := timelineRow{TimelineItem: it}
		if e := it.Entry; e != nil {
			r.Human, r.Struck, r.Corrections, r.Revisions = true, e.Struck, len(e.Revisions), e.Revisions
			if e.Posted.After(e.At) {
				r.Posted = e.Posted
			}
			if n := len(e.Revisions); n > 0 {
				r.Corrected = &e.Revisions[n-1]
			}
		}
		out[len(out)-1-i] = r
	}
	return out
}

// figureRow is one of an incident's key figures, worded.
type figureRow struct{ Name, Value string }

// figureRows words the key figures of d: duration, time to acknowledge,
// pages, tickets, mentions, customers and who held which role.
func figureRows(d *triage.Detail) []figureRow {
	f := d.Figures
	duration := resolution.Duration(f.DurationSeconds)
	if d.Status != triage.StatusResolved {
		duration += " so far"
	}
	ack := "not acknowledged"
	if f.AcknowledgedBy != "" {
		ack = fmt.Sprintf("%s (%s)", resolution.Duration(f.TimeToAckSeconds), f.AcknowledgedBy)
	}
	rows := []figureRow{{"Duration", duration}, {"Time to acknowledge", ack}, {"Pages sent", fmt.Sprint(f.PagesSent)},
		{"Alerts", fmt.Sprint(f.Alerts)}, {"Tickets", fmt.Sprint(f.Tickets)}, {"Mentions", fmt.Sprint(f.Mentions)},
		{"Customers", fmt.Sprint(f.Customers)}}
	for _, r := range f.Roles {
		rows = append(rows, figureRow{r.Role, strings.Join(r.People, ", ")})
	}
	return rows
}

// entryForms are the forms that correct and strike out a human entry.
type entryForms struct {
	Key   string
	Entry *triage.HumanEntry
	Kinds []string
	CSRF  string
}

// newEntryForms is the entryForms of entry e of the incident key.
func newEntryForms(key string, e *triage.HumanEntry, kinds []string, csrf string) entryForms {
	return entryForms{Key: key, Entry: e, Kinds: kinds, CSRF: csrf}
}

// entryKinds are the kinds the entry form offers.
func entryKinds() []string {
	out := make([]string, len(triage.EntryKinds))
	for i, k := range triage.EntryKinds {
		out[i] = string(k)
	}
	return out
}

// postEntry adds a human entry to the timeline, as POST
// /api/v1/incidents/{key}/timeline does, under the signed-in name.
func (c *Console) postEntry(ctx *gin.Context) {
	kind, text, ok := c.entryForm(ctx)
	if !ok {
		return
	}
	at, err := parseEntryTime(ctx.PostForm("at"))
	if err != nil {
		c.fail(ctx, http.StatusBadRequest, err.Error())
		return
	}
	c.do(ctx, triage.Action{Kind: triage.ActionTimelinePost, Incident: ctx.Param("key"), By: whoIs(ctx).name,
		EntryKind: kind, Note: text, At: at})
}

// parseEntryTime reads the entry form's optional time, in UTC unless it
// names a zone; "" is the zero time (the entry happened when posted).
func parseEntryTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if i := slices.IndexFunc(entryTimeLayouts, func(l string) bool { _, err := time.Parse(l, v); return err == nil }); i >= 0 {
		t, _ := time.Parse(entryTimeLayouts[i], v)
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("The time %q is not a date and time such as 2026-03-01T08:55 (UTC).", v)
}

// correctEntry replaces a human entry's kind, text and time, as PATCH
// /api/v1/incidents/{key}/timeline/{id} does; the earlier version stays in
// its revisions. The form shows the time to the second: left as shown, the
// time stays as it was.
func (c *Console) correctEntry(ctx *gin.Context) {
	e, ok := c.humanEntry(ctx)
	if !ok {
		return
	}
	kind, text, ok := c.entryForm(ctx)
	if !ok {
		return
	}
	at, err := parseEntryTime(ctx.PostForm("at"))
	if err != nil {
		c.fail(ctx, http.StatusBadRequest, err.Error())
		return
	}
	if at.Equal(e.At.Truncate(time.Second)) {
		at = time.Time{}
	}
	c.do(ctx, triage.Action{Kind: triage.ActionTimelineCorrect, Incident: ctx.Param("key"), By: whoIs(ctx).name,
		Entry: e.ID, EntryKind: kind, Note: text, At: at})
}

// strikeEntry strikes a human entry out with an optional reason, as POST
// /api/v1/incidents/{key}/timeline/{id}/strike does.
func (c *Console) strikeEntry(ctx *gin.Context) {
	e, ok := c.humanEntry(ctx)
	if !ok {
		return
	}
	reason, ok := c.text(ctx, "reason")
	if !ok {
		return
	}
	c.do(ctx, triage.Action{Kind: triage.ActionTimelineStrike, Incident: ctx.Param("key"), By: whoIs(ctx).name,
		Entry: e.ID, Note: reason})
}

// entryForm reads the kind and text an entry form posts.
func (c *Console) entryForm(ctx *gin.Context) (triage.EntryKind, string, bool) {
	kind, ok := triage.ParseEntryKind(ctx.PostForm("kind"))
	if !ok {
		c.fail(ctx, http.StatusBadRequest, "Choose the entry's kind: observation, theory, experiment, action or note.")
		return "", "", false
	}
	text, ok := c.requiredText(ctx, "text", "Write what happened: the text is required.")
	return kind, text, ok
}

// humanEntry reads the human entry :id of the live incident :key,
// refusing an id the incident has no entry under.
func (c *Console) humanEntry(ctx *gin.Context) (triage.HumanEntry, bool) {
	key := ctx.Param("key")
	if !c.live(ctx, key) {
		return triage.HumanEntry{}, false
	}
	d, _ := c.opts.State.Get(key, 0, 0)
	id, err := strconv.Atoi(ctx.Param("id"))
	if err != nil || id < 1 || id > len(d.HumanEntries) {
		c.fail(ctx, http.StatusNotFound, fmt.Sprintf("%s has no timeline entry %q.", key, ctx.Param("id")))
		return triage.HumanEntry{}, false
	}
	return d.HumanEntries[id-1], true
}
