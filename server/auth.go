package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/config"
)

// Anonymous is the principal of requests to an endpoint the configuration
// leaves open.
const Anonymous = "anonymous"

// principalKey is the gin context key of the authenticated principal.
type principalKey struct{}

// role is what a principal may do.
type role uint8

const (
	// roleFull may use every method of the endpoints it is admitted to.
	roleFull role = iota
	// roleViewer may only read: GET and HEAD.
	roleViewer
)

// principals is who may call an endpoint: anyone when open, otherwise the
// holders of its tokens, kept as SHA-256 digests, each with its role.
type principals struct {
	open    bool
	names   []string
	roles   []role
	digests [][sha256.Size]byte
}

// newPrincipals collects the tokens of lists, all with full rights.
func newPrincipals(open bool, lists ...config.Tokens) *principals {
	p := &principals{open: open}
	for _, list := range lists {
		p.add(list, roleFull)
	}
	return p
}

// add admits the holders of list with role r.
func (p *principals) add(list config.Tokens, r role) *principals {
	for _, t := range list {
		p.names = append(p.names, t.Name)
		p.roles = append(p.roles, r)
		p.digests = append(p.digests, sha256.Sum256([]byte(t.Token.Reveal())))
	}
	return p
}

// find gives the name and role of the principal whose token is tok. It
// compares digests, so the time taken reveals neither the tokens' lengths
// nor how much of one matched, and it compares every token, so neither
// does it reveal which one matched.
func (p *principals) find(tok string) (string, role, bool) {
	d := sha256.Sum256([]byte(tok))
	match := -1
	for i := range p.digests {
		match = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(d[:], p.digests[i][:]), i, match)
	}
	if match < 0 {
		return "", 0, false
	}
	return p.names[match], p.roles[match], true
}

// access is who may call each kind of endpoint. SetAuth replaces it whole,
// so every request sees one configuration's tokens, never a mix.
type access struct {
	admin   *principals
	metrics *principals
	ingest  map[string]*principals // by source name
	zendesk []byte                 // the Zendesk webhook signing secret; nil refuses every request
}

// ingestSources are the sources newAccess builds principals for.
var ingestSources = []string{config.SourceAlertmanager, config.SourcePrometheus,
	config.SourceTickets, config.SourceMentions, config.SourceHeartbeats, config.SourcePagerDuty}

// newAccess collects the principals of every endpoint from a.
func newAccess(a *config.Auth) *access {
	acc := &access{
		admin:   newPrincipals(a.AdminOpen, a.Admin).add(a.Viewers, roleViewer),
		metrics: newPrincipals(a.MetricsOpen, a.Admin, a.Metrics).add(a.Viewers, roleViewer),
		ingest:  make(map[string]*principals, len(ingestSources)),
	}
	for _, name := range ingestSources {
		src, _ := a.Ingest.Source(name)
		acc.ingest[name] = newPrincipals(src.Open, src.Tokens)
	}
	if sec := a.Ingest.Zendesk.SigningSecret; !sec.IsZero() {
		acc.zendesk = []byte(sec.Reveal())
	}
	return acc
}

// SetAuth installs the principals of a for every request from now on, all
// at once (a reload calls it); requests already admitted keep their principal.
func (s *Server) SetAuth(a config.Auth) { s.access.Store(newAccess(&a)) }

// Admin is middleware admitting the configured admins (everyone when
// auth.admin_open is set), for /-/reload and the profiles; it refuses
// viewers with 403.
func (s *Server) Admin() gin.HandlerFunc {
	return s.authenticate(func(a *access) *principals { return a.admin }, never)
}

// API is middleware for the incident, on-call and silence APIs: it admits
// the configured admins to every method (everyone when auth.admin_open is
// set), and viewers to GET and HEAD only, refusing them anything else
// with 403.
func (s *Server) API() gin.HandlerFunc {
	return s.authenticate(func(a *access) *principals { return a.admin }, reads)
}

// never admits viewers to no method.
func never(string) bool { return false }

// reads admits viewers to the methods that only read.
func reads(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// Ingest is middleware admitting the configured senders of an ingest source
// (config.SourceAlertmanager...), or everyone when the source is open.
// It panics on a source the configuration does not know: that is a wiring
// mistake, found at start-up.
func (s *Server) Ingest(source string) gin.HandlerFunc {
	if !slices.Contains(ingestSources, source) {
		panic(fmt.Sprintf("server: unknown ingest source %q", source))
	}
	return s.authenticate(func(a *access) *principals { return a.ingest[source] }, never)
}

// Principal is the name of the request's authenticated principal:
// Anonymous on an open endpoint, "" on one without authentication.
func Principal(c *gin.Context) string {
	v, _ := c.Get(principalKey{})
	name, _ := v.(string)
	return name
}

// authenticate is middleware requiring "Authorization: Bearer <token>" with
// one of the tokens pick chooses from the access in force, answering 401
// otherwise; a viewer's token is answered 403 unless viewerMay admits the
// request's method.
func (s *Server) authenticate(pick func(*access) *principals, viewerMay func(method string) bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := pick(s.access.Load())
		if p.open {
			c.Set(principalKey{}, Anonymous)
			return
		}
		msg := "missing bearer token"
		if tok, ok := bearer(c.GetHeader("Authorization")); ok {
			name, r, found := p.find(tok)
			switch {
			case found && r == roleViewer && !viewerMay(c.Request.Method):
				Fail(c, http.StatusForbidden, fmt.Sprintf("%s holds a read-only viewer token: %s %s needs an admin token",
					name, c.Request.Method, c.Request.URL.Path))
				return
			case found:
				c.Set(principalKey{}, name)
				return
			}
			msg = "invalid bearer token"
		}
		c.Header("WWW-Authenticate", `Bearer realm="klaxon"`)
		Fail(c, http.StatusUnauthorized, msg)
	}
}

// bearer extracts the token of a Bearer authorization header; the scheme
// is case-insensitive.
func bearer(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
