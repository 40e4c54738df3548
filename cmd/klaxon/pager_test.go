package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/klaxonhq/klaxon/acklink"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/triage"
)

// TestPagerRebuildsOnlyForNewReceivers: on-call files recorded anew under
// other names (as a replica taking over leadership records its own), or
// with other policies, leave the delivery workers running, so that no page
// in flight is cut off and sent again; new receivers rebuild them.
func TestPagerRebuildsOnlyForNewReceivers(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	pg, eng := runPager(t, zap.New(core))
	install := func(name, data string) *notify.Dispatcher {
		t.Helper()
		before := logs.FilterMessageSnippet("the delivery workers go on").Len()
		old := pg.dispatcher()
		changed, err := eng.SetOnCall(context.Background(), []oncall.File{{Name: name, Data: []byte(data)}})
		if err != nil || !changed {
			t.Fatalf("SetOnCall(%s): changed %v, %v", name, changed, err)
		}
		pg.reload()
		var got *notify.Dispatcher
		waitUntil(t, "the pager takes up "+name, func() bool {
			if d := pg.dispatcher(); d != nil && d != old {
				got = d
			} else if logs.FilterMessageSnippet("the delivery workers go on").Len() > before {
				got = old
			}
			return got != nil
		})
		return got
	}

	first := install("/etc/klaxon/n1/oncall/people.yml", goodOnCall)
	if got := install("/etc/klaxon/n2/oncall/people.yml", goodOnCall); got != first {
		t.Error("the same files under another name rebuilt the delivery workers")
	}
	if got := install("/etc/klaxon/n2/oncall/people.yml", strings.Replace(goodOnCall, "10m", "20m", 1)); got != first {
		t.Error("a new escalation step, with the same receivers, rebuilt the delivery workers")
	}
	if got := install("/etc/klaxon/n2/oncall/people.yml", strings.Replace(goodOnCall, "127.0.0.1:1/noc", "127.0.0.1:2/noc", 1)); got == first {
		t.Error("a new fallback receiver did not rebuild the delivery workers")
	}
}

// runPager runs a pager over an in-memory journal until the test ends.
func runPager(t *testing.T, log *zap.Logger) (*pager, *engine.Engine) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte("data_dir: data\nauth: {admin_open: true, ingest: {alertmanager: {open: true}, prometheus: {open: true}}}\n"), filepath.Join(dir, "klaxon.yml"))
	if err != nil {
		t.Fatal(err)
	}
	state := triage.New(nil)
	eng := engine.New(journal.NewMemory(state, nil), state, engine.Options{})
	signer, err := acklink.NewSigner([]byte(ackKey))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := newPager(cfg, eng, signer, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { eng.Run(ctx); done <- struct{}{} }()
	go func() { pg.run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return pg, eng
}

func (p *pager) dispatcher() *notify.Dispatcher {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current
}
