// Package api serves the incident API: listing and reading incidents, and
// the human actions on them (acknowledge, resolve, severity override).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

// Actor carries out human actions, durably (engine.Engine).
type Actor interface {
	Act(ctx context.Context, act triage.Action) error
}

// Incidents serves /api/v1/incidents.
type Incidents struct {
	state     *triage.State
	actor     Actor
	archive   Archive
	principal func(*gin.Context) string
}

// maxSignals caps how many signals one incident read returns.
const maxSignals = 1000

// NewIncidents returns the handlers: live incidents come from state, those
// past their retention from archive; principal names the authenticated caller.
func NewIncidents(state *triage.State, actor Actor, archive Archive, principal func(*gin.Context) string) *Incidents {
	return &Incidents{state: state, actor: actor, archive: archive, principal: principal}
}

// Register adds the routes to g, which must already require credentials.
func (h *Incidents) Register(g gin.IRoutes) {
	g.GET("/api/v1/incidents", h.list)
	g.GET("/api/v1/incidents/:key", h.get)
	g.POST("/api/v1/incidents/:key/ack", h.act(triage.ActionAck))
	g.POST("/api/v1/incidents/:key/resolve", h.act(triage.ActionResolve))
	g.POST("/api/v1/incidents/:key/escalate", h.act(triage.ActionEscalate))
	g.POST("/api/v1/incidents/:key/severity", h.severity)
	g.POST("/api/v1/incidents/:key/merge", h.merge)
	g.POST("/api/v1/incidents/:key/signals/move", h.move)
	h.registerRoles(g)
	h.registerTimeline(g)
}

func (h *Incidents) list(c *gin.Context) {
	f, err := h.filter(c)
	if err != nil {
		failBad(c, err)
		return
	}
	if f.Limit, err = intParam(c, "limit", 1, 1000); err != nil {
		failBad(c, err)
		return
	}
	switch c.Query("archived") {
	case "":
	case "true":
		h.listArchived(c, f)
		return
	default:
		failBad(c, badField("archived", "must be true or absent"))
		return
	}
	if cur := c.Query("cursor"); cur != "" {
		if f.Before, err = strconv.ParseUint(cur, 10, 64); err != nil || f.Before == 0 {
			failBad(c, badField("cursor", "not a cursor this API returned"))
			return
		}
	}
	incs, next := h.state.List(f)
	body := gin.H{"incidents": incs}
	if next != 0 {
		body["nextCursor"] = strconv.FormatUint(next, 10)
	}
	c.JSON(http.StatusOK, body)
}

// filter reads the list's filters. Status and severity must be values
// that can match; service is not checked against the catalogue, since an
// incident outside it takes its service from a free label value, and a
// name no incident has is an honest empty list.
func (h *Incidents) filter(c *gin.Context) (triage.Filter, error) {
	f := triage.Filter{Status: c.Query("status"), Service: c.Query("service")}
	if err := checkStatus(f.Status); err != nil {
		return f, err
	}
	if sev := c.Query("severity"); sev != "" {
		var err error
		if f.Severity, err = level(h.state.Rules(), "severity", sev); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (h *Incidents) get(c *gin.Context) {
	offset, limit, err := signalsPage(c)
	if err != nil {
		failBad(c, err)
		return
	}
	d, ok := h.state.Get(c.Param("key"), offset, limit)
	if !ok {
		if d, ok, err = h.archived(c.Param("key"), offset, limit); err != nil {
			failRead(c, err)
			return
		}
	}
	if !ok {
		server.Fail(c, http.StatusNotFound, fmt.Sprintf("no incident %q", c.Param("key")))
		return
	}
	c.JSON(http.StatusOK, d)
}

// actionBody is what the actions take: ack and resolve (by, note),
// severity (severity, reason, clear), merge (from), move (signals, to).
type actionBody struct {
	By       string   `json:"by"`
	Note     string   `json:"note"`
	Reason   string   `json:"reason"`
	Severity string   `json:"severity"`
	Clear    bool     `json:"clear"`
	From     string   `json:"from"`
	Signals  []string `json:"signals"`
	To       string   `json:"to"`
}

// maxMove bounds how many signals one move names.
const maxMove = 1000

const maxText = 4096

func (h *Incidents) act(kind triage.ActionKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, ok := h.body(c)
		if !ok {
			return
		}
		h.do(c, triage.Action{Kind: kind, Incident: c.Param("key"), By: body.By, Note: body.Note})
	}
}

// severity sets a human override ({"severity":"SEV1","reason":"…"}) or
// clears it ({"clear":true}). The level is checked first, against the
// rules in force, so that a level they do not define is named as such.
func (h *Incidents) severity(c *gin.Context) {
	body, ok := h.body(c)
	if !ok {
		return
	}
	act := triage.Action{Kind: triage.ActionClearSeverity, Incident: c.Param("key"), By: body.By}
	switch {
	case body.Clear && body.Severity != "":
		server.Fail(c, http.StatusBadRequest, "give either severity or clear, not both")
		return
	case body.Clear:
		h.do(c, act)
		return
	case body.Severity == "":
		failBad(c, badField("severity", "required (or clear: true)"))
		return
	}
	sev, err := level(h.state.Rules(), "severity", body.Severity)
	if err != nil {
		failBad(c, err)
		return
	}
	if strings.TrimSpace(body.Reason) == "" {
		failBad(c, badField("reason", "required when setting a severity"))
		return
	}
	act.Kind, act.Severity, act.Note = triage.ActionSetSeverity, sev, body.Reason
	h.do(c, act)
}

// body reads an optional JSON action body; "by" defaults to the caller.
func (h *Incidents) body(c *gin.Context) (actionBody, bool) {
	var b actionBody
	if c.Request.ContentLength != 0 && !readBody(c, &b) {
		return b, false
	}
	// In the order of the struct, so that the answer never depends on map order.
	for _, f := range []struct{ name, value string }{
		{"by", b.By}, {"note", b.Note}, {"reason", b.Reason}, {"severity", b.Severity}, {"from", b.From}, {"to", b.To},
	} {
		if len(f.value) > maxText {
			server.Fail(c, http.StatusBadRequest, fmt.Sprintf("%s: longer than %d bytes", f.name, maxText))
			return b, false
		}
	}
	if b.By == "" {
		b.By = h.principal(c)
	}
	return b, true
}

// readBody decodes the request's JSON body into v, or answers why not:
// 413 past a MaxBytesReader's limit, else 400.
func readBody(c *gin.Context, v any) bool {
	err := decodeBody(c.Request.Body, v)
	if err == nil {
		return true
	}
	status := http.StatusBadRequest
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		status = http.StatusRequestEntityTooLarge
	}
	server.Fail(c, status, "body: "+err.Error())
	return false
}

// decodeBody decodes exactly one JSON object from r into v: unknown fields
// and anything but white space after the object are errors.
func decodeBody(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil || errors.As(err, new(*json.SyntaxError)) {
			return fmt.Errorf("unexpected data after the JSON object, at byte %d", dec.InputOffset())
		}
		return err
	}
	return nil
}

func (h *Incidents) do(c *gin.Context, act triage.Action) {
	if h.journal(c, act) {
		d, _ := h.state.Get(act.Incident, 0, 0)
		c.JSON(http.StatusOK, d.Summary)
	}
}

// journal carries out act on a live incident, or answers why not (409
// for an archived incident, 404 for none) and reports false.
func (h *Incidents) journal(c *gin.Context, act triage.Action) bool {
	if exists, _ := h.state.Exists(act.Incident); !exists {
		h.notLive(c, act.Incident)
		return false
	}
	if err := h.actor.Act(c.Request.Context(), act); err != nil {
		failAction(c, err)
		return false
	}
	return true
}

// signalsPage reads which of an incident's signals to return:
// signalsOffset (default 0) and signalsLimit (default and at most
// maxSignals).
func signalsPage(c *gin.Context) (offset, limit int, err error) {
	if offset, err = intParam(c, "signalsOffset", 0, 1<<30); err != nil {
		return 0, 0, err
	}
	v, err := query(c, "signalsLimit")
	if err != nil || v == "" {
		return offset, maxSignals, err
	}
	limit, err = parseInt("signalsLimit", v, 0, maxSignals)
	return offset, limit, err
}

// intParam reads an optional whole-number query parameter in [lo, hi];
// 0 when absent.
func intParam(c *gin.Context, name string, lo, hi int) (int, error) {
	v, err := query(c, name)
	if err != nil || v == "" {
		return 0, err
	}
	return parseInt(name, v, lo, hi)
}

// parseInt parses the value v of parameter name as a whole number in [lo, hi].
func parseInt(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badField(name, "must be a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

// notLive answers an action on an incident the live state does not hold:
// 409 if it was resolved and archived, else 404.
func (h *Incidents) notLive(c *gin.Context, key string) {
	_, archived, err := h.archive.Archived(key)
	switch {
	case err != nil:
		failRead(c, err)
	case archived:
		server.Fail(c, http.StatusConflict, fmt.Sprintf("%s was resolved and has been archived", key))
	default:
		server.Fail(c, http.StatusNotFound, fmt.Sprintf("no incident %q", key))
	}
}

// merge answers POST /api/v1/incidents/{key}/merge {"from":"INC-2"}: the
// open incident from joins the open incident key, and is resolved as merged.
func (h *Incidents) merge(c *gin.Context) {
	body, ok := h.body(c)
	if !ok {
		return
	}
	if body.From == "" {
		failBad(c, badField("from", "required: the incident to merge into this one"))
		return
	}
	h.do(c, triage.Action{Kind: triage.ActionMerge, Incident: c.Param("key"), From: body.From, By: body.By, Note: body.Note})
}

// move answers POST /api/v1/incidents/{key}/signals/move {"signals":[…],"to":"INC-3"}.
func (h *Incidents) move(c *gin.Context) {
	body, ok := h.body(c)
	if !ok {
		return
	}
	switch {
	case body.To == "":
		failBad(c, badField("to", "required: the incident the signals move to"))
		return
	case len(body.Signals) == 0 || len(body.Signals) > maxMove:
		failBad(c, badField("signals", "list from 1 to %d signal IDs (as the incident's signals show them: kind/fingerprint)", maxMove))
		return
	}
	h.do(c, triage.Action{Kind: triage.ActionMoveSignals, Incident: c.Param("key"), Signals: body.Signals, To: body.To, By: body.By, Note: body.Note})
}
