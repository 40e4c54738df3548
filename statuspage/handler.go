package statuspage

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
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

// securityHeaders are set on every answer.
var securityHeaders = http.Header{
	"Content-Security-Policy": {CSP},
	"X-Content-Type-Options":  {"nosniff"},
	"X-Frame-Options":         {"DENY"},
	"Referrer-Policy":         {"no-referrer"},
}

// ServeHTTP answers GET and HEAD from the current outputs, with
// validators, caching and security headers; anything else is a 404 or 405.
// A page costs a map lookup and a copy of headers prepared when it was
// rendered: the page must keep up with a static web server.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		copyHeaders(hd, securityHeaders)
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	site := h.site.Load()
	if site == nil {
		copyHeaders(hd, securityHeaders)
		hd.Set("Retry-After", "5")
		http.Error(w, "the status page is being rendered", http.StatusServiceUnavailable)
		return
	}
	f := site.Files[pathOf(r.URL.Path)]
	if f == nil {
		copyHeaders(hd, securityHeaders)
		hd.Set("Cache-Control", "no-store")
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	v := &f.plain
	if f.Gzip != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		v = &f.gzip
	}
	if v.header == nil {
		*v = f.variant(site.At, v == &f.gzip) // a File made elsewhere than Site.put
	}
	if inm := r.Header["If-None-Match"]; len(inm) > 0 && etagMatches(inm[0], v.etag) {
		copyHeaders(hd, v.header)
		delete(hd, "Last-Modified")
		delete(hd, "Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	copyHeaders(hd, v.header)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(v.body)
}

// variant is the answer of one encoding of a file: its body and every
// header, shared read-only between requests.
type variant struct {
	body   []byte
	etag   string
	header http.Header
}

// variant prepares f's answer, gzipped or not, for a site updated at.
func (f *File) variant(at time.Time, gzipped bool) variant {
	v := variant{body: f.Body, etag: f.ETag, header: http.Header{}}
	copyHeaders(v.header, securityHeaders)
	if gzipped {
		v.body, v.etag = f.Gzip, strings.TrimSuffix(f.ETag, `"`)+`-gz"`
		v.header["Content-Encoding"] = []string{"gzip"}
	}
	v.header["Content-Type"] = []string{f.Type}
	v.header["Etag"] = []string{v.etag}
	v.header["Cache-Control"] = []string{CacheControl}
	v.header["Vary"] = []string{"Accept-Encoding"}
	if strings.HasPrefix(f.Type, "application/json") {
		v.header["Access-Control-Allow-Origin"] = []string{"*"} // Statuspage widgets read it from other sites
	}
	v.header["Last-Modified"] = []string{at.UTC().Format(http.TimeFormat)}
	v.header["Content-Length"] = []string{strconv.Itoa(len(v.body))}
	return v
}

// copyHeaders sets every header of from on to; the value slices are
// shared, never changed.
func copyHeaders(to, from http.Header) {
	for k, v := range from {
		to[k] = v
	}
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
