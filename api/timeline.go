package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

// entryBody is what posting ({"kind","text","at"}), correcting (any of
// them) and striking ({"reason"}) a human timeline entry take; by
// defaults to the caller.
type entryBody struct {
	Kind   triage.EntryKind `json:"kind"`
	Text   string           `json:"text"`
	At     *time.Time       `json:"at"`
	Reason string           `json:"reason"`
	By     string           `json:"by"`
}

// registerTimeline adds the timeline routes to g.
func (h *Incidents) registerTimeline(g gin.IRoutes) {
	g.GET("/api/v1/incidents/:key/timeline", h.timeline)
	g.POST("/api/v1/incidents/:key/timeline", h.postEntry)
	g.PATCH("/api/v1/incidents/:key/timeline/:id", h.correctEntry)
	g.POST("/api/v1/incidents/:key/timeline/:id/strike", h.strikeEntry)
}

// MergedTimeline returns the merged timeline of a live or archived
// incident; ok is false when there is no such incident.
func (h *Incidents) MergedTimeline(key string) (triage.Timeline, bool, error) {
	if tl, ok := h.state.IncidentTimeline(key); ok {
		return tl, true, nil
	}
	d, ok, err := h.archived(key, 0, 0)
	if err != nil || !ok {
		return triage.Timeline{}, false, err
	}
	return triage.MergeTimeline(&d), true, nil
}

// timeline answers GET /api/v1/incidents/{key}/timeline: automatic events
// and human entries in the order they happened, for archived incidents too.
func (h *Incidents) timeline(c *gin.Context) {
	tl, ok, err := h.MergedTimeline(c.Param("key"))
	switch {
	case err != nil:
		failRead(c, err)
	case !ok:
		server.Fail(c, http.StatusNotFound, fmt.Sprintf("no incident %q", c.Param("key")))
	default:
		c.JSON(http.StatusOK, tl)
	}
}

// postEntry answers POST /api/v1/incidents/{key}/timeline
// {"kind":"observation","text":"…","at":"2026-11-25T11:58:00Z"}: at, if
// given, may be earlier than now, never later.
func (h *Incidents) postEntry(c *gin.Context) {
	h.writeEntry(c, triage.ActionTimelinePost, 0)
}

// correctEntry answers PATCH /api/v1/incidents/{key}/timeline/{id} with
// any of kind, text and at: the entry changes, its earlier version stays
// in its revisions.
func (h *Incidents) correctEntry(c *gin.Context) {
	if id, ok := entryID(c); ok {
		h.writeEntry(c, triage.ActionTimelineCorrect, id)
	}
}

// writeEntry posts (id 0) or corrects entry id from the request's body.
func (h *Incidents) writeEntry(c *gin.Context, kind triage.ActionKind, id int) {
	b, ok := h.entryBody(c)
	if !ok {
		return
	}
	post := kind == triage.ActionTimelinePost
	switch {
	case post && b.Kind == "":
		failBad(c, badField("kind", "required: one of observation, theory, experiment, action, note"))
		return
	case post && b.Text == "":
		failBad(c, badField("text", "required"))
		return
	case b.Reason != "":
		failBad(c, badField("reason", "only striking an entry takes a reason"))
		return
	}
	act := triage.Action{Kind: kind, Incident: c.Param("key"), By: b.By, Entry: id, EntryKind: b.Kind, Note: b.Text}
	if b.At != nil {
		act.At = *b.At
	}
	status := http.StatusOK
	if post {
		status = http.StatusCreated
	}
	h.doTimeline(c, act, status)
}

// strikeEntry answers POST /api/v1/incidents/{key}/timeline/{id}/strike
// {"reason":"…"}: the entry stays on the timeline, marked struck.
func (h *Incidents) strikeEntry(c *gin.Context) {
	id, ok := entryID(c)
	if !ok {
		return
	}
	b, ok := h.entryBody(c)
	if !ok {
		return
	}
	if b.Kind != "" || b.Text != "" || b.At != nil {
		server.Fail(c, http.StatusBadRequest, "striking an entry takes a reason only")
		return
	}
	h.doTimeline(c, triage.Action{Kind: triage.ActionTimelineStrike, Incident: c.Param("key"), By: b.By, Entry: id, Note: b.Reason}, http.StatusOK)
}

func entryID(c *gin.Context) (int, bool) {
	id, err := strconv.Atoi(c.Param("id"))
	if err == nil && id >= 1 && id <= triage.MaxEntries {
		return id, true
	}
	failBad(c, badField("id", "a timeline entry's id is a whole number from 1 to %d", triage.MaxEntries))
	return 0, false
}

// entryBody reads an optional JSON body, bounded, refusing over-long
// fields before anything is journaled.
func (h *Incidents) entryBody(c *gin.Context) (entryBody, bool) {
	var b entryBody
	if c.Request.ContentLength != 0 {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 4*triage.MaxEntryText)
		if !readBody(c, &b) {
			return b, false
		}
	}
	for _, f := range []struct{ name, value string }{{"text", b.Text}, {"reason", b.Reason}, {"by", b.By}} {
		if len(f.value) > triage.MaxEntryText {
			failBad(c, badField(f.name, "longer than %d bytes", triage.MaxEntryText))
			return b, false
		}
	}
	if b.At != nil && b.At.IsZero() {
		failBad(c, badField("at", "must be a time (RFC 3339), or left out for now"))
		return b, false
	}
	if b.By == "" {
		b.By = h.principal(c)
	}
	return b, true
}

// doTimeline journals a timeline action and answers the incident's
// merged timeline; writes to an archived incident answer 409.
func (h *Incidents) doTimeline(c *gin.Context, act triage.Action, status int) {
	if h.journal(c, act) {
		tl, _ := h.state.IncidentTimeline(act.Incident)
		c.JSON(status, tl)
	}
}
