package statuspage

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// CacheControl lets browsers and CDNs keep a page briefly, and serve the
// last one for a day while Klaxon cannot answer.
const CacheControl = "public, max-age=30, stale-while-revalidate=30, stale-if-error=86400"

// Handler serves the rendered outputs from memory below Prefix.
type Handler struct {
	site atomic.Pointer[Site]
}

// Prefix is where the external page lives.
const Prefix = "/status"

// Set replaces the outputs served.
func (h *Handler) Set(s *Site) { h.site.Store(s) }

// Site is the outputs served now, or nil before the first rendering.
func (h *Handler) Site() *Site { return h.site.Load() }

// ServeHTTP answers GET and HEAD from the current outputs, with
// validators, caching and security headers; anything else is a 404 or 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	site := h.site.Load()
	if site == nil {
		hd.Set("Retry-After", "5")
		http.Error(w, "the status page is being rendered", http.StatusServiceUnavailable)
		return
	}
	f := site.Files[pathOf(r.URL.Path)]
	if f == nil {
		hd.Set("Cache-Control", "no-store")
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body, etag := f.Body, f.ETag
	if f.Gzip != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = f.Gzip, strings.TrimSuffix(f.ETag, `"`)+`-gz"`
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Type", f.Type)
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", CacheControl)
	hd.Set("Vary", "Accept-Encoding")
	if strings.HasPrefix(f.Type, "application/json") {
		hd.Set("Access-Control-Allow-Origin", "*") // Statuspage widgets read it from other sites
	}
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Last-Modified", site.At.UTC().Format(http.TimeFormat))
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// pathOf maps a request path to an output's path: /status and /status/
// are the page itself.
func pathOf(p string) string {
	rest, ok := strings.CutPrefix(p, Prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		return ""
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest == "" {
		return "index.html"
	}
	return rest
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match), or is "*".
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
