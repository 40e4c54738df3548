package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/acklink"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/console"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

// Tokens of the route test's configuration, one per role.
const (
	routesAdmin  = "routes-admin-token-0123456789"
	routesViewer = "routes-viewer-token-0123456789"
	routesIngest = "routes-ingest-token-0123456789"
)

// Routes whose access is not the APIs' (admins anything, viewers reads).
var (
	// publicRoutes take no bearer token.
	publicRoutes = map[string]bool{
		"GET /-/healthy": true, "HEAD /-/healthy": true, "GET /-/ready": true, "HEAD /-/ready": true,
		"GET /ack/:token": true, "POST /ack/:token": true, // the signed link is the credential
		"POST /v2/enqueue":     true, // the routing key in the body is the credential (server tests it)
		"POST /slack/commands": true, // Slack's request signature is the credential (server tests it)
	}
	// ingestRoutes take only their senders' tokens.
	ingestRoutes = map[string]bool{"POST /ingest/alertmanager": true, "POST /api/v2/alerts": true,
		"POST /ingest/tickets/:format": true, "POST /ingest/mentions/:format": true, "POST /ingest/heartbeats/:name": true}
	// adminRoutes refuse viewers whatever the method.
	adminRoutes = map[string]bool{"POST /-/reload": true, "GET /debug/pprof/*profile": true}
)

// routesServer wires every route as serve does, over an in-memory journal.
func routesServer(t *testing.T) *server.Server {
	t.Helper()
	dir := t.TempDir()
	key := strings.Repeat("k", 48)
	if err := os.WriteFile(filepath.Join(dir, "ack.key"), []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(`data_dir: data
notify: {ack_key_file: ack.key}
auth:
  admin: [{name: sre, token: `+routesAdmin+`}]
  viewers: [{name: wallboard, token: `+routesViewer+`}]
  ingest:
    alertmanager: {tokens: [{name: am, token: `+routesIngest+`}]}
    prometheus: {tokens: [{name: am, token: `+routesIngest+`}]}
`), filepath.Join(dir, "klaxon.yml"))
	if err != nil {
		t.Fatal(err)
	}
	state := triage.New(nil)
	j := journal.NewMemory(state, nil)
	eng := engine.New(j, state, engine.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	signer, err := acklink.NewSigner([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	pg, err := newPager(cfg, eng, signer, zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(cfg, zap.NewNop(), reg)
	if err := routes(srv, cfg, eng, j, signer, newReloader(cfg, eng, pg, srv, zap.NewAtomicLevel(), zap.NewNop(), reg), zap.NewNop(), reg); err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestEveryRouteChecksItsRole sends every registered route a request with
// no token, a viewer's and an admin's: a route added without the checks
// fails here without being named.
func TestEveryRouteChecksItsRole(t *testing.T) {
	srv := routesServer(t)
	send := func(method, path, token string) int {
		req := httptest.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		srv.Engine().ServeHTTP(w, req)
		return w.Code
	}
	// outcome is what the credentials checks made of a request.
	outcome := func(code int) string {
		switch code {
		case http.StatusUnauthorized:
			return "401"
		case http.StatusForbidden:
			return "403"
		}
		return "passed"
	}
	checked := 0
	for _, r := range srv.Engine().Routes() {
		route := r.Method + " " + r.Path
		if publicRoutes[route] {
			continue
		}
		if strings.HasPrefix(r.Path, console.Prefix) {
			consoleRoute(t, send, r.Method, r.Path)
			continue
		}
		checked++
		// Parameters name nothing that exists, so no action acts; the
		// profile is the command line, which answers at once.
		path := strings.NewReplacer(":key", "INC-404", ":id", "none", "*profile", "cmdline", ":format", "generic", ":name", "watchdog").Replace(r.Path)
		t.Run(route, func(t *testing.T) {
			viewerWant, adminWant := "passed", "passed"
			switch {
			case ingestRoutes[route]:
				viewerWant, adminWant = "401", "401"
			case adminRoutes[route] || (r.Method != http.MethodGet && r.Method != http.MethodHead):
				viewerWant = "403"
			}
			for _, tc := range []struct{ who, token, want string }{
				{"no token", "", "401"}, {"viewer", routesViewer, viewerWant}, {"admin", routesAdmin, adminWant},
			} {
				if code := send(r.Method, path, tc.token); outcome(code) != tc.want {
					t.Errorf("%s: %d, want %s (a route whose access is meant to differ from the APIs' belongs in publicRoutes, ingestRoutes or adminRoutes)",
						tc.who, code, tc.want)
				}
			}
		})
	}
	if checked < 15 {
		t.Errorf("checked %d routes; the wiring registers more", checked)
	}
}

// consoleRoute checks a console route without a session: bearer tokens,
// even an admin's, admit to nothing; pages send to the sign-in form and
// forms are refused. Only the sign-in form and the static files are open.
func consoleRoute(t *testing.T, send func(method, path, token string) int, method, path string) {
	t.Run(method+" "+path, func(t *testing.T) {
		path = strings.NewReplacer(":key", "INC-404", "*file", "console.css").Replace(path)
		want := http.StatusForbidden
		switch {
		case method == http.MethodGet && (path == console.Prefix+"/login" || strings.HasPrefix(path, console.Prefix+"/static/")):
			want = http.StatusOK
		case method == http.MethodGet:
			want = http.StatusSeeOther
		}
		for _, token := range []string{"", routesViewer, routesAdmin} {
			if code := send(method, path, token); code != want {
				t.Errorf("token %q: %d, want %d", token, code, want)
			}
		}
	})
}
