package netproxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// ioTimeout bounds every read and write of the tests, so that a broken
// proxy fails a test instead of hanging it.
const ioTimeout = 30 * time.Second

// echoServer answers every line with the same line, upper-cased, and
// closes its write side when the client closes its own.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						conn.(*net.TCPConn).CloseWrite()
						return
					}
					if _, err := io.WriteString(conn, strings.ToUpper(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func newLink(t *testing.T) *Link {
	t.Helper()
	l, err := Listen(context.Background(), echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// client is one connection through a link.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dialling %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// roundTrip sends line and returns the answer, or the error that ended it.
func (c *client) roundTrip(line string) (string, error) {
	c.conn.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.conn, line+"\n"); err != nil {
		return "", err
	}
	got, err := c.r.ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

func (c *client) mustRoundTrip(line string) {
	c.t.Helper()
	got, err := c.roundTrip(line)
	if err != nil {
		c.t.Fatalf("round trip of %q: %v", line, err)
	}
	if want := strings.ToUpper(line); got != want {
		c.t.Fatalf("round trip of %q: got %q, want %q", line, got, want)
	}
}

// closed reports whether the connection was ended by the other side.
func (c *client) closed() error {
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	_, err := c.r.ReadByte()
	if err == nil {
		return errors.New("read a byte from a connection that should be closed")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("connection still open after the timeout")
	}
	return nil
}

func TestLinkForwards(t *testing.T) {
	l := newLink(t)
	c := dial(t, l.Addr())
	for _, line := range []string{"one", "two", strings.Repeat("x", 3*chunkSize)} {
		c.mustRoundTrip(line)
	}
	if got := l.Accepted(); got != 1 {
		t.Errorf("Accepted() = %d, want 1", got)
	}
}

func TestLinkHalfClose(t *testing.T) {
	l := newLink(t)
	c := dial(t, l.Addr())
	io.WriteString(c.conn, "last\n")
	if err := c.conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	c.conn.SetDeadline(time.Now().Add(ioTimeout))
	got, err := io.ReadAll(c.r)
	if err != nil || string(got) != "LAST\n" {
		t.Fatalf("after closing the write side: read %q, %v; want %q and EOF", got, err, "LAST\n")
	}
}

func TestLinkCutAndHeal(t *testing.T) {
	tests := []struct {
		name string
		// act is what happens to the link between the two connections.
		act        func(*Link)
		liveClosed bool // the first connection is ended
		newWorks   bool // a new connection gets through
	}{
		{name: "untouched", act: func(*Link) {}, liveClosed: false, newWorks: true},
		{name: "cut", act: (*Link).Cut, liveClosed: true, newWorks: false},
		{name: "cut then heal", act: func(l *Link) { l.Cut(); l.Heal() }, liveClosed: true, newWorks: true},
		{name: "heal alone", act: (*Link).Heal, liveClosed: false, newWorks: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLink(t)
			first := dial(t, l.Addr())
			first.mustRoundTrip("before")
			tt.act(l)
			if tt.liveClosed {
				if err := first.closed(); err != nil {
					t.Errorf("live connection after %s: %v", tt.name, err)
				}
			} else {
				first.mustRoundTrip("after")
			}
			second := dial(t, l.Addr()) // the listener accepts even when cut
			if tt.newWorks {
				second.mustRoundTrip("new")
			} else if _, err := second.roundTrip("new"); err == nil {
				t.Errorf("a new connection got an answer through a cut link")
			}
			if got, want := l.IsCut(), !tt.newWorks; got != want {
				t.Errorf("IsCut() = %v, want %v", got, want)
			}
		})
	}
}

func TestLinkDelay(t *testing.T) {
	tests := []struct {
		name  string
		delay time.Duration
	}{
		{"none", 0},
		{"100ms", 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLink(t)
			l.Delay(tt.delay)
			c := dial(t, l.Addr())
			start := time.Now()
			c.mustRoundTrip("slow")
			// A lower bound only: both directions are held, so a round
			// trip takes at least twice the delay however loaded the
			// machine is.
			if took := time.Since(start); took < 2*tt.delay {
				t.Errorf("round trip took %s with a delay of %s each way", took, tt.delay)
			}
		})
	}
}

func TestLinkCloseEndsConnections(t *testing.T) {
	l, err := Listen(context.Background(), echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, l.Addr())
	c.mustRoundTrip("hello")
	l.Close()
	if err := c.closed(); err != nil {
		t.Errorf("after Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", l.Addr(), ioTimeout); err == nil {
		t.Errorf("dial after Close succeeded")
	}
}

func TestLinkContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l, err := Listen(ctx, echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, l.Addr())
	c.mustRoundTrip("hello")
	cancel()
	l.wg.Wait()
	if err := c.closed(); err != nil {
		t.Errorf("after the context ended: %v", err)
	}
}

func TestListenOnBadAddress(t *testing.T) {
	if _, err := ListenOn(context.Background(), "127.0.0.1:-1", "127.0.0.1:1"); err == nil {
		t.Fatal("ListenOn with a bad port: no error")
	}
}

func TestLinkUnreachableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close() // nothing listens there now
	l, err := Listen(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	c := dial(t, l.Addr())
	if err := c.closed(); err != nil {
		t.Errorf("connection to an unreachable target: %v", err)
	}
}
