package server

import (
	"net/http"
	"sync"
	"testing"

	"github.com/klaxonhq/klaxon/config"
)

// rotatedConfig replaces every token of baseConfig and opens /metrics.
const rotatedConfig = `
auth:
  admin: [{name: ops, token: rotated-admin-token-0123}]
  metrics_open: true
  ingest:
    alertmanager: {open: true}
    prometheus: {tokens: [{name: prom, token: rotated-prom-token-0123}]}
`

// TestSetAuthSwapsEveryEndpoint: after SetAuth every endpoint admits the new
// configuration's principals and only them.
func TestSetAuthSwapsEveryEndpoint(t *testing.T) {
	f := newFixture(t, "")
	rotated, err := config.Parse([]byte(rotatedConfig), "rotated.yml")
	if err != nil {
		t.Fatal(err)
	}
	f.srv.SetAuth(rotated.Auth)
	tests := []struct {
		name, method, path, auth string
		want                     int
		principal                string
	}{
		{"admin old token", "GET", "/admin", "Bearer " + adminToken, 401, ""},
		{"admin new token", "GET", "/admin", "Bearer rotated-admin-token-0123", 200, "ops"},
		{"metrics now open", "GET", "/metrics", "", 200, ""},
		{"alertmanager now open", "POST", "/ingest/am", "", 200, Anonymous},
		{"prometheus now closed", "POST", "/ingest/prom", "", 401, ""},
		{"prometheus new token", "POST", "/ingest/prom", "Bearer rotated-prom-token-0123", 200, "prom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(tt.method, tt.path, tt.auth, nil)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.principal != "" && w.Body.String() != tt.principal {
				t.Errorf("principal %q, want %q", w.Body, tt.principal)
			}
		})
	}
}

// TestSetAuthWhileServing swaps the tokens under concurrent requests, for the
// race detector: each request sees one configuration or the other.
func TestSetAuthWhileServing(t *testing.T) {
	f := newFixture(t, "")
	rotated, err := config.Parse([]byte(rotatedConfig), "rotated.yml")
	if err != nil {
		t.Fatal(err)
	}
	base, err := config.Parse([]byte(baseConfig), "base.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if w := f.do("GET", "/admin", "Bearer "+adminToken, nil); w.Code != http.StatusOK && w.Code != http.StatusUnauthorized {
					t.Errorf("status %d", w.Code)
				}
			}
		})
	}
	for i := range 200 {
		f.srv.SetAuth([]config.Auth{base.Auth, rotated.Auth}[i%2])
	}
	wg.Wait()
}
