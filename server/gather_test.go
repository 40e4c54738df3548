package server

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
)

// countingListener counts the writes made to the connections it accepts.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, &l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// pageOf is a body of n bytes that shows where it was cut or reordered.
func pageOf(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(' ')
	}
	return b.Bytes()[:n]
}

// TestDirectAnswerLeavesInOneWrite: a direct answer larger than net/http's
// connection buffer leaves in one write, where the same answer through the
// router takes two; every answer arrives whole on one kept-alive
// connection, whatever its size, method or status, with or without a
// length, and only GET and HEAD are gathered.
func TestDirectAnswerLeavesInOneWrite(t *testing.T) {
	page, huge := pageOf(7237), pageOf(3*maxGather)
	withLength := func(body []byte) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		}
	}
	answers := map[string]func(http.ResponseWriter){
		"/status/page":      withLength(page),
		"/status/huge":      withLength(huge),
		"/status/chunked":   func(w http.ResponseWriter) { _, _ = w.Write(page) },
		"/status/not-found": func(w http.ResponseWriter) { http.Error(w, "not found", http.StatusNotFound) },
	}
	f := newFixture(t, "")
	f.srv.Direct("/status", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answers[r.URL.Path](w) }))
	f.srv.Engine().GET("/routed", func(c *gin.Context) { withLength(page)(c.Writer) })
	ln := &countingListener{Listener: listen(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := serve(ctx, f.srv, ln)
	defer func() { cancel(); <-done }()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, DisableCompression: true}}
	defer client.CloseIdleConnections()
	base := "http://" + ln.Addr().String()

	requests := 0
	get := func(method, path string) (int, []byte, int64) {
		t.Helper()
		before := ln.writes.Load()
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), method, base+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if requests++; requests > 1 && !reused {
			t.Errorf("%s %s: on a new connection, want the kept-alive one", method, path)
		}
		return resp.StatusCode, body, ln.writes.Load() - before
	}
	for _, tt := range []struct {
		method, path string
		code         int
		body         []byte
		minWrites    int64
		maxWrites    int64
	}{
		{"GET", "/status/page", 200, page, 1, 1},
		{"GET", "/status/page", 200, page, 1, 1},
		{"HEAD", "/status/page", 200, nil, 1, 1},
		{"GET", "/status/not-found", 404, []byte("not found\n"), 1, 1},
		{"GET", "/status/chunked", 200, page, 1, 3},
		{"GET", "/status/huge", 200, huge, 2, 16},
		{"POST", "/status/page", 200, page, 2, 2}, // not gathered: only GET and HEAD are
		{"GET", "/status/page", 200, page, 1, 1},
	} {
		code, body, writes := get(tt.method, tt.path)
		if code != tt.code || !bytes.Equal(body, tt.body) {
			t.Errorf("%s %s: %d with %d bytes, want %d with %d", tt.method, tt.path, code, len(body), tt.code, len(tt.body))
		}
		if writes < tt.minWrites || writes > tt.maxWrites {
			t.Errorf("%s %s: %d writes, want %d to %d", tt.method, tt.path, writes, tt.minWrites, tt.maxWrites)
		}
	}
	// The control: through the router, net/http writes the page in two.
	if code, body, writes := get("GET", "/routed"); code != 200 || !bytes.Equal(body, page) || writes < 2 {
		t.Errorf("GET /routed: %d with %d bytes in %d writes, want 200 with %d in two or more", code, len(body), writes, len(page))
	}
}
