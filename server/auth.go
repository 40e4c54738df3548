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

// principals is who may call an endpoint: anyone when open, otherwise the
// holders of its tokens, kept as SHA-256 digests.
type principals struct {
	open    bool
	names   []string
	digests [][sha256.Size]byte
}

// newPrincipals collects the tokens of lists.
func newPrincipals(open bool, lists ...config.Tokens) *principals {
	p := &principals{open: open}
	for _, list := range lists {
		for _, t := range list {
			p.names = append(p.names, t.Name)
			p.digests = append(p.digests, sha256.Sum256([]byte(t.Token.Reveal())))
		}
	}
	return p
}

// find gives the name of the principal whose token is tok. It compares
// digests, so the time taken reveals neither the tokens' lengths nor how
// much of one matched, and it compares every token, so neither does it
// reveal which one matched.
func (p *principals) find(tok string) (string, bool) {
	d := sha256.Sum256([]byte(tok))
	match := -1
	for i := range p.digests {
		match = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(d[:], p.digests[i][:]), i, match)
	}
	if match < 0 {
		return "", false
	}
	return p.names[match], true
}

// access is who may call each kind of endpoint. SetAuth replaces it whole,
// so every request sees one configuration's tokens, never a mix.
type access struct {
	admin   *principals
	metrics *principals
	ingest  map[string]*principals // by source name
}

// ingestSources are the sources newAccess builds principals for.
var ingestSources = []string{config.SourceAlertmanager, config.SourcePrometheus}

// newAccess collects the principals of every endpoint from a.
func newAccess(a *config.Auth) *access {
	acc := &access{
		admin:   newPrincipals(a.AdminOpen, a.Admin),
		metrics: newPrincipals(a.MetricsOpen, a.Admin, a.Metrics),
		ingest:  make(map[string]*principals, len(ingestSources)),
	}
	for _, name := range ingestSources {
		src, _ := a.Ingest.Source(name)
		acc.ingest[name] = newPrincipals(src.Open, src.Tokens)
	}
	return acc
}

// SetAuth installs the principals of a for every request from now on, all
// at once (a reload calls it); requests already admitted keep their principal.
func (s *Server) SetAuth(a config.Auth) { s.access.Store(newAccess(&a)) }

// Admin is middleware admitting the configured admins (everyone when
// auth.admin_open is set), for the incident API and /-/reload.
func (s *Server) Admin() gin.HandlerFunc {
	return s.authenticate(func(a *access) *principals { return a.admin })
}

// Ingest is middleware admitting the configured senders of an ingest source
// ("alertmanager" or "prometheus"), or everyone when the source is open.
// It panics on a source the configuration does not know: that is a wiring
// mistake, found at start-up.
func (s *Server) Ingest(source string) gin.HandlerFunc {
	if !slices.Contains(ingestSources, source) {
		panic(fmt.Sprintf("server: unknown ingest source %q", source))
	}
	return s.authenticate(func(a *access) *principals { return a.ingest[source] })
}

// Principal is the name of the request's authenticated principal:
// Anonymous on an open endpoint, "" on one without authentication.
func Principal(c *gin.Context) string {
	v, _ := c.Get(principalKey{})
	name, _ := v.(string)
	return name
}

// authenticate is middleware requiring "Authorization: Bearer <token>" with
// one of the tokens pick chooses from the access in force; it answers 401
// otherwise.
func (s *Server) authenticate(pick func(*access) *principals) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := pick(s.access.Load())
		if p.open {
			c.Set(principalKey{}, Anonymous)
			return
		}
		msg := "missing bearer token"
		if tok, ok := bearer(c.GetHeader("Authorization")); ok {
			if name, found := p.find(tok); found {
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
