package console

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/triage"
)

// rolesView is the roles section of an incident's page: each role the
// on-call files define with its holder, who held which role when, and the
// people an admin may assign.
type rolesView struct {
	Configured bool // on-call files are in force: without them there are no roles
	Roles      []roleRow
	History    []termRow
	People     []personRow
}

// roleRow is one role and who holds it ("" for nobody).
type roleRow struct {
	ID, Name           string
	Holder, HolderName string
}

// termRow is one stretch of the role history, with the role's name and
// the person's name beside their id.
type termRow struct {
	triage.RoleTerm
	RoleName string
}

// personRow is one person of the on-call files.
type personRow struct{ ID, Name string }

// newRolesView words d's roles under the on-call configuration cfg (nil
// when none is configured).
func newRolesView(cfg *oncall.Config, d *triage.Detail) rolesView {
	if cfg == nil {
		return rolesView{}
	}
	v := rolesView{Configured: true}
	for _, id := range slices.Sorted(maps.Keys(cfg.People)) {
		v.People = append(v.People, personRow{ID: id, Name: cfg.People[id].Name})
	}
	for _, id := range slices.Sorted(maps.Keys(cfg.Roles)) {
		holder := d.Roles[id]
		v.Roles = append(v.Roles, roleRow{ID: id, Name: cfg.Roles[id].Name, Holder: holder, HolderName: personName(cfg, holder)})
	}
	for _, t := range d.RoleHistory {
		t.Person = personName(cfg, t.Person)
		name := t.Role
		if r := cfg.Roles[t.Role]; r != nil {
			name = r.Name
		}
		v.History = append(v.History, termRow{RoleTerm: t, RoleName: name})
	}
	return v
}

// personName is "Ada (ada)" for the person ada of the on-call files, or
// the id alone for anyone else.
func personName(cfg *oncall.Config, id string) string {
	if p := cfg.People[id]; p != nil && p.Name != "" && p.Name != id {
		return fmt.Sprintf("%s (%s)", p.Name, id)
	}
	return id
}

// assignRole gives the form's role to the form's person, as POST
// /api/v1/incidents/{key}/roles does.
func (c *Console) assignRole(ctx *gin.Context) {
	cfg, role, ok := c.formRole(ctx)
	if !ok {
		return
	}
	person := ctx.PostForm("person")
	if cfg.People[person] == nil {
		c.fail(ctx, http.StatusBadRequest, fmt.Sprintf("%q is not a person in the on-call files.", person))
		return
	}
	c.do(ctx, triage.Action{Kind: triage.ActionAssignRole, Incident: ctx.Param("key"), Role: role, Person: person, By: whoIs(ctx).name})
}

// unassignRole takes the form's role from whoever holds it, as DELETE
// /api/v1/incidents/{key}/roles/{role} does.
func (c *Console) unassignRole(ctx *gin.Context) {
	if _, role, ok := c.formRole(ctx); ok {
		c.do(ctx, triage.Action{Kind: triage.ActionUnassignRole, Incident: ctx.Param("key"), Role: role, By: whoIs(ctx).name})
	}
}

// formRole reads the form's role, refusing one the on-call files in force
// do not define, and returns them with it.
func (c *Console) formRole(ctx *gin.Context) (*oncall.Config, string, bool) {
	cfg, _ := c.opts.State.OnCall()
	if cfg == nil {
		c.fail(ctx, http.StatusBadRequest, "Roles need on-call files, and none are configured.")
		return nil, "", false
	}
	role := ctx.PostForm("role")
	if cfg.Roles[role] == nil {
		c.fail(ctx, http.StatusBadRequest, fmt.Sprintf("The on-call files define no role %q (they define %s).", role,
			strings.Join(slices.Sorted(maps.Keys(cfg.Roles)), ", ")))
		return nil, "", false
	}
	return cfg, role, true
}
