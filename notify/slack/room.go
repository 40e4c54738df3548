package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/klaxonhq/klaxon/triage"
)

// API is the part of Slack's Web API the worker calls; *slack.Client
// implements it.
type API interface {
	CreateConversationContext(ctx context.Context, params slack.CreateConversationParams) (*slack.Channel, error)
	GetConversationsContext(ctx context.Context, params *slack.GetConversationsParameters) ([]slack.Channel, string, error)
	SetTopicOfConversationContext(ctx context.Context, channelID, topic string) (*slack.Channel, error)
	InviteUsersToConversationContext(ctx context.Context, channelID string, users ...string) (*slack.Channel, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	SetUserCustomStatusContextWithUser(ctx context.Context, user, statusText, statusEmoji string, statusExpiration int64) error
	ArchiveConversationContext(ctx context.Context, channelID string) error
	UnArchiveConversationContext(ctx context.Context, channelID string) error
	JoinConversationContext(ctx context.Context, channelID string) (*slack.Channel, string, []string, error)
}

var _ API = (*slack.Client)(nil)

// Slack's limits on channel names and topics.
const (
	maxNameLen  = 80
	maxTopicLen = 250
	maxSuffix   = 9 // name, name-2, …, name-9
)

// TemplateData is what the channel-name and video-bridge templates see.
type TemplateData struct {
	Number   uint64
	Key      string
	Service  string
	Severity string
	Title    string
}

// ParseTemplate parses a channel-name or video-bridge template; "" parses
// to nil, for none.
func ParseTemplate(name, text string) (*template.Template, error) {
	if text == "" {
		return nil, nil
	}
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("slack: %s template: %w", name, err)
	}
	if err := t.Execute(&strings.Builder{}, TemplateData{}); err != nil {
		return nil, fmt.Errorf("slack: %s template: %w", name, err)
	}
	return t, nil
}

func render(t *template.Template, in triage.Intent) (string, error) {
	if t == nil {
		return "", nil
	}
	var b strings.Builder
	d := TemplateData{Key: in.Message.Key, Service: in.Message.Service, Severity: in.Message.Severity, Title: in.Message.Title}
	if in.Chat != nil {
		d.Number = in.Chat.Number
	}
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("%s template: %w", t.Name(), err)
	}
	return b.String(), nil
}

// ChannelName makes name fit Slack's rules for channel names: lower case
// letters, digits, hyphens and underscores, at most 80 characters, no
// leading, trailing or doubled hyphens; fallback when nothing is left.
func ChannelName(name, fallback string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if len(out) > maxNameLen {
		out = strings.TrimRight(out[:maxNameLen], "-")
	}
	if out == "" && fallback != "" {
		return ChannelName(fallback, "")
	}
	return out
}

// create creates the incident's channel. When its name is taken by a
// channel that is not archived, that channel is taken to be the room
// (created by an attempt whose report was lost); when an archived one has
// it, the next of name-2 … name-9 is tried.
func (w *Worker) create(ctx context.Context, in triage.Intent) (string, error) {
	raw, err := render(w.name, in)
	if err != nil {
		return "", err
	}
	base := ChannelName(raw, "inc-"+strconv.FormatUint(in.Chat.Number, 10))
	for i := 1; i <= maxSuffix; i++ {
		name := suffixed(base, i)
		var ch *slack.Channel
		err := w.call(ctx, func(ctx context.Context) (err error) {
			ch, err = w.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name})
			return err
		})
		var se slack.SlackErrorResponse
		if err == nil || !errors.As(err, &se) || se.Err != "name_taken" {
			if err != nil {
				return "", fmt.Errorf("create #%s: %w", name, err)
			}
			return ch.ID, nil
		}
		id, err := w.findChannel(ctx, name)
		if err != nil || id != "" {
			return id, w.join(ctx, id, err)
		}
	}
	return "", fmt.Errorf("create #%s: the name and its suffixes up to -%d are taken by archived channels", base, maxSuffix)
}

// join makes the worker a member of a channel it found (a no-op when it
// created it), so that it may post there.
func (w *Worker) join(ctx context.Context, id string, err error) error {
	if err != nil {
		return err
	}
	err = w.call(ctx, func(ctx context.Context) error {
		_, _, _, err := w.api.JoinConversationContext(ctx, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("join %s: %w", id, err)
	}
	return nil
}

func suffixed(base string, i int) string {
	if i == 1 {
		return base
	}
	s := "-" + strconv.Itoa(i)
	return strings.TrimRight(base[:min(len(base), maxNameLen-len(s))], "-") + s
}

// findChannel returns the ID of the public channel that is not archived and
// has name, or "" if there is none.
func (w *Worker) findChannel(ctx context.Context, name string) (string, error) {
	params := &slack.GetConversationsParameters{ExcludeArchived: true, Limit: 1000, Types: []string{"public_channel"}}
	for {
		var list []slack.Channel
		var next string
		err := w.call(ctx, func(ctx context.Context) (err error) {
			list, next, err = w.api.GetConversationsContext(ctx, params)
			return err
		})
		if err != nil {
			return "", fmt.Errorf("look up #%s: %w", name, err)
		}
		for _, ch := range list {
			if ch.Name == name && !ch.IsArchived {
				return ch.ID, nil
			}
		}
		if next == "" {
			return "", nil
		}
		params.Cursor = next
	}
}

// topic is what the room's topic says: key, severity, status, incident
// manager, then the links, cut to Slack's 250 characters.
func (w *Worker) topic(in triage.Intent) string {
	t := in.Chat.Topic
	if t == nil {
		t = &triage.ChatTopic{Key: in.Message.Key, Severity: in.Message.Severity, Status: in.Message.Status}
	}
	parts := []string{t.Key, t.Severity, string(t.Status)}
	if t.Manager != "" {
		parts = append(parts, "IM: "+t.Manager)
	}
	if w.opts.ExternalURL != nil {
		parts = append(parts, w.opts.ExternalURL.JoinPath("api", "v1", "incidents", t.Key).String())
	}
	if bridge, err := render(w.bridge, in); err == nil && bridge != "" {
		parts = append(parts, "bridge: "+bridge)
	}
	for _, l := range []struct{ name, url string }{{"dashboard", t.Dashboard}, {"runbook", t.Runbook}, {"status", w.opts.StatusPage}} {
		if l.url != "" {
			parts = append(parts, l.name+": "+l.url)
		}
	}
	return truncate(strings.Join(parts, " | "), maxTopicLen)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
