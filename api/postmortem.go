package api

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/postmortem"
	"github.com/klaxonhq/klaxon/server"
)

// Postmortems serves GET /api/v1/incidents/{key}/postmortem: a Markdown
// post-mortem draft of a live or archived incident.
type Postmortems struct {
	incidents *Incidents
	template  *postmortem.Template
	now       func() time.Time
}

// NewPostmortems returns the handler; incidents supplies the state and the
// archive, now the instant an open incident's duration runs to.
func NewPostmortems(incidents *Incidents, tpl *postmortem.Template, now func() time.Time) *Postmortems {
	return &Postmortems{incidents: incidents, template: tpl, now: now}
}

// Register adds the route to g, which must already require credentials.
func (h *Postmortems) Register(g gin.IRoutes) {
	g.GET("/api/v1/incidents/:key/postmortem", h.get)
}

func (h *Postmortems) get(c *gin.Context) {
	key := c.Param("key")
	d, ok := h.incidents.state.Get(key, 0, maxSignals)
	if !ok {
		var err error
		if d, ok, err = h.incidents.archived(key, 0, maxSignals); err != nil {
			failRead(c, err)
			return
		}
	}
	if !ok {
		server.Fail(c, http.StatusNotFound, fmt.Sprintf("no incident %q", key))
		return
	}
	var buf bytes.Buffer
	if err := h.template.Render(&buf, postmortem.NewData(&d, h.now())); err != nil {
		_ = c.Error(err)
		server.Fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	c.Data(http.StatusOK, "text/markdown; charset=utf-8", buf.Bytes())
}
