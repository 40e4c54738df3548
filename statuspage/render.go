package statuspage

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// File is one rendered output, ready to serve or export.
type File struct {
	Body []byte
	Type string // Content-Type
	ETag string // strong, quoted
	// Gzip is Body gzipped, served to clients that accept it; nil when
	// that would not be smaller.
	Gzip []byte
	// The answers prepared by Site.put, plain and gzipped.
	plain, gzip variant
}

// Site is every output of one rendering, by path below /status/.
type Site struct {
	Files map[string]*File
	At    time.Time // when the page was last updated
}

// The content types of the outputs.
const (
	typeHTML = "text/html; charset=utf-8"
	typeJSON = "application/json; charset=utf-8"
	typeAtom = "application/atom+xml; charset=utf-8"
	typeRSS  = "application/rss+xml; charset=utf-8"
	typeSVG  = "image/svg+xml"
)

// icon is the page's icon, linked from its head so that browsers do not
// ask the server's root for /favicon.ico (which the exported copy lacks).
const icon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2b7a3d"/></svg>
`

// Paths are the paths below /status/ of every output, in a fixed order.
var Paths = []string{
	"index.html",
	"api/v2/summary.json", "api/v2/status.json", "api/v2/components.json", "api/v2/incidents.json",
	"api/v2/incidents/unresolved.json", "api/v2/scheduled-maintenances.json",
	"history.atom", "history.rss", "icon.svg",
}

// Render renders every output of p.
func Render(p *Page) (*Site, error) {
	s := &Site{Files: map[string]*File{}, At: p.UpdatedAt}
	html, err := renderHTML(p)
	if err != nil {
		return nil, err
	}
	s.put("index.html", typeHTML, html)
	for path, v := range apiDocuments(p) {
		body, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("status page: encode %s: %w", path, err)
		}
		s.put(path, typeJSON, append(body, '\n'))
	}
	atom, rss, err := renderFeeds(p)
	if err != nil {
		return nil, err
	}
	s.put("history.atom", typeAtom, atom)
	s.put("history.rss", typeRSS, rss)
	s.put("icon.svg", typeSVG, []byte(icon))
	return s, nil
}

func (s *Site) put(path, typ string, body []byte) {
	sum := sha256.Sum256(body)
	f := &File{Body: body, Type: typ, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, Gzip: gzipped(body)}
	f.plain = f.variant(s.At, false)
	if f.Gzip != nil {
		f.gzip = f.variant(s.At, true)
	}
	s.Files[path] = f
}

// gzipWriters holds gzip writers between uses: each one holds some 800 KB
// of compressor state, and every rendering compresses every output.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// gzipped is body compressed, or nil when that saves nothing.
func gzipped(body []byte) []byte {
	var b bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&b)
	_, _ = zw.Write(body) // a bytes.Buffer does not fail
	_ = zw.Close()
	if b.Len() >= len(body) {
		return nil
	}
	return b.Bytes()
}

// Equal reports whether s and o hold the same outputs.
func (s *Site) Equal(o *Site) bool {
	if o == nil || len(s.Files) != len(o.Files) {
		return false
	}
	for path, f := range s.Files {
		if g := o.Files[path]; g == nil || g.ETag != f.ETag || !bytes.Equal(g.Body, f.Body) {
			return false
		}
	}
	return true
}

// styleHash is the CSP source of the page's inline style sheet.
var styleHash = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// CSP is the Content-Security-Policy of every output: no script at all,
// the one inline style sheet by its hash, no framing.
var CSP = "default-src 'none'; style-src " + styleHash + "; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
