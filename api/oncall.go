package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

// Scheduler journals schedule overrides (engine.Engine).
type Scheduler interface {
	SetOverride(ctx context.Context, o oncall.Override) (string, error)
	RemoveOverride(ctx context.Context, id string) error
}

// OnCall serves /api/v1/oncall: who is on call, and schedule overrides.
type OnCall struct {
	state *triage.State
	sched Scheduler
	clock func() time.Time
}

// NewOnCall returns the handlers; clock answers "now" (time.Now if nil).
func NewOnCall(state *triage.State, sched Scheduler, clock func() time.Time) *OnCall {
	if clock == nil {
		clock = time.Now
	}
	return &OnCall{state: state, sched: sched, clock: clock}
}

// Register adds the routes to g, which must already require credentials.
func (h *OnCall) Register(g gin.IRoutes) {
	g.GET("/api/v1/oncall", h.who)
	g.GET("/api/v1/oncall/overrides", h.overrides)
	g.POST("/api/v1/oncall/overrides", h.addOverride)
	g.DELETE("/api/v1/oncall/overrides/:id", h.removeOverride)
}

// shiftView is who is on call in a schedule at an instant, and why.
type shiftView struct {
	Schedule string     `json:"schedule"`
	At       time.Time  `json:"at"`
	Person   string     `json:"person,omitempty"` // "" when nobody is
	Name     string     `json:"name,omitempty"`
	From     *time.Time `json:"from,omitempty"`
	Until    *time.Time `json:"until,omitempty"`
	Reason   string     `json:"reason"`
}

// who answers GET /api/v1/oncall?schedule=S&at=T (at: RFC 3339, default
// now; schedule: default every schedule).
func (h *OnCall) who(c *gin.Context) {
	cfg, overrides := h.state.OnCall()
	if cfg == nil {
		server.Fail(c, http.StatusNotFound, "no on-call files are configured (oncall_files)")
		return
	}
	at := h.clock().UTC()
	if v := c.Query("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			server.FailField(c, http.StatusBadRequest, "at: want an RFC 3339 time such as 2026-12-01T10:00:00Z", "at")
			return
		}
		at = t.UTC()
	}
	names := slices.Sorted(maps.Keys(cfg.Schedules))
	if s := c.Query("schedule"); s != "" {
		if cfg.Schedules[s] == nil {
			server.FailField(c, http.StatusBadRequest, fmt.Sprintf("schedule: unknown %q (known: %v)", s, names), "schedule")
			return
		}
		names = []string{s}
	}
	out := []shiftView{}
	for _, name := range names {
		v := shiftView{Schedule: name, At: at, Reason: "nobody is on call"}
		for _, sh := range cfg.Schedules[name].OnCallAt(at, overrides) {
			from, until := sh.Start, sh.End
			v.Person, v.Name, v.From, v.Until, v.Reason = sh.Person, cfg.People[sh.Person].Name, &from, &until, sh.Reason()
		}
		out = append(out, v)
	}
	c.JSON(http.StatusOK, gin.H{"oncall": out})
}

func (h *OnCall) overrides(c *gin.Context) {
	_, overrides := h.state.OnCall()
	c.JSON(http.StatusOK, gin.H{"overrides": append([]oncall.Override{}, overrides...)})
}

// overrideBody is what POST /api/v1/oncall/overrides takes.
type overrideBody struct {
	Schedule string    `json:"schedule"`
	Person   string    `json:"person"`
	Replaces string    `json:"replaces"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

func (h *OnCall) addOverride(c *gin.Context) {
	var b overrideBody
	if err := decodeBody(c.Request.Body, &b); err != nil {
		server.Fail(c, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	for _, f := range []struct{ name, value string }{{"schedule", b.Schedule}, {"person", b.Person}, {"replaces", b.Replaces}} {
		if len(f.value) > maxText {
			server.FailField(c, http.StatusBadRequest, fmt.Sprintf("%s: longer than %d bytes", f.name, maxText), f.name)
			return
		}
	}
	id, err := h.sched.SetOverride(c.Request.Context(), oncall.Override{
		Schedule: b.Schedule, Person: b.Person, Replaces: b.Replaces, Start: b.Start.UTC(), End: b.End.UTC()})
	if err != nil {
		failAction(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"id": id})
}

func (h *OnCall) removeOverride(c *gin.Context) {
	if err := h.sched.RemoveOverride(c.Request.Context(), c.Param("id")); err != nil {
		failAction(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// failAction answers an error from journaling a human decision.
func failAction(c *gin.Context, err error) {
	switch {
	case errors.Is(err, triage.ErrNotFound):
		server.Fail(c, http.StatusNotFound, err.Error())
	case errors.Is(err, triage.ErrConflict):
		server.Fail(c, http.StatusConflict, err.Error())
	case errors.Is(err, triage.ErrInvalid):
		server.Fail(c, http.StatusBadRequest, err.Error())
	default:
		failRead(c, err)
	}
}
