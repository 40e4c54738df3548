// Package netproxy is a TCP proxy for tests: each Link listens on a loopback
// port and forwards every connection to one target, and a test can cut the
// link (closing its live connections), heal it, or delay what crosses it.
//
// The end-to-end tests put one Link on every directed path between cluster
// nodes, so that cutting a node's links partitions it from the others while
// its HTTP API stays reachable.
package netproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// chunkSize is the most one read forwards at a time.
const chunkSize = 32 << 10

// Link forwards connections accepted on its own address to its target.
type Link struct {
	target string
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	cut   bool
	delay time.Duration
	conns map[net.Conn]struct{}
	// accepted counts connections ever forwarded (for tests and logs).
	accepted int
}

// Listen starts a link on 127.0.0.1 (a free port) forwarding to target; its
// goroutines end when ctx is done or Close is called.
func Listen(ctx context.Context, target string) (*Link, error) {
	return ListenOn(ctx, "127.0.0.1:0", target)
}

// ListenOn starts a link on addr forwarding to target.
func ListenOn(ctx context.Context, addr, target string) (*Link, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("netproxy: listening on %s for %s: %w", addr, target, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Link{target: target, ln: ln, cancel: cancel, conns: map[net.Conn]struct{}{}}
	l.wg.Add(2)
	go func() {
		defer l.wg.Done()
		<-ctx.Done()
		ln.Close()
		l.closeConns()
	}()
	go func() {
		defer l.wg.Done()
		l.acceptLoop(ctx)
	}()
	return l, nil
}

// Addr is the address clients dial to reach the target through the link.
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Target is the address the link forwards to.
func (l *Link) Target() string { return l.target }

// Cut closes every live connection and refuses new ones until Heal.
func (l *Link) Cut() {
	l.mu.Lock()
	l.cut = true
	l.mu.Unlock()
	l.closeConns()
}

// Heal lets connections through again.
func (l *Link) Heal() {
	l.mu.Lock()
	l.cut = false
	l.mu.Unlock()
}

// IsCut reports whether the link is cut.
func (l *Link) IsCut() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cut
}

// Delay holds every byte that crosses the link, either way, for d before
// passing it on (0 removes the delay); it applies to data read from now on.
func (l *Link) Delay(d time.Duration) {
	l.mu.Lock()
	l.delay = d
	l.mu.Unlock()
}

// Accepted is how many connections the link has forwarded so far.
func (l *Link) Accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted
}

// Close stops the link and waits for its goroutines.
func (l *Link) Close() {
	l.cancel()
	l.wg.Wait()
}

func (l *Link) currentDelay() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.delay
}

func (l *Link) acceptLoop(ctx context.Context) {
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			return // closed by Close or ctx
		}
		if !l.track(conn) {
			conn.Close()
			continue
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.forward(ctx, conn)
		}()
	}
}

// track registers conn unless the link is cut.
func (l *Link) track(conn net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut {
		return false
	}
	l.conns[conn] = struct{}{}
	l.accepted++
	return true
}

// trackUpstream registers the dialled side; false if the link was cut
// meanwhile.
func (l *Link) trackUpstream(client, up net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, live := l.conns[client]; !live || l.cut {
		return false
	}
	l.conns[up] = struct{}{}
	return true
}

func (l *Link) untrack(conns ...net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range conns {
		delete(l.conns, c)
	}
}

func (l *Link) closeConns() {
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	clear(l.conns)
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// forward copies both ways between client and a new connection to the
// target until either side ends or the link is cut.
func (l *Link) forward(ctx context.Context, client net.Conn) {
	defer client.Close()
	var d net.Dialer
	up, err := d.DialContext(ctx, "tcp", l.target)
	if err != nil {
		l.untrack(client)
		return
	}
	defer up.Close()
	if !l.trackUpstream(client, up) {
		l.untrack(client)
		return
	}
	defer l.untrack(client, up)
	done := make(chan bool, 2)
	go func() { done <- l.pipe(up, client) }()
	go func() { done <- l.pipe(client, up) }()
	for range 2 {
		if clean := <-done; !clean {
			// A cut or reset: end both directions, as a broken path would.
			client.Close()
			up.Close()
		}
	}
}

// chunk is bytes read from one side, due to be written at due.
type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, holding each chunk for the link's delay; it
// reports whether src ended with a clean EOF (then dst's write side is
// closed, and the other direction may go on).
func (l *Link) pipe(dst, src net.Conn) (clean bool) {
	queue := make(chan chunk, 64)
	writeErr := make(chan struct{})
	go func() {
		defer close(writeErr)
		for c := range queue {
			if wait := time.Until(c.due); wait > 0 {
				time.Sleep(wait)
			}
			if _, err := dst.Write(c.data); err != nil {
				return
			}
		}
	}()
	defer func() {
		close(queue)
		<-writeErr
		if clean {
			if tc, ok := dst.(*net.TCPConn); ok {
				clean = tc.CloseWrite() == nil
			}
		}
	}()
	for {
		buf := make([]byte, chunkSize)
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case queue <- chunk{data: buf[:n], due: time.Now().Add(l.currentDelay())}:
			case <-writeErr:
				return false
			}
		}
		if err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}
