package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

// roleBody is the body of POST /api/v1/incidents/{key}/roles.
type roleBody struct {
	Role   string `json:"role"`
	Person string `json:"person"`
	By     string `json:"by"`
}

// registerRoles adds the incident role routes to g.
func (h *Incidents) registerRoles(g gin.IRoutes) {
	g.POST("/api/v1/incidents/:key/roles", h.assignRole)
	g.DELETE("/api/v1/incidents/:key/roles/:role", h.unassignRole)
}

// assignRole answers POST /api/v1/incidents/{key}/roles
// {"role":"technical_lead","person":"ada"}: the person holds the role from
// now, and is told its instructions.
func (h *Incidents) assignRole(c *gin.Context) {
	var b roleBody
	if err := decodeBody(c.Request.Body, &b); err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		server.Fail(c, status, "body: "+err.Error())
		return
	}
	for _, f := range []struct{ name, value string }{{"role", b.Role}, {"person", b.Person}, {"by", b.By}} {
		switch {
		case len(f.value) > maxText:
			server.Fail(c, http.StatusBadRequest, fmt.Sprintf("%s: longer than %d bytes", f.name, maxText))
			return
		case f.value == "" && f.name != "by":
			failBad(c, badField(f.name, "required"))
			return
		}
	}
	if b.By == "" {
		b.By = h.principal(c)
	}
	h.do(c, triage.Action{Kind: triage.ActionAssignRole, Incident: c.Param("key"), Role: b.Role, Person: b.Person, By: b.By})
}

// unassignRole answers DELETE /api/v1/incidents/{key}/roles/{role}: nobody
// holds the role from now.
func (h *Incidents) unassignRole(c *gin.Context) {
	h.do(c, triage.Action{Kind: triage.ActionUnassignRole, Incident: c.Param("key"), Role: c.Param("role"), By: h.principal(c)})
}
