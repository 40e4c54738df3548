package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/notify/slack"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/triage"
)

// chatRooms is the chat settings this node's configuration asks for, and
// the Slack worker that opens and keeps the rooms (nil when rooms are off).
// The token goes to the worker only: it is never journaled or logged.
type chatRooms struct {
	eng      *engine.Engine
	settings *triage.ChatSettings // nil: rooms off
	worker   *slack.Worker
	log      *zap.Logger
}

// newChat checks the chat settings and builds the Slack worker, journaling
// nothing: install does, and on a replica only the leader may.
func newChat(cfg *config.Config, eng *engine.Engine, log *zap.Logger, reg prometheus.Registerer) (*chatRooms, error) {
	c := &chatRooms{eng: eng, log: log}
	sc := cfg.Chat.Slack
	if !sc.Rooms {
		return c, nil
	}
	if err := checkChatSeverity(cfg, eng.State().Rules()); err != nil {
		return nil, err
	}
	c.settings = &triage.ChatSettings{MinSeverity: sc.MinSeverity, ArchiveAfter: sc.ArchiveAfterResolve}
	external, err := url.Parse(cfg.ExternalURL)
	if err != nil {
		return nil, fmt.Errorf("external_url: %w", err)
	}
	statusPage := ""
	if cfg.StatusPage.Enabled {
		statusPage = cmpOr(cfg.StatusPage.URL, cfg.ExternalURL+"/status")
	}
	final, err := finalRenderer(cfg)
	if err != nil {
		return nil, err
	}
	c.worker, err = slack.New(eng.State(), eng, slack.Options{
		Token: sc.Token.Reveal(), APIURL: sc.APIURL, ChannelName: sc.ChannelName, VideoBridge: sc.VideoBridge,
		ExternalURL: external, StatusPage: statusPage, Timeout: sc.Timeout, Logger: log, Registerer: reg, FinalText: final.Intent,
	})
	if err != nil {
		return nil, fmt.Errorf("chat.slack: %w", err)
	}
	eng.OnApplied(c.worker.Wake)
	log.Info("chat rooms in Slack", zap.String("min_severity", sc.MinSeverity), zap.String("api_url", sc.APIURL))
	return c, nil
}

// install journals the chat settings (or that rooms are off) unless they
// are in force already.
func (c *chatRooms) install(ctx context.Context) error {
	if _, err := c.eng.SetChat(ctx, c.settings); err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	return nil
}

// installRetry is how long run waits before installing the settings again.
const installRetry = time.Second

// run installs the settings, trying again while the store refuses them,
// then runs the worker until ctx ends; a replica runs it while it leads.
func (c *chatRooms) run(ctx context.Context) {
	for {
		err := c.install(ctx)
		if err == nil {
			break
		}
		c.log.Warn("the chat settings did not install; trying again", zap.Duration("wait", installRetry), zap.Error(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(installRetry):
		}
	}
	if c.worker != nil {
		c.worker.Run(ctx)
	}
}

// checkChatSeverity checks that chat.slack.min_severity names a severity
// level of rs, for serve and klaxon check config.
func checkChatSeverity(cfg *config.Config, rs *rules.Set) error {
	sc := cfg.Chat.Slack
	if _, ok := rs.Level(sc.MinSeverity); sc.Rooms && !ok {
		return fmt.Errorf("chat.slack.min_severity: %q is not a severity level of the rules in force", sc.MinSeverity)
	}
	return nil
}
