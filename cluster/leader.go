package cluster

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// barrierTimeout bounds the wait for the FSM to catch up on gaining leadership.
const barrierTimeout = time.Minute

// leadership is what raft last said about this node leading, and a channel
// closed at each change.
type leadership struct {
	mu      sync.Mutex
	leading bool
	changed chan struct{}
}

func newLeadership() *leadership {
	return &leadership{changed: make(chan struct{})}
}

// follow records raft's leadership notifications until ctx ends.
func (l *leadership) follow(ctx context.Context, notify <-chan bool) {
	for {
		select {
		case <-ctx.Done():
			return
		case leading := <-notify:
			l.mu.Lock()
			if l.leading != leading {
				l.leading = leading
				close(l.changed)
				l.changed = make(chan struct{})
			}
			l.mu.Unlock()
		}
	}
}

// state returns whether this node leads and a channel closed at the next change.
func (l *leadership) state() (bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading, l.changed
}

// RunAsLeader runs work whenever this node leads, until ctx ends: on gaining
// leadership it waits until the FSM has applied everything committed before
// (a barrier), so that work sees every pending timer and intent, then runs
// work with a context cancelled when leadership is lost; it returns once
// ctx is done and work has returned. Timers and delivery workers run here,
// so that only the leader appends them.
func (n *Node) RunAsLeader(ctx context.Context, name string, work func(context.Context)) {
	log := n.log.With(zap.String("loop", name))
	for {
		leading, changed := n.leader.state()
		var retry <-chan time.Time
		if leading {
			if err := n.raft.Barrier(barrierTimeout).Error(); err != nil {
				log.Warn("leader could not catch up its state; retrying", zap.Error(err))
				retry = time.After(time.Second)
			} else {
				n.lead(ctx, changed, log, work)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-retry:
		}
	}
}

// lead runs work until ctx ends or leadership changes.
func (n *Node) lead(ctx context.Context, changed <-chan struct{}, log *zap.Logger, work func(context.Context)) {
	workCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		work(workCtx)
	}()
	log.Info("leading: started")
	select {
	case <-ctx.Done():
	case <-changed:
	}
	cancel()
	<-done
	log.Info("leading: stopped")
}
