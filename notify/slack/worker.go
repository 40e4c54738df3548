// Package slack carries out Klaxon's chat intents in Slack through its Web
// API (github.com/slack-go/slack): one channel per incident, its topic,
// members and messages, the incident manager's status, its archiving, and
// its unarchiving when the incident reopens.
//
// It is the chat lane of the outbox, beside notify's Dispatcher and apart
// from it: its own goroutine, queue (the state's chat intents) and timeouts,
// so a Slack that is slow, rate-limited or down delays only chat rooms,
// never triage or pages. Every attempt is reported as a triage.Delivery; a
// created channel's ID travels back in the delivery's Ref.
package slack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/triage"
)

// Source lists the chat intents that are ready to go; *triage.State
// implements it.
type Source interface {
	// DueChatIntents returns up to limit chat intents due at or before
	// now whose room exists (or that create it), earliest first.
	DueChatIntents(now time.Time, limit int) []triage.Intent
	// NextChatDue is when the earliest ready chat intent is due, if any.
	NextChatDue() (time.Time, bool)
}

var _ Source = (*triage.State)(nil)

// Defaults for the zero values of Options.
const (
	DefaultAPIURL        = "https://slack.com/api/"
	DefaultChannelName   = "inc-{{.Number}}-{{.Service}}"
	DefaultTimeout       = 10 * time.Second
	DefaultMaxRetryAfter = time.Minute
	DefaultBatch         = 64
	DefaultSweep         = 30 * time.Second
	maxRateLimitWaits    = 3
)

// Options configure a Worker; a zero field takes its default.
type Options struct {
	// Token is the Slack token the Web API calls carry; never logged.
	Token string
	// APIURL is the Web API's base URL (default Slack's; tests use a fake).
	APIURL string
	// ChannelName is the template of a room's name (default
	// inc-{{.Number}}-{{.Service}}), sanitized to Slack's rules.
	ChannelName string
	// VideoBridge is the template of the video-bridge link in the topic; "" for none.
	VideoBridge string
	// ExternalURL is Klaxon's own address, for the incident's link.
	ExternalURL *url.URL
	// StatusPage is the status page's address, linked in the topic; "" for none.
	StatusPage string
	// StatusEmoji goes with the incident manager's status (default :rotating_light:).
	StatusEmoji string
	// Timeout bounds each Web API call (default 10s); running out is a
	// failure worth retrying.
	Timeout time.Duration
	// MaxRetryAfter is the longest Retry-After the worker waits out within
	// an attempt (default 1m); a longer one fails the attempt, to retry.
	MaxRetryAfter time.Duration
	// Batch is how many intents a scan takes (default 64).
	Batch int
	// Sweep is the longest wait between scans, behind Wake (default 30s).
	Sweep time.Duration
	// ReportRetry is the first wait before journaling a report again after
	// the store failed (default notify.DefaultReportRetry).
	ReportRetry time.Duration
	// FinalText words the final internal message of a resolved incident
	// from the figures its room's resolution post carries (Message.Final),
	// as notify.Options.FinalText does for receivers; nil posts the status
	// change alone.
	FinalText func(triage.Intent) (title, body string, err error)
	// Clock is the time due intents are judged by (default time.Now).
	Clock func() time.Time
	// Sleep waits out a Retry-After (default: a timer, cut short by ctx).
	Sleep func(ctx context.Context, d time.Duration) error
	// HTTPClient makes the calls (default: a client without a timeout of
	// its own; Timeout bounds each call).
	HTTPClient *http.Client
	// Logger logs failed attempts, never the token (default: none).
	Logger *zap.Logger
	// Registerer takes the chat metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

func (o Options) withDefaults() Options {
	o.APIURL = cmp.Or(o.APIURL, DefaultAPIURL)
	o.ChannelName = cmp.Or(o.ChannelName, DefaultChannelName)
	o.StatusEmoji = cmp.Or(o.StatusEmoji, ":rotating_light:")
	o.Timeout = cmp.Or(o.Timeout, DefaultTimeout)
	o.MaxRetryAfter = cmp.Or(o.MaxRetryAfter, DefaultMaxRetryAfter)
	o.Batch = cmp.Or(o.Batch, DefaultBatch)
	o.Sweep = cmp.Or(o.Sweep, DefaultSweep)
	o.ReportRetry = cmp.Or(o.ReportRetry, notify.DefaultReportRetry)
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Worker carries out due chat intents one at a time, in order, and reports
// each attempt to the Recorder.
type Worker struct {
	src     Source
	rec     notify.Recorder
	api     API
	opts    Options
	name    *template.Template
	bridge  *template.Template
	wake    chan struct{}
	metrics *metrics
	// started is when this worker began (or last began running): a post
	// due before then may have gone out from a process that died before
	// journaling it.
	started time.Time
}

// New returns a worker over src that reports to rec and calls Slack with
// opts.Token. Templates that do not parse are an error here.
func New(src Source, rec notify.Recorder, opts Options) (*Worker, error) {
	if src == nil || rec == nil {
		return nil, errors.New("slack: a worker needs a source and a recorder")
	}
	opts = opts.withDefaults()
	api := slack.New(opts.Token, slack.OptionAPIURL(opts.APIURL), slack.OptionHTTPClient(opts.HTTPClient))
	return newWorker(src, rec, api, opts)
}

func newWorker(src Source, rec notify.Recorder, api API, opts Options) (*Worker, error) {
	name, err := ParseTemplate("channel_name", opts.ChannelName)
	if err != nil {
		return nil, err
	}
	bridge, err := ParseTemplate("video_bridge", opts.VideoBridge)
	if err != nil {
		return nil, err
	}
	return &Worker{src: src, rec: rec, api: api, opts: opts, name: name, bridge: bridge, wake: make(chan struct{}, 1),
		metrics: newMetrics(opts.Registerer), started: opts.Clock()}, nil
}

// Wake makes the worker look for due intents now; the engine calls it after
// applying entries. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run carries out chat intents until ctx ends. An attempt cut short by ctx
// is not reported: it is made again after a restart.
func (w *Worker) Run(ctx context.Context) {
	w.started = w.opts.Clock()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
		wait, ok := w.scan(ctx)
		if !ok {
			return
		}
		timer.Reset(wait)
	}
}

// scan carries out the due intents and returns how long to wait before the
// next scan; false means ctx ended.
func (w *Worker) scan(ctx context.Context) (time.Duration, bool) {
	now := w.opts.Clock()
	list := w.src.DueChatIntents(now, w.opts.Batch)
	for _, in := range list {
		del := w.deliver(ctx, in)
		if ctx.Err() != nil || !notify.Report(ctx, w.rec, del, w.opts.ReportRetry, w.opts.Logger) {
			return 0, false
		}
	}
	if len(list) == w.opts.Batch {
		return 0, true
	}
	next, ok := w.src.NextChatDue()
	if !ok {
		return w.opts.Sweep, true
	}
	return min(max(next.Sub(w.opts.Clock()), 0), w.opts.Sweep), true
}

// deliver makes one attempt at an intent.
func (w *Worker) deliver(ctx context.Context, in triage.Intent) triage.Delivery {
	del := triage.Delivery{Intent: in.ID, Attempt: in.Attempts + 1}
	ref, err := w.do(ctx, in)
	if err == nil {
		del.OK, del.Ref = true, ref
	} else {
		del.Error, del.Retry = err.Error(), retryable(err)
	}
	if ctx.Err() != nil {
		return del // cut short: not reported, not counted
	}
	if in.Chat != nil {
		w.metrics.attempt(string(in.Chat.Op), del.OK, del.Retry)
	}
	if !del.OK {
		w.opts.Logger.Warn("slack call failed", zap.String("intent", in.ID), zap.Int("attempt", del.Attempt),
			zap.Bool("retry", del.Retry), zap.String("error", del.Error))
	}
	return del
}

// do carries out an intent's operation; a created channel's ID is its ref.
func (w *Worker) do(ctx context.Context, in triage.Intent) (string, error) {
	c := in.Chat
	if c == nil {
		return "", errors.New("not a chat intent")
	}
	switch c.Op {
	case triage.ChatCreate:
		return w.create(ctx, in)
	case triage.ChatSetTopic:
		return "", w.call(ctx, func(ctx context.Context) error {
			_, err := w.api.SetTopicOfConversationContext(ctx, c.Channel, w.topic(in))
			return err
		})
	case triage.ChatInvite:
		return "", w.invite(ctx, c)
	case triage.ChatPost:
		return "", w.post(ctx, in)
	case triage.ChatStatusSet, triage.ChatStatusClear:
		return "", w.status(ctx, in)
	case triage.ChatArchive:
		return "", ignore(w.call(ctx, func(ctx context.Context) error {
			return w.api.ArchiveConversationContext(ctx, c.Channel)
		}), "already_archived")
	case triage.ChatUnarchive:
		return "", ignore(w.call(ctx, func(ctx context.Context) error {
			return w.api.UnArchiveConversationContext(ctx, c.Channel)
		}), "not_archived")
	}
	return "", fmt.Errorf("unknown chat operation %q", c.Op)
}

// postEventType is the metadata event type of Klaxon's posts; the payload
// names the intent, so that a post is found again rather than repeated.
const postEventType = "klaxon_intent"

// historyDepth is how many of a room's latest messages are searched for a
// post that may already have gone out.
const historyDepth = 100

// post posts a message once. chat.postMessage takes no idempotency key, so
// each post carries its intent's ID as message metadata, and a post that
// may have gone out before (an attempt failed, perhaps after Slack took
// it, or a process died before journaling it) is first looked for among
// the room's latest messages.
func (w *Worker) post(ctx context.Context, in triage.Intent) error {
	text, err := w.postText(in)
	if err != nil {
		return err
	}
	if in.Attempts > 0 || !in.Due.After(w.started) {
		posted, err := w.posted(ctx, in)
		if err != nil || posted {
			return err
		}
	}
	meta := slack.SlackMetadata{EventType: postEventType, EventPayload: map[string]any{"intent": in.ID}}
	return w.call(ctx, func(ctx context.Context) error {
		_, _, err := w.api.PostMessageContext(ctx, in.Chat.Channel, slack.MsgOptionText(text, false), slack.MsgOptionMetadata(meta))
		return err
	})
}

// posted says whether in's post is among its room's latest messages.
func (w *Worker) posted(ctx context.Context, in triage.Intent) (bool, error) {
	var res *slack.GetConversationHistoryResponse
	err := w.call(ctx, func(ctx context.Context) error {
		var err error
		res, err = w.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: in.Chat.Channel, Limit: historyDepth, IncludeAllMetadata: true})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("look for an earlier post: %w", err)
	}
	for _, m := range res.Messages {
		if m.Metadata.EventType == postEventType && m.Metadata.EventPayload["intent"] == in.ID {
			return true, nil
		}
	}
	return false, nil
}

// postText is a post's text: what triage decided, then, on the post that
// tells the incident resolved, the final internal message worded by FinalText.
func (w *Worker) postText(in triage.Intent) (string, error) {
	if in.Message.Final == nil || w.opts.FinalText == nil {
		return in.Chat.Text, nil
	}
	title, body, err := w.opts.FinalText(in)
	if err != nil {
		return "", fmt.Errorf("word the final message: %w", err)
	}
	return fmt.Sprintf("%s\n\n*%s*\n%s", in.Chat.Text, title, body), nil
}

// invite invites each user on their own, so that one who cannot be invited
// does not keep the others out; those in already, or the bot itself, are fine.
func (w *Worker) invite(ctx context.Context, c *triage.ChatIntent) error {
	var errs []error
	for _, u := range c.Users {
		err := w.call(ctx, func(ctx context.Context) error {
			_, err := w.api.InviteUsersToConversationContext(ctx, c.Channel, u)
			return err
		})
		if err = ignore(err, "already_in_channel", "cant_invite_self"); err != nil {
			errs = append(errs, fmt.Errorf("invite %s: %w", u, err))
		}
	}
	return errors.Join(errs...)
}

// status sets or clears the incident manager's status.
func (w *Worker) status(ctx context.Context, in triage.Intent) error {
	text, emoji := "", ""
	if in.Chat.Op == triage.ChatStatusSet {
		text, emoji = in.Message.Key, w.opts.StatusEmoji
	}
	var errs []error
	for _, u := range in.Chat.Users {
		err := w.call(ctx, func(ctx context.Context) error {
			return w.api.SetUserCustomStatusContextWithUser(ctx, u, text, emoji, 0)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("status of %s: %w", u, err))
		}
	}
	return errors.Join(errs...)
}

// call makes one Web API call within the timeout, waiting out rate limits
// up to MaxRetryAfter a few times.
func (w *Worker) call(ctx context.Context, fn func(ctx context.Context) error) error {
	for waits := 0; ; waits++ {
		cctx, cancel := context.WithTimeoutCause(ctx, w.opts.Timeout, fmt.Errorf("no answer from Slack within %s", w.opts.Timeout))
		err := fn(cctx)
		if err != nil && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("%w: %w", context.Cause(cctx), err)
		}
		cancel()
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || waits == maxRateLimitWaits || rl.RetryAfter > w.opts.MaxRetryAfter {
			return err
		}
		w.metrics.rateLimited.Inc()
		if err := w.opts.Sleep(ctx, rl.RetryAfter); err != nil {
			return err
		}
	}
}

// ignore treats the named Slack errors as success.
func ignore(err error, codes ...string) error {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		for _, c := range codes {
			if se.Err == c {
				return nil
			}
		}
	}
	return err
}

// retryable tells failures that may pass (rate limits, timeouts, network
// and server errors) from Slack's refusals (channel_not_found, invalid_auth).
func retryable(err error) bool {
	var se slack.SlackErrorResponse
	var sc slack.StatusCodeError
	switch {
	case errors.As(err, &se):
		switch se.Err {
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited":
			return true
		}
		return false
	case errors.As(err, &sc):
		return sc.Code >= 500 || sc.Code == http.StatusTooManyRequests
	}
	return true // rate limits, timeouts, connections refused or cut
}
