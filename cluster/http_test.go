package cluster

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
)

// apiCluster is a test cluster whose nodes each serve HTTP: POST /append
// appends the body and answers the node that appended it and the
// Authorization it saw; GET StatusPath answers the node's status.
type apiCluster struct {
	*testCluster
	urls []string
}

func newAPICluster(t *testing.T) *apiCluster {
	gin.SetMode(gin.ReleaseMode)
	handlers := make([]atomic.Pointer[http.Handler], 3)
	var urls []string
	for i := range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			(*handlers[i].Load()).ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	c := newTestCluster(t, 3, func(o *Options) {
		for k := range o.Peers {
			o.Peers[k].APIURL = urls[k]
		}
	})
	for i, n := range c.nodes {
		e := gin.New()
		e.Use(NewForwarder(n, nil).Handle)
		e.GET(StatusPath, n.StatusHandler)
		e.POST("/append", func(c *gin.Context) {
			body, _ := io.ReadAll(c.Request.Body)
			if _, _, err := n.Append(c.Request.Context(), body, nil); err != nil {
				c.String(http.StatusServiceUnavailable, err.Error())
				return
			}
			c.String(http.StatusOK, n.NodeID()+" "+c.GetHeader("Authorization"))
		})
		var h http.Handler = e
		handlers[i].Store(&h)
	}
	return &apiCluster{testCluster: c, urls: urls}
}

func post(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("payload"))
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestForwarding(t *testing.T) {
	c := newAPICluster(t)
	l := c.leader()
	f := (l + 1) % 3
	leaderID := c.peers[l].ID
	for _, tc := range []struct {
		name       string
		node       int
		header     http.Header
		wantStatus int
		wantBody   string
	}{
		{"leader appends", l, http.Header{"Authorization": {"Bearer t"}}, 200, leaderID + " Bearer t"},
		{"follower forwards with credentials", f, http.Header{"Authorization": {"Bearer t"}}, 200, leaderID + " Bearer t"},
		{"a forwarded request is not forwarded again", f, http.Header{ForwardedHeader: {"n9"}}, 503, "this node does not lead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, c.urls[tc.node]+"/append", tc.header)
			if resp.StatusCode != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Errorf("%d %q, want %d with %q", resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
		})
	}
	resp, err := http.Get(c.urls[f] + StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st.Node != c.peers[f].ID || st.State != "follower" || st.Leader != leaderID || len(st.Peers) != 3 {
		t.Errorf("a follower's status: %+v", st)
	}
}

func TestNoLeaderAnswers503(t *testing.T) {
	c := newAPICluster(t)
	l := c.leader()
	f := (l + 1) % 3
	c.isolate(f)
	until(t, "the cut-off follower to lose its leader", func() bool { id, _ := c.nodes[f].Leader(); return id == "" })
	resp, body := post(t, c.urls[f]+"/append", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "no leader") {
		t.Errorf("cut-off follower answered %d %q (Retry-After %q), want 503 no leader with Retry-After",
			resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	if err := c.nodes[f].Ready(); err == nil || !strings.Contains(err.Error(), "no ") {
		t.Errorf("cut-off follower readiness: %v", err)
	}
}
