package statuspage

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHTTP(t *testing.T) {
	var h Handler
	h.Set(standard(t).site("en", false))
	srv := httptest.NewServer(&h)
	defer srv.Close()
	get := func(path string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for _, p := range append([]string{"/status", "/status/"}, Paths...) {
		if !strings.HasPrefix(p, "/") {
			p = "/status/" + p
		}
		res := get(p, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": CacheControl} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", p, k, got, want)
			}
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		etag := res.Header.Get("ETag")
		if etag == "" || !strings.Contains(res.Header.Get("Cache-Control"), "stale-if-error") {
			t.Errorf("%s: no ETag or stale-if-error", p)
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			if res := get(p, map[string]string{"If-None-Match": inm}); res.StatusCode != http.StatusNotModified {
				t.Errorf("%s If-None-Match %s: %d, want 304", p, inm, res.StatusCode)
			}
		}
		if res := get(p, map[string]string{"If-None-Match": `"stale"`}); res.StatusCode != 200 {
			t.Errorf("%s with a stale ETag: %d", p, res.StatusCode)
		}
	}
	for _, p := range []string{"/status/nope", "/status/api/v2/nope.json", "/statusx", "/status/../etc/passwd", "/status/api/v2/"} {
		if res := get(p, nil); res.StatusCode != http.StatusNotFound || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d, want 404 with security headers", p, res.StatusCode)
		}
	}
	res, err := http.Post(srv.URL+"/status/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", res.StatusCode)
	}
}

func TestNotRenderedYet(t *testing.T) {
	rec := httptest.NewRecorder()
	new(Handler).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("before the first rendering: %d, want 503", rec.Code)
	}
}

// TestStatuspageShape checks the JSON against the field names of
// Statuspage's public API documentation.
func TestStatuspageShape(t *testing.T) {
	site := standard(t).site("en", false)
	page := []string{"id", "name", "url", "time_zone", "updated_at"}
	component := []string{"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
		"start_date", "group_id", "page_id", "group", "only_show_if_degraded"}
	incident := []string{"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
		"shortlink", "started_at", "page_id", "incident_updates", "components"}
	update := []string{"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components",
		"deliver_notifications", "custom_tweet", "tweet_id"}
	tops := map[string][]string{
		"api/v2/summary.json":                {"page", "components", "incidents", "scheduled_maintenances", "status"},
		"api/v2/status.json":                 {"page", "status"},
		"api/v2/components.json":             {"page", "components"},
		"api/v2/incidents.json":              {"page", "incidents"},
		"api/v2/incidents/unresolved.json":   {"page", "incidents"},
		"api/v2/scheduled-maintenances.json": {"page", "scheduled_maintenances"},
	}
	for path, keys := range tops {
		var doc map[string]any
		if err := json.Unmarshal(site.Files[path].Body, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		hasKeys(t, path, doc, keys)
		hasKeys(t, path+" page", doc["page"].(map[string]any), page)
		if s, ok := doc["status"].(map[string]any); ok {
			hasKeys(t, path+" status", s, []string{"indicator", "description"})
			if !slices.Contains([]string{"none", "minor", "major", "critical"}, s["indicator"].(string)) {
				t.Errorf("%s: indicator %v", path, s["indicator"])
			}
		}
		for _, c := range list(doc["components"]) {
			hasKeys(t, path+" component", c, component)
		}
		for _, inc := range list(doc["incidents"]) {
			hasKeys(t, path+" incident", inc, incident)
			for _, u := range list(inc["incident_updates"]) {
				hasKeys(t, path+" update", u, update)
			}
		}
	}
}

func list(v any) []map[string]any {
	var out []map[string]any
	if v == nil {
		return nil
	}
	for _, e := range v.([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

func hasKeys(t *testing.T, what string, m map[string]any, keys []string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks %q", what, k)
		}
	}
	if len(m) != len(keys) {
		t.Errorf("%s has %d fields, want %d", what, len(m), len(keys))
	}
}

// TestExportIsAtomic re-exports while readers read: every file a reader
// opens is complete and all files it reads come from one rendering.
func TestExportIsAtomic(t *testing.T) {
	f := standard(t)
	a := f.site("en", false)
	b := f.site("de", false)
	dir := filepath.Join(t.TempDir(), "public")
	if err := Export(a, dir); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				checkExport(t, dir, a, b)
			}
		}()
	}
	for i := range 50 {
		if err := Export([]*Site{a, b}[i%2], dir); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	checkExport(t, dir, b, b)
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".public.new-*")); len(left) > 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}
}

// checkExport reads the page's file and checks it is whole, one of a's or b's.
func checkExport(t *testing.T, dir string, a, b *Site) {
	for _, p := range []string{"index.html", "api/v2/summary.json"} {
		data, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Errorf("reading %s during export: %v", p, err)
			return
		}
		if string(data) != string(a.Files[p].Body) && string(data) != string(b.Files[p].Body) {
			t.Errorf("%s is neither rendering (%d bytes): half-written", p, len(data))
		}
	}
}

func TestPublisherRendersOnChange(t *testing.T) {
	f := standard(t)
	tpl, err := LoadTemplates("", "en")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "export")
	p := NewPublisher(f.state, nil, Options{Page: PageOptions{Name: "S", URL: "https://s"},
		Mapper: Mapper{Templates: tpl, Language: "en", Location: time.UTC}, ExportDir: dir, Now: func() time.Time { return f.now }})
	if err := p.Render(); err != nil {
		t.Fatal(err)
	}
	first := p.Handler().Site()
	if err := p.Render(); err != nil || p.Handler().Site() != first {
		t.Fatalf("an unchanged state was rendered anew (%v)", err)
	}
	f.alert("new", "reports", 1, true)
	if err := p.Render(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "api", "v2", "incidents", "unresolved.json"))
	if err != nil || !strings.Contains(string(got), "issues with Reports") {
		t.Errorf("the export lacks the new incident (%v)", err)
	}
}

// TestRunRendersWhenDirty drives Run: a change and Dirty bring a new
// rendering; cancelling the context stops it.
func TestRunRendersWhenDirty(t *testing.T) {
	f := standard(t)
	tpl, err := LoadTemplates("", "en")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return f.now }
	p := NewPublisher(f.state, nil, Options{Page: PageOptions{Name: "S", URL: "https://s"}, Interval: time.Millisecond,
		Mapper: Mapper{Templates: tpl, Language: "en", Location: time.UTC}, Now: now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	for p.Handler().Site() == nil {
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	f.alert("late", "reports", 1, true)
	mu.Unlock()
	p.Dirty()
	p.Dirty() // never blocks
	for !strings.Contains(string(p.Handler().Site().Files["api/v2/incidents/unresolved.json"].Body), "issues with Reports") {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}

func BenchmarkServe(b *testing.B) {
	var h Handler
	h.Set(standard(b).site("en", false))
	req := httptest.NewRequest(http.MethodGet, "/status/", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
		}
	})
}

func BenchmarkRender(b *testing.B) {
	f := many(b, 50)
	tpl, _ := LoadTemplates("", "en")
	p := NewPublisher(f.state, &f.arch, Options{Page: PageOptions{Name: "S", URL: "https://s"},
		Mapper: Mapper{Templates: tpl, Language: "en", Location: time.UTC}, Now: func() time.Time { return f.now }})
	b.ReportAllocs()
	for b.Loop() {
		p.handler.Set(nil)
		if err := p.Render(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGzip(t *testing.T) {
	var h Handler
	site := standard(t).site("en", false)
	h.Set(site)
	tests := []struct {
		accept string
		gz     bool
	}{{"", false}, {"gzip", true}, {"br, gzip;q=0.8", true}, {"gzip;q=0", false}, {"deflate", false}}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/status/", nil)
		req.Header.Set("Accept-Encoding", tt.accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		gotGz := rec.Header().Get("Content-Encoding") == "gzip"
		if gotGz != tt.gz {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tt.accept, gotGz, tt.gz)
			continue
		}
		body := rec.Body.Bytes()
		if gotGz {
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
			if rec.Header().Get("ETag") == site.Files["index.html"].ETag {
				t.Error("the gzipped body has the plain body's ETag")
			}
		}
		if string(body) != string(site.Files["index.html"].Body) {
			t.Errorf("Accept-Encoding %q: the body differs from the rendering", tt.accept)
		}
		if rec.Header().Get("Vary") != "Accept-Encoding" {
			t.Error("no Vary: Accept-Encoding")
		}
	}
}
