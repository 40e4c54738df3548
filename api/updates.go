package api

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

// Updater journals human decisions about incident updates and
// maintenance windows (engine.Engine).
type Updater interface {
	Update(ctx context.Context, uc triage.UpdateChange) error
	Maintenance(ctx context.Context, mc triage.MaintenanceChange) (string, error)
}

// Updates serves /api/v1/incidents/{key}/updates: reading an incident's
// updates for every audience, posting and editing them, and approving or
// withdrawing held and scheduled external ones.
type Updates struct {
	incidents *Incidents
	updater   Updater
}

// NewUpdates returns the handlers; incidents supplies the state, the
// archive and the caller's name.
func NewUpdates(incidents *Incidents, updater Updater) *Updates {
	return &Updates{incidents: incidents, updater: updater}
}

// Register adds the routes to g, which must already require credentials
// and admit viewers to reads only.
func (h *Updates) Register(g gin.IRoutes) {
	g.GET("/api/v1/incidents/:key/updates", h.list)
	g.POST("/api/v1/incidents/:key/updates", h.post)
	g.PATCH("/api/v1/incidents/:key/updates/:id", h.decide(triage.UpdateEdit))
	g.POST("/api/v1/incidents/:key/updates/:id/approve", h.decide(triage.UpdateApprove))
	g.POST("/api/v1/incidents/:key/updates/:id/withdraw", h.decide(triage.UpdateWithdraw))
	g.GET("/api/v1/maintenances", h.maintenances)
	g.POST("/api/v1/maintenances", h.schedule)
	g.POST("/api/v1/maintenances/:id/cancel", h.cancel)
}

// maintenanceBody schedules a window: title, components, start, end.
type maintenanceBody struct {
	Title      string    `json:"title"`
	Components []string  `json:"components"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	By         string    `json:"by"`
}

func (h *Updates) maintenances(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"maintenances": h.incidents.state.Maintenances()})
}

// schedule answers POST /api/v1/maintenances; the components must be the
// status page's (a customer-facing service's component or public name).
func (h *Updates) schedule(c *gin.Context) {
	var b maintenanceBody
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 4*triage.MaxUpdateText)
	if err := decodeBody(c.Request.Body, &b); err != nil {
		server.Fail(c, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	known := pageComponents(h.incidents.state.Rules())
	for _, name := range b.Components {
		if !slices.Contains(known, name) {
			failBad(c, badField("components", "%q is not a status-page component; they are: %s", name, strings.Join(known, ", ")))
			return
		}
	}
	if b.By == "" {
		b.By = h.incidents.principal(c)
	}
	mc := triage.MaintenanceChange{Title: b.Title, Components: b.Components, Start: b.Start, End: b.End, By: b.By}
	h.doMaintenance(c, mc, http.StatusCreated)
}

func (h *Updates) cancel(c *gin.Context) {
	h.doMaintenance(c, triage.MaintenanceChange{Cancel: c.Param("id"), By: h.incidents.principal(c)}, http.StatusOK)
}

func (h *Updates) doMaintenance(c *gin.Context, mc triage.MaintenanceChange, status int) {
	if err := mc.Check(); err != nil {
		failAction(c, err)
		return
	}
	id, err := h.updater.Maintenance(c.Request.Context(), mc)
	if err != nil {
		failAction(c, err)
		return
	}
	if id == "" {
		id = mc.Cancel
	}
	c.JSON(status, gin.H{"id": id})
}

// pageComponents are the status page's components: those of the
// catalogue's customer-facing services with a public name.
func pageComponents(rs *rules.Set) []string {
	var out []string
	for _, svc := range rs.Services() {
		name := cmp.Or(svc.Component, svc.DisplayName)
		if svc.CustomerFacing && svc.DisplayName != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// updateBody is what posting (audience, state, text) and editing (text)
// take; by defaults to the caller.
type updateBody struct {
	Audience triage.Audience    `json:"audience"`
	State    triage.UpdateState `json:"state"`
	Text     string             `json:"text"`
	By       string             `json:"by"`
}

func (h *Updates) list(c *gin.Context) {
	key := c.Param("key")
	if us, ok := h.incidents.state.Updates(key); ok {
		c.JSON(http.StatusOK, gin.H{"updates": orEmpty(us)})
		return
	}
	d, ok, err := h.incidents.archived(key, 0, 0)
	switch {
	case err != nil:
		failRead(c, err)
	case !ok:
		server.Fail(c, http.StatusNotFound, fmt.Sprintf("no incident %q", key))
	default:
		c.JSON(http.StatusOK, gin.H{"updates": orEmpty(d.Updates)})
	}
}

func orEmpty(us []triage.Update) []triage.Update {
	if us == nil {
		return []triage.Update{}
	}
	return us
}

// post answers POST …/updates {"audience":"external","state":"identified","text":"…"}.
func (h *Updates) post(c *gin.Context) {
	b, ok := h.body(c)
	if !ok {
		return
	}
	h.do(c, triage.UpdateChange{Op: triage.UpdatePost, Incident: c.Param("key"), Audience: b.Audience, State: b.State, Text: b.Text, By: b.By})
}

// decide answers PATCH …/updates/{id} {"text":"…"} (edit), and POST
// …/updates/{id}/approve and …/withdraw.
func (h *Updates) decide(op triage.UpdateOp) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := updateID(c)
		if !ok {
			return
		}
		b, ok := h.body(c)
		if !ok {
			return
		}
		if b.Audience != "" || b.State != "" || (op != triage.UpdateEdit && b.Text != "") {
			server.Fail(c, http.StatusBadRequest, "an update's audience and state never change; only an edit takes a text")
			return
		}
		h.do(c, triage.UpdateChange{Op: op, Incident: c.Param("key"), Update: id, Text: b.Text, By: b.By})
	}
}

func updateID(c *gin.Context) (int, bool) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil || id < 1 {
		failBad(c, badField("id", "an update's id is a whole number from 1"))
		return 0, false
	}
	return id, true
}

// body reads an optional JSON body, refusing texts over the limit before
// anything is journaled.
func (h *Updates) body(c *gin.Context) (updateBody, bool) {
	var b updateBody
	if c.Request.ContentLength != 0 {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 4*triage.MaxUpdateText)
		if err := decodeBody(c.Request.Body, &b); err != nil {
			server.Fail(c, http.StatusBadRequest, "body: "+err.Error())
			return b, false
		}
	}
	if len(b.By) > maxText {
		failBad(c, badField("by", "longer than %d bytes", maxText))
		return b, false
	}
	if b.By == "" {
		b.By = h.incidents.principal(c)
	}
	return b, true
}

func (h *Updates) do(c *gin.Context, uc triage.UpdateChange) {
	if err := uc.Check(); err != nil {
		failAction(c, err)
		return
	}
	if exists, _ := h.incidents.state.Exists(uc.Incident); !exists {
		h.incidents.notLive(c, uc.Incident)
		return
	}
	if err := h.updater.Update(c.Request.Context(), uc); err != nil {
		failAction(c, err)
		return
	}
	us, _ := h.incidents.state.Updates(uc.Incident)
	c.JSON(http.StatusOK, gin.H{"updates": orEmpty(us)})
}
