package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/triage"
)

// Bounds of what the pages show and take.
const (
	maxOpen    = 200  // open incidents on the list page
	maxHistory = 20   // recently resolved incidents on the list page
	maxSignals = 200  // signals on an incident's page
	maxText    = 4096 // bytes of a note or reason
)

// page is what every page shows around its content.
type page struct {
	PageTitle string
	Who       string // "" when not signed in
	ReadOnly  bool
	CSRF      string
}

// row is one incident of the list page.
type row struct {
	triage.Summary
	Impact triage.Impact
	Latest *triage.Event
}

// listPage is GET /console.
type listPage struct {
	page
	Open, History []row
}

// detailPage is GET /console/incidents/:key.
type detailPage struct {
	page
	triage.Detail
	Merged     []timelineRow // merged, newest first
	KeyFigures []figureRow
	RolesView  rolesView
	EntryKinds []string
	Levels     []string
	Updates    []updateRow // newest first
}

// loginPage is the sign-in form.
type loginPage struct {
	page
	LoginCSRF string
	Error     string
}

// errorPage says why a request failed.
type errorPage struct {
	page
	Status  int
	Message string
}

// noteForm is an action's form that takes an optional note.
type noteForm struct{ Key, Action, Button, CSRF string }

// newNoteForm is the noteForm of action on the incident key.
func newNoteForm(key, action, button, csrf string) noteForm {
	return noteForm{Key: key, Action: action, Button: button, CSRF: csrf}
}

// mustParse parses each page's template with the shared layout.
func mustParse() map[string]*template.Template {
	funcs := template.FuncMap{"when": when, "whenp": whenp, "statusText": statusText, "lower": strings.ToLower,
		"noteForm": newNoteForm, "entryForms": newEntryForms}
	pages := map[string]*template.Template{}
	for _, name := range []string{"list", "incident", "login", "error"} {
		pages[name] = template.Must(template.New(name).Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// when formats a time for people, in UTC; "—" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// whenp is when of an optional time.
func whenp(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return when(*t)
}

// statusText is an incident status in words, so that status is never told
// by colour alone.
func statusText(s triage.Status) string {
	switch s {
	case triage.StatusTriggered:
		return "Triggered"
	case triage.StatusAcknowledged:
		return "Acknowledged"
	case triage.StatusResolved:
		return "Resolved"
	}
	return string(s)
}

// page is the frame of a page for the request's principal, if signed in.
func (c *Console) page(ctx *gin.Context, title string) page {
	p := page{PageTitle: title}
	if w := whoIs(ctx); w != nil {
		p.Who, p.ReadOnly, p.CSRF = w.name, w.readOnly, w.sess.csrf
	}
	return p
}

// render executes a page's template into a buffer, then answers with it,
// so that a template error never sends half a page.
func (c *Console) render(ctx *gin.Context, status int, name string, data any) {
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		_ = ctx.Error(fmt.Errorf("console: rendering %s: %w", name, err))
		ctx.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error"))
		return
	}
	ctx.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// loginForm shows the sign-in form, with a fresh CSRF token in a cookie
// and the form; a signed-in browser goes to the console.
func (c *Console) loginForm(ctx *gin.Context) {
	if id, _ := ctx.Cookie(SessionCookie); id != "" {
		if _, ok := c.sessions.get(id); ok {
			ctx.Redirect(http.StatusSeeOther, Prefix)
			return
		}
	}
	tok, err := randomToken()
	if err != nil {
		c.fail(ctx, http.StatusInternalServerError, "internal error")
		_ = ctx.Error(err)
		return
	}
	c.setCookie(ctx, loginCookie, tok, int((10 * time.Minute).Seconds()))
	c.render(ctx, http.StatusOK, "login", loginPage{page: page{PageTitle: "Sign in"}, LoginCSRF: tok})
}

// login exchanges a valid token for a session.
func (c *Console) login(ctx *gin.Context) {
	formTok, _ := ctx.Cookie(loginCookie)
	if !sameToken(ctx.PostForm(csrfField), formTok) {
		c.fail(ctx, http.StatusForbidden, "The sign-in form was stale or did not come from this console. Reload it and try again.")
		return
	}
	token := ctx.PostForm("token")
	if _, _, ok := c.opts.Identify(token); !ok {
		c.render(ctx, http.StatusUnauthorized, "login", loginPage{page: page{PageTitle: "Sign in"}, LoginCSRF: formTok,
			Error: "That token is not valid here."})
		return
	}
	id, _, err := c.sessions.create(token)
	if err != nil {
		_ = ctx.Error(err)
		c.fail(ctx, http.StatusInternalServerError, "Could not sign in: "+err.Error())
		return
	}
	c.setCookie(ctx, SessionCookie, id, int(c.opts.SessionTTL.Seconds()))
	c.setCookie(ctx, loginCookie, "", -1)
	ctx.Redirect(http.StatusSeeOther, Prefix)
}

// logout ends the session.
func (c *Console) logout(ctx *gin.Context) {
	c.sessions.end(whoIs(ctx).id)
	c.setCookie(ctx, SessionCookie, "", -1)
	ctx.Redirect(http.StatusSeeOther, Prefix+"/login")
}

// list shows the open incidents and the recently resolved ones.
func (c *Console) list(ctx *gin.Context) {
	open, _ := c.opts.State.List(triage.Filter{Status: "open", Limit: maxOpen})
	history, _ := c.opts.State.List(triage.Filter{Status: string(triage.StatusResolved), Limit: maxHistory})
	c.render(ctx, http.StatusOK, "list", listPage{page: c.page(ctx, "Incidents"), Open: c.rows(open), History: c.rows(history)})
}

// rows adds to each summary its impact and latest timeline event.
func (c *Console) rows(sums []triage.Summary) []row {
	out := make([]row, 0, len(sums))
	for _, s := range sums {
		r := row{Summary: s}
		if d, ok := c.opts.State.Get(s.Key, 0, 0); ok {
			r.Impact = d.Impact
			if n := len(d.Timeline); n > 0 {
				r.Latest = &d.Timeline[n-1]
			}
		}
		out = append(out, r)
	}
	return out
}

// incident shows one incident.
func (c *Console) incident(ctx *gin.Context) {
	d, ok := c.opts.State.Get(ctx.Param("key"), 0, maxSignals)
	if !ok {
		c.fail(ctx, http.StatusNotFound, fmt.Sprintf("There is no live incident %q.", ctx.Param("key")))
		return
	}
	var levels []string
	for _, l := range c.opts.State.Rules().Levels() {
		levels = append(levels, l.Name)
	}
	cfg, _ := c.opts.State.OnCall()
	c.render(ctx, http.StatusOK, "incident", detailPage{page: c.page(ctx, d.Key+" "+d.Title), Detail: d, Merged: timelineRows(&d), KeyFigures: figureRows(&d),
		RolesView: newRolesView(cfg, &d), EntryKinds: entryKinds(), Levels: levels, Updates: c.updateRows(&d)})
}

// act is the handler of an action that takes an optional note.
func (c *Console) act(kind triage.ActionKind) gin.HandlerFunc {
	return func(ctx *gin.Context) {
		note, ok := c.text(ctx, "note")
		if !ok {
			return
		}
		c.do(ctx, triage.Action{Kind: kind, Incident: ctx.Param("key"), By: whoIs(ctx).name, Note: note})
	}
}

// severity sets a severity override with its reason, or clears it.
func (c *Console) severity(ctx *gin.Context) {
	act := triage.Action{Kind: triage.ActionClearSeverity, Incident: ctx.Param("key"), By: whoIs(ctx).name}
	if ctx.PostForm("clear") != "" {
		c.do(ctx, act)
		return
	}
	level := ctx.PostForm("severity")
	if _, ok := c.opts.State.Rules().Level(level); !ok {
		c.fail(ctx, http.StatusBadRequest, fmt.Sprintf("The rules in force define no severity %q.", level))
		return
	}
	reason, ok := c.requiredText(ctx, "reason", "Say why you set the severity: the reason is required.")
	if !ok {
		return
	}
	act.Kind, act.Severity, act.Note = triage.ActionSetSeverity, level, reason
	c.do(ctx, act)
}

// text reads a free-text form field, refusing one that is too long.
func (c *Console) text(ctx *gin.Context, field string) (string, bool) {
	v := ctx.PostForm(field)
	if len(v) > maxText {
		c.fail(ctx, http.StatusBadRequest, fmt.Sprintf("The %s is longer than %d bytes.", field, maxText))
		return "", false
	}
	return v, true
}

// requiredText is text of a field that must not be blank; missing says so.
func (c *Console) requiredText(ctx *gin.Context, field, missing string) (string, bool) {
	v, ok := c.text(ctx, field)
	if ok && strings.TrimSpace(v) == "" {
		c.fail(ctx, http.StatusBadRequest, missing)
		return "", false
	}
	return v, ok
}

// do carries out act and sends the browser back to the incident's page.
func (c *Console) do(ctx *gin.Context, act triage.Action) {
	if !c.live(ctx, act.Incident) {
		return
	}
	if err := c.opts.Actor.Act(ctx.Request.Context(), act); err != nil {
		c.actionFailed(ctx, err)
		return
	}
	ctx.Redirect(http.StatusSeeOther, Prefix+"/incidents/"+url.PathEscape(act.Incident))
}

// live reports whether the state holds incident key; if not, it answers
// why, as the API does: 409 for an archived incident, 404 for none.
func (c *Console) live(ctx *gin.Context, key string) bool {
	if exists, _ := c.opts.State.Exists(key); exists {
		return true
	}
	if c.opts.Archive != nil {
		_, archived, err := c.opts.Archive.Archived(key)
		switch {
		case err != nil:
			c.actionFailed(ctx, fmt.Errorf("reading the archive for %s: %w", key, err))
			return false
		case archived:
			c.fail(ctx, http.StatusConflict, fmt.Sprintf("%s was resolved and has been archived: it takes no more changes.", key))
			return false
		}
	}
	c.fail(ctx, http.StatusNotFound, fmt.Sprintf("There is no live incident %q.", key))
	return false
}

// actionFailed answers an action the engine refused or could not record.
func (c *Console) actionFailed(ctx *gin.Context, err error) {
	switch {
	case errors.Is(err, triage.ErrNotFound):
		c.fail(ctx, http.StatusNotFound, err.Error())
	case errors.Is(err, triage.ErrConflict):
		c.fail(ctx, http.StatusConflict, err.Error())
	case errors.Is(err, triage.ErrInvalid):
		c.fail(ctx, http.StatusBadRequest, err.Error())
	case errors.Is(err, engine.ErrOverloaded), errors.Is(err, engine.ErrUnavailable),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		c.fail(ctx, http.StatusServiceUnavailable, "The action was not recorded: the store is unavailable. Try again shortly.")
	default:
		_ = ctx.Error(fmt.Errorf("console: %s: %w", ctx.Request.URL.Path, err))
		c.fail(ctx, http.StatusInternalServerError, "The action was not recorded: internal error.")
	}
}
