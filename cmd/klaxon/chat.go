package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/notify/slack"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/triage"
)

// startChat journals the chat settings (or that chat rooms are off) and
// returns the Slack worker to run, nil when chat rooms are off. The token
// goes to the worker only: it is never journaled or logged.
func startChat(ctx context.Context, cfg *config.Config, eng *engine.Engine, log *zap.Logger, reg prometheus.Registerer) (*slack.Worker, error) {
	sc := cfg.Chat.Slack
	if !sc.Rooms {
		if _, err := eng.SetChat(ctx, nil); err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
		return nil, nil
	}
	if err := checkChatSeverity(cfg, eng.State().Rules()); err != nil {
		return nil, err
	}
	settings := &triage.ChatSettings{MinSeverity: sc.MinSeverity, ArchiveAfter: sc.ArchiveAfterResolve}
	if _, err := eng.SetChat(ctx, settings); err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
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
	w, err := slack.New(eng.State(), eng, slack.Options{
		Token: sc.Token.Reveal(), APIURL: sc.APIURL, ChannelName: sc.ChannelName, VideoBridge: sc.VideoBridge,
		ExternalURL: external, StatusPage: statusPage, Timeout: sc.Timeout, Logger: log, Registerer: reg, FinalText: final.Intent,
	})
	if err != nil {
		return nil, fmt.Errorf("chat.slack: %w", err)
	}
	eng.OnApplied(w.Wake)
	log.Info("chat rooms in Slack", zap.String("min_severity", sc.MinSeverity), zap.String("api_url", sc.APIURL))
	return w, nil
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
