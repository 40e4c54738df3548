// Package console is the responder console: server-rendered HTML pages,
// under /console, where people who hold an admin or viewer token sign in,
// see the open incidents and recent history, read an incident's signals,
// timeline, impact, escalation, roles and updates, and (admins only)
// acknowledge, resolve, escalate, override severity, assign and unassign
// roles, post, correct and strike timeline entries, and post, edit,
// approve and withdraw updates. It uses no JavaScript.
package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/triage"
)

// Paths of the console's cookies and pages.
const (
	// Prefix is where the console is mounted.
	Prefix = "/console"
	// SessionCookie holds the session id.
	SessionCookie = "klaxon_session"
	// loginCookie holds the sign-in form's CSRF token, before any session.
	loginCookie = "klaxon_login"
	// csrfField is the hidden form field carrying the CSRF token.
	csrfField = "csrf"
)

// Defaults of Options.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultMaxSessions = 10000
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Actor carries out human actions and update decisions, durably
// (engine.Engine).
type Actor interface {
	Act(ctx context.Context, act triage.Action) error
	Update(ctx context.Context, uc triage.UpdateChange) error
}

// Archive tells which incidents left the live state for the journal's
// archive (journal.Journal).
type Archive interface {
	Archived(key string) (journal.ArchiveItem, bool, error)
}

// Identify checks a sign-in token: the principal's name, whether it may
// only read, and whether the token is valid (server.Server.Identify).
type Identify func(token string) (name string, readOnly bool, ok bool)

// Options configures a Console.
type Options struct {
	State    *triage.State
	Actor    Actor
	Identify Identify
	// Archive answers actions on archived incidents with 409, as the API
	// does; nil, they answer 404 like any incident the state lacks.
	Archive Archive
	// Secure marks the cookies Secure: set it when Klaxon is reached over
	// https (its external_url).
	Secure bool
	// SessionTTL is how long a sign-in lasts; DefaultSessionTTL if zero.
	SessionTTL time.Duration
	// MaxSessions bounds the signed-out sessions each node remembers until
	// they expire; DefaultMaxSessions if zero.
	MaxSessions int
	// SessionKey seals the session cookies: nodes sharing it accept each
	// other's sessions. Empty, each process draws its own key.
	SessionKey []byte
	// Clock tells the time for session expiry; time.Now if nil.
	Clock func() time.Time
}

// Console serves the console's pages.
type Console struct {
	opts      Options
	sessions  *sessions
	pages     map[string]*template.Template
	templates updateTemplates
}

// New returns the console of opts; it panics if the embedded templates do
// not parse, which a test catches, or if no random key can be drawn.
func New(opts Options) *Console {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	sessions, err := newSessions(opts.SessionKey, opts.SessionTTL, opts.MaxSessions, opts.Clock)
	if err != nil {
		panic(fmt.Sprintf("console: %v", err))
	}
	return &Console{opts: opts, sessions: sessions, pages: mustParse(), templates: loadUpdateTemplates()}
}

// Register mounts the console under Prefix on r.
func (c *Console) Register(r gin.IRouter) {
	g := r.Group(Prefix, headers)
	static, _ := fs.Sub(staticFS, "static")
	g.GET("/static/*file", func(ctx *gin.Context) {
		ctx.Header("Cache-Control", "public, max-age=3600")
		ctx.FileFromFS(ctx.Param("file"), http.FS(static))
	})
	g.GET("/login", c.loginForm)
	g.POST("/login", c.login)
	in := g.Group("", c.signedIn)
	in.GET("", c.list)
	in.GET("/incidents/:key", c.incident)
	in.POST("/logout", c.checkCSRF, c.logout)
	act := in.Group("/incidents/:key", c.checkCSRF, c.mayAct)
	act.POST("/ack", c.act(triage.ActionAck))
	act.POST("/resolve", c.act(triage.ActionResolve))
	act.POST("/escalate", c.act(triage.ActionEscalate))
	act.POST("/severity", c.severity)
	act.POST("/roles", c.assignRole)
	act.POST("/roles/unassign", c.unassignRole)
	act.POST("/timeline", c.postEntry)
	act.POST("/timeline/:id/correct", c.correctEntry)
	act.POST("/timeline/:id/strike", c.strikeEntry)
	act.POST("/updates", c.postUpdate)
	act.POST("/updates/:id/edit", c.decideUpdate(triage.UpdateEdit))
	act.POST("/updates/:id/approve", c.decideUpdate(triage.UpdateApprove))
	act.POST("/updates/:id/withdraw", c.decideUpdate(triage.UpdateWithdraw))
}

// csp allows the console's own stylesheet and icon and nothing else: no
// script at all, no framing, forms posting only back to Klaxon.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// headers sets the security headers of every console answer.
func headers(ctx *gin.Context) {
	h := ctx.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// who is the signed-in principal of a request.
type who struct {
	name     string
	readOnly bool
	id       string
	sess     *session
}

// whoKey is the gin context key of the request's who.
const whoKey = "console.who"

// signedIn admits requests with a live session whose token is still valid,
// sending the others to the sign-in page.
func (c *Console) signedIn(ctx *gin.Context) {
	id, _ := ctx.Cookie(SessionCookie)
	sess, ok := c.sessions.get(id)
	if !ok {
		c.toLogin(ctx)
		return
	}
	name, readOnly, ok := c.opts.Identify(sess.token)
	if !ok { // the token was revoked by a reload
		c.sessions.end(id)
		c.toLogin(ctx)
		return
	}
	ctx.Set(whoKey, &who{name: name, readOnly: readOnly, id: id, sess: sess})
}

// toLogin ends a request without a session: GETs go to the sign-in page,
// anything else is refused.
func (c *Console) toLogin(ctx *gin.Context) {
	c.setCookie(ctx, SessionCookie, "", -1)
	if ctx.Request.Method == http.MethodGet || ctx.Request.Method == http.MethodHead {
		ctx.Redirect(http.StatusSeeOther, Prefix+"/login")
		ctx.Abort()
		return
	}
	c.fail(ctx, http.StatusForbidden, "You are not signed in, or your session ended. Sign in again.")
}

// whoIs is the request's signed-in principal; signedIn has run.
func whoIs(ctx *gin.Context) *who {
	v, _ := ctx.Get(whoKey)
	w, _ := v.(*who)
	return w
}

// checkCSRF refuses a form whose CSRF field is not its session's token.
func (c *Console) checkCSRF(ctx *gin.Context) {
	if !sameToken(ctx.PostForm(csrfField), whoIs(ctx).sess.csrf) {
		c.fail(ctx, http.StatusForbidden, "The form was stale or did not come from this console. Reload the page and try again.")
	}
}

// sameToken compares a submitted token with the expected one in constant
// time; an empty expected token matches nothing.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// mayAct refuses viewers.
func (c *Console) mayAct(ctx *gin.Context) {
	if w := whoIs(ctx); w.readOnly {
		c.fail(ctx, http.StatusForbidden, fmt.Sprintf("%s holds a read-only viewer token: acting on incidents needs an admin token.", w.name))
	}
}

// setCookie sets (maxAge > 0), or deletes (maxAge < 0), one of the
// console's cookies: HttpOnly, SameSite=Strict, for the console's paths
// only, Secure over https.
func (c *Console) setCookie(ctx *gin.Context, name, value string, maxAge int) {
	http.SetCookie(ctx.Writer, &http.Cookie{
		Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: c.opts.Secure, SameSite: http.SameSiteStrictMode,
	})
}

// fail answers with an error page.
func (c *Console) fail(ctx *gin.Context, status int, msg string) {
	c.render(ctx, status, "error", errorPage{page: c.page(ctx, http.StatusText(status)), Status: status, Message: msg})
	ctx.Abort()
}
