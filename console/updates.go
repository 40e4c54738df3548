package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/statuspage"
	"github.com/klaxonhq/klaxon/triage"
)

// updateRow is one incident update as the console shows it: a human's
// text, or the wording its audience's template gives an automatic one.
type updateRow struct {
	triage.Update
	Title, Body string
}

// updateTemplates are the English templates the console words automatic
// updates with.
type updateTemplates struct {
	internal *statuspage.InternalTemplates
	external *statuspage.Templates
}

// loadUpdateTemplates loads the built-in English templates; they are
// embedded and tested, so failing is a bug.
func loadUpdateTemplates() updateTemplates {
	in, err := statuspage.LoadInternalTemplates("", "en")
	if err != nil {
		panic(err)
	}
	ex, err := statuspage.LoadTemplates("", "en")
	if err != nil {
		panic(err)
	}
	return updateTemplates{internal: in, external: ex}
}

// updateRows words the incident's updates, newest first.
func (c *Console) updateRows(d *triage.Detail) []updateRow {
	out := make([]updateRow, 0, len(d.Updates))
	for _, u := range d.Updates {
		r := updateRow{Update: u}
		st := statuspage.IncidentStatus(u.State)
		var err error
		if u.Audience == triage.AudienceInternal {
			r.Title, r.Body, err = c.templates.internal.Render(st, statuspage.InternalInputs{Service: d.Service,
				Severity: u.Severity, State: string(u.State), Started: when(d.StartedAt)})
		} else {
			r.Title, r.Body, err = c.templates.external.Render(st, statuspage.Inputs{PublicName: d.Routing.DisplayName,
				Component: d.Routing.Component, State: string(u.State), Started: when(d.StartedAt)})
		}
		if err != nil {
			r.Title, r.Body = string(u.State), ""
		}
		if u.Text != "" {
			r.Body = u.Text
		}
		out = append(out, r)
	}
	slices.Reverse(out)
	return out
}

// postUpdate posts a human update: audience, state and text.
func (c *Console) postUpdate(ctx *gin.Context) {
	text, ok := c.text(ctx, "text")
	if !ok {
		return
	}
	c.doUpdate(ctx, triage.UpdateChange{Op: triage.UpdatePost, Incident: ctx.Param("key"),
		Audience: triage.Audience(ctx.PostForm("audience")), State: triage.UpdateState(ctx.PostForm("state")), Text: text})
}

// decideUpdate edits (with a text), approves or withdraws update :id.
func (c *Console) decideUpdate(op triage.UpdateOp) gin.HandlerFunc {
	return func(ctx *gin.Context) {
		id, err := strconv.Atoi(ctx.Param("id"))
		if err != nil || id < 1 {
			c.fail(ctx, http.StatusBadRequest, "An update's id is a whole number from 1.")
			return
		}
		uc := triage.UpdateChange{Op: op, Incident: ctx.Param("key"), Update: id}
		if op == triage.UpdateEdit {
			var ok bool
			if uc.Text, ok = c.text(ctx, "text"); !ok {
				return
			}
		}
		c.doUpdate(ctx, uc)
	}
}

// doUpdate journals uc as the signed-in admin and sends the browser back
// to the incident's page.
func (c *Console) doUpdate(ctx *gin.Context, uc triage.UpdateChange) {
	uc.By = whoIs(ctx).name
	if !c.live(ctx, uc.Incident) {
		return
	}
	if err := uc.Check(); err != nil {
		c.actionFailed(ctx, err)
		return
	}
	if err := c.opts.Actor.Update(ctx.Request.Context(), uc); err != nil {
		c.actionFailed(ctx, err)
		return
	}
	ctx.Redirect(http.StatusSeeOther, Prefix+"/incidents/"+url.PathEscape(uc.Incident)+"#updates-h")
}
