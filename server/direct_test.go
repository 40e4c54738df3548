package server

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// TestDirectRouteGoesAroundTheRouter: paths at and below the prefix reach
// the direct handler; a path that only starts with the same letters, and
// everything else, reach the router and its middleware.
func TestDirectRouteGoesAroundTheRouter(t *testing.T) {
	f := newFixture(t, "")
	f.srv.Direct("/status", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "direct")
	}))
	ctx, cancel := context.WithCancel(context.Background())
	ln := listen(t)
	done := serve(ctx, f.srv, ln)
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()
	tests := []struct {
		path   string
		code   int
		direct bool
	}{
		{"/status", 200, true},
		{"/status/", 200, true},
		{"/status/api/v2/summary.json", 200, true},
		{"/statusx", 404, false},
		{"/admin", 401, false},
	}
	for _, tt := range tests {
		resp, err := http.Get(base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || (string(body) == "direct") != tt.direct {
			t.Errorf("%s: %d %q, want %d (direct %v)", tt.path, resp.StatusCode, body, tt.code, tt.direct)
		}
	}
}
