package main

import (
	"context"
	"sync"
	"time"
)

// shutdownClock notes when a serve context ends, so that every step of the
// shutdown after it shares one server.shutdown_timeout.
type shutdownClock struct {
	timeout time.Duration
	now     func() time.Time
	mu      sync.Mutex
	began   time.Time // zero until ctx ends
	stop    func() bool
}

// newShutdownClock starts watching ctx; release it with close.
func newShutdownClock(ctx context.Context, timeout time.Duration, now func() time.Time) *shutdownClock {
	c := &shutdownClock{timeout: timeout, now: now}
	c.stop = context.AfterFunc(ctx, c.mark)
	return c
}

// mark records the start of the shutdown, once.
func (c *shutdownClock) mark() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.began.IsZero() {
		c.began = c.now()
	}
}

// context returns a context that ends timeout after the shutdown began
// (after now, if the serve context has not ended: serving failed).
func (c *shutdownClock) context() (context.Context, context.CancelFunc) {
	c.mark()
	c.mu.Lock()
	defer c.mu.Unlock()
	return context.WithDeadline(context.Background(), c.began.Add(c.timeout))
}

// close stops watching the serve context.
func (c *shutdownClock) close() { c.stop() }
