package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
)

// net/http writes an answer through a 4 KiB buffer on the connection, so an
// answer larger than that (the status page is 7 KB and more) leaves in two
// write system calls, and the client wakes up twice to read it. On
// loopback, where the status page is compared with nginx, those calls were
// most of the CPU a page cost. A gatherConn lets the direct route gather
// the writes of one answer and send them in one call.

// maxGather bounds what one answer gathers: a larger answer is sent as it
// comes, as net/http would send it.
const maxGather = 64 << 10

// gatherBufs holds the buffers answers are gathered in, between answers.
var gatherBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// gatherListener hands out gatherConns.
type gatherListener struct{ net.Listener }

func (l gatherListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &gatherConn{Conn: c}, nil
}

// gatherConn is a connection that can hold back the writes of one answer
// and send them at once. net/http writes a connection from the goroutine
// serving it, one answer at a time, so it needs no lock.
type gatherConn struct {
	net.Conn
	buf *[]byte // the answer gathered so far, nil when not gathering
}

// Write gathers p while an answer is gathered and would stay under
// maxGather; otherwise it sends what was gathered and p as they come.
func (c *gatherConn) Write(p []byte) (int, error) {
	if c.buf == nil {
		return c.Conn.Write(p)
	}
	if len(*c.buf)+len(p) <= maxGather {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	if err := c.send(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// CloseWrite shuts the sending side, as net/http does before it closes a
// connection whose request it did not read to the end (a body over its
// limit), so that the client reads the answer rather than a reset.
func (c *gatherConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the connection's fast copying (sendfile, splice) for
// answers copied from a file, after what was gathered.
func (c *gatherConn) ReadFrom(r io.Reader) (int64, error) {
	if err := c.send(); err != nil {
		return 0, err
	}
	return io.Copy(c.Conn, r)
}

// gather starts holding back writes.
func (c *gatherConn) gather() { c.buf = gatherBufs.Get().(*[]byte) }

// send writes what was gathered in one call and stops gathering.
func (c *gatherConn) send() error {
	buf := c.buf
	if buf == nil {
		return nil
	}
	c.buf = nil
	defer func() { *buf = (*buf)[:0]; gatherBufs.Put(buf) }()
	if len(*buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(*buf)
	return err
}

// connKey is the context key of the gatherConn a request came in on.
type connKey struct{}

// withConn is http.Server's ConnContext: it makes a gatherConn reachable
// from its requests.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if gc, ok := c.(*gatherConn); ok {
		return context.WithValue(ctx, connKey{}, gc)
	}
	return ctx
}

// serveWhole serves r with h and sends h's answer in one write when it can:
// when it came in on a gatherConn and h set the answer's length (without
// one, flushing early would make net/http send it chunked instead). Only
// GET and HEAD without Expect are gathered: h must answer at once, and a
// "100 Continue" held back would leave the client waiting for it.
func serveWhole(h http.Handler, w http.ResponseWriter, r *http.Request) {
	c, ok := r.Context().Value(connKey{}).(*gatherConn)
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.Header.Get("Expect") != "" {
		h.ServeHTTP(w, r)
		return
	}
	c.gather()
	defer func() {
		if err := c.send(); err != nil {
			_ = c.Conn.Close() // net/http reads the next request from it and sees it is gone
		}
	}()
	h.ServeHTTP(w, r)
	if w.Header().Get("Content-Length") != "" {
		_ = http.NewResponseController(w).Flush() // net/http's buffers into the gathered answer
	}
}
