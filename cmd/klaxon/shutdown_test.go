package main

import (
	"context"
	"testing"
	"time"
)

func TestShutdownClock(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		cancel bool // the serve context ended (a signal) before the deadline is asked for
		want   time.Time
	}{
		{name: "signal", cancel: true, want: start.Add(30 * time.Second)},
		{name: "serving failed", want: start.Add(5*time.Second + 30*time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := newShutdownClock(ctx, 30*time.Second, func() time.Time { return now })
			defer c.close()
			if tt.cancel {
				cancel()
				waitMarked(t, c)
			}
			now = now.Add(5 * time.Second) // the HTTP server drained meanwhile
			closeCtx, cancelClose := c.context()
			defer cancelClose()
			if got, ok := closeCtx.Deadline(); !ok || !got.Equal(tt.want) {
				t.Errorf("deadline %v (set %v), want %v", got, ok, tt.want)
			}
		})
	}
}

// waitMarked waits for the AfterFunc of c to have run.
func waitMarked(t *testing.T, c *shutdownClock) {
	t.Helper()
	for range 10_000 {
		c.mu.Lock()
		marked := !c.began.IsZero()
		c.mu.Unlock()
		if marked {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the shutdown clock never saw the context end")
}
