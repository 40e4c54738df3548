package ingest

import (
	"cmp"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// Mentions become signals of kind mention, firing, with the post's text as
// Text (public posts, but still personal data: the author is a person) and
// its author's followers as Reach. A post delivered twice has one
// Fingerprint (see identity over source, platform and post id).
//
// Reposts (a Mastodon boost, an X retweet) are not new reports: their
// signal has its own Fingerprint (so that a re-delivered repost is one), the
// reposter's followers as Reach, and RepostOf set to the Fingerprint the
// original post's mention has or would have. Triage should add the repost's
// Reach to the mention with that Fingerprint rather than count a mention,
// and, if no such mention is known yet, count the repost as the first
// report of the original.

// GenericMention is the documented body of POST /ingest/mentions/generic.
// id and platform are required.
type GenericMention struct {
	ID       flexID  `json:"id"`
	Platform string  `json:"platform"`
	Author   string  `json:"author"`
	Text     string  `json:"text"`
	URL      string  `json:"url"`
	PostedAt isoTime `json:"posted_at"`
	// Reach is how many people the post reached; Followers, the author's
	// follower count, is used when Reach is not given.
	Reach     *int64 `json:"reach"`
	Followers *int64 `json:"followers"`
	// RepostOf is the id, on the same platform, of the post this one
	// reposts; empty for an original post.
	RepostOf flexID `json:"repost_of"`
}

// ParseMentionGeneric parses one mention in Klaxon's generic shape
// (GenericMention) into a signal from signal.SourceMentionsGeneric.
func ParseMentionGeneric(body []byte, now time.Time, lim Limits) ([]signal.Signal, error) {
	var m GenericMention
	if err := decodeObject(body, &m); err != nil {
		return nil, err
	}
	b := newBuilder(lim, signal.SourceMentionsGeneric, signal.KindMention, now)
	if m.Platform == "" {
		b.fail("platform", "must not be empty")
	}
	platform := strings.ToLower(m.Platform)
	b.label("platform", labelPlatform, platform)
	b.id("id", platform, string(m.ID))
	b.annotation("author", annotationAuthor, m.Author)
	b.text(m.Text)
	b.link("url", m.URL)
	b.startsAt("posted_at", m.PostedAt)
	if m.Reach != nil {
		b.reach("reach", *m.Reach)
	} else if m.Followers != nil {
		b.reach("followers", *m.Followers)
	}
	b.repostOf("repost_of", platform, string(m.RepostOf))
	return b.done()
}

// reach sets the signal's Reach from field, which must not be negative.
func (b *builder) reach(field string, n int64) {
	if n < 0 {
		b.fail(field, fmt.Sprintf("must not be negative, got %d", n))
		return
	}
	b.report.Reach = n
}

// repostOf sets RepostOf to the identity of the post with id on platform,
// if id is set.
func (b *builder) repostOf(field, platform, id string) {
	if id == "" {
		return
	}
	if b.tooLong(field, id, b.lim.MaxLabelBytes) {
		return
	}
	b.report.RepostOf = identity(b.sig.Source, platform, id)
}

// mastodonEvent is a Mastodon webhook body.
type mastodonEvent struct {
	Event     string          `json:"event"`
	CreatedAt isoTime         `json:"created_at"`
	Object    *mastodonStatus `json:"object"`
}

// mastodonStatus is a Mastodon Status entity.
type mastodonStatus struct {
	ID         flexID  `json:"id"`
	Visibility string  `json:"visibility"`
	URI        string  `json:"uri"`
	URL        string  `json:"url"`
	CreatedAt  isoTime `json:"created_at"`
	Content    string  `json:"content"` // HTML
	Language   string  `json:"language"`
	Account    struct {
		Acct           string `json:"acct"`
		DisplayName    string `json:"display_name"`
		FollowersCount int64  `json:"followers_count"`
	} `json:"account"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Reblog *mastodonStatus `json:"reblog"`
}

// key is the status's identity on the fediverse: its ActivityPub URI,
// which is the same on every server, or its local id if it has none.
func (s *mastodonStatus) key() string {
	if s.URI != "" {
		return s.URI
	}
	return string(s.ID)
}

// ParseMastodon parses a Mastodon status.created (or status.updated: an
// edit, same identity) webhook into a signal from signal.SourceMastodon.
// The identity is the status's URI, so a post seen through two servers'
// webhooks is one mention; a boost has RepostOf set to the boosted post's
// identity and carries its text. Text is the content with HTML removed.
// Labels: platform (mastodon), lang, tags (hashtags).
//
// A server's webhook sees followers-only and direct statuses too: those
// (visibility "private" or "direct") are not public mentions, and are
// accepted with no signal at all (an empty, non-nil slice), so that the
// handler answers 2xx, stores nothing and Mastodon does not retry.
func ParseMastodon(body []byte, now time.Time, lim Limits) ([]signal.Signal, error) {
	var e mastodonEvent
	if err := decodeObject(body, &e); err != nil {
		return nil, err
	}
	if e.Event != "status.created" && e.Event != "status.updated" {
		return nil, &Error{Field: "event", Msg: `must be "status.created" or "status.updated", got ` + quote(e.Event)}
	}
	if e.Object == nil {
		return nil, &Error{Field: "object", Msg: "must be a status"}
	}
	s := e.Object
	if s.Visibility == "private" || s.Visibility == "direct" {
		return []signal.Signal{}, nil
	}
	b := newBuilder(lim, signal.SourceMastodon, signal.KindMention, now)
	b.label("event", labelPlatform, "mastodon")
	b.id("object.uri", "", s.key())
	b.annotation("object.account.acct", annotationAuthor, s.Account.Acct)
	b.annotation("object.account.display_name", annotationAuthorName, s.Account.DisplayName)
	b.reach("object.account.followers_count", s.Account.FollowersCount)
	link, linkField := s.URL, "object.url"
	if link == "" && s.Reblog != nil {
		link, linkField = s.Reblog.URL, "object.reblog.url"
	}
	b.link(linkField, link)
	b.startsAt("created_at", e.CreatedAt)
	b.startsAt("object.created_at", s.CreatedAt)
	content, lang, tags, path := s.Content, s.Language, s.Tags, "object.tags"
	if r := s.Reblog; r != nil {
		b.repostOf("object.reblog.uri", "", r.key())
		content, lang, tags, path = r.Content, r.Language, r.Tags, "object.reblog.tags"
	}
	b.label("object.language", labelLang, lang)
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = strings.ToLower(t.Name)
	}
	b.tags(path, names)
	b.text(htmlText(content))
	return b.done()
}

// htmlText turns a post's HTML into plain text: tags removed (those that
// break lines, such as p and br, become a space), entities decoded, spaces
// collapsed.
func htmlText(s string) string {
	var out strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			out.WriteString(s)
			break
		}
		out.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break // an unclosed tag: drop it
		}
		if breaksLine(s[i+1 : i+j]) {
			out.WriteByte(' ')
		}
		s = s[i+j+1:]
	}
	return strings.Join(strings.Fields(html.UnescapeString(out.String())), " ")
}

// breaksLine reports whether the HTML tag (the text between < and >)
// starts or ends a line.
func breaksLine(tag string) bool {
	name := strings.TrimPrefix(tag, "/")
	if k := strings.IndexAny(name, " \t\n/"); k >= 0 {
		name = name[:k]
	}
	switch strings.ToLower(name) {
	case "p", "br", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6":
		return true
	}
	return false
}

// xPost is an X API v2 post as the filtered stream delivers it, with the
// author expansion when requested.
type xPost struct {
	Data *struct {
		ID               flexID  `json:"id"`
		Text             string  `json:"text"`
		AuthorID         flexID  `json:"author_id"`
		CreatedAt        isoTime `json:"created_at"`
		Lang             string  `json:"lang"`
		ReferencedTweets []struct {
			Type string `json:"type"`
			ID   flexID `json:"id"`
		} `json:"referenced_tweets"`
	} `json:"data"`
	Includes struct {
		Users []struct {
			ID            flexID `json:"id"`
			Username      string `json:"username"`
			Name          string `json:"name"`
			PublicMetrics struct {
				FollowersCount int64 `json:"followers_count"`
			} `json:"public_metrics"`
		} `json:"users"`
	} `json:"includes"`
	MatchingRules []struct {
		ID  flexID `json:"id"`
		Tag string `json:"tag"`
	} `json:"matching_rules"`
}

// ParseX parses one X API v2 filtered-stream post (data with id, text,
// author_id, created_at; matching_rules; includes.users when the author
// expansion was requested) into a signal from signal.SourceX. Reach is the
// author's followers_count from includes.users (0 without the expansion);
// a retweet (referenced_tweets type "retweeted") has RepostOf set to the
// retweeted post's identity. Labels: platform (x), lang, rule (the matching
// rules' tags, or ids when untagged, sorted and comma-separated).
func ParseX(body []byte, now time.Time, lim Limits) ([]signal.Signal, error) {
	var p xPost
	if err := decodeObject(body, &p); err != nil {
		return nil, err
	}
	if p.Data == nil {
		return nil, &Error{Field: "data", Msg: "must be a post"}
	}
	d := p.Data
	b := newBuilder(lim, signal.SourceX, signal.KindMention, now)
	b.label("data", labelPlatform, "x")
	b.id("data.id", "", string(d.ID))
	b.label("data.lang", labelLang, d.Lang)
	b.text(d.Text)
	b.startsAt("data.created_at", d.CreatedAt)
	rules := make([]string, 0, len(p.MatchingRules))
	for _, r := range p.MatchingRules {
		rules = append(rules, cmp.Or(r.Tag, string(r.ID)))
	}
	slices.Sort(rules)
	b.label("matching_rules", labelRule, strings.Join(slices.Compact(rules), ","))
	b.annotation("data.author_id", annotationAuthor, string(d.AuthorID))
	link := "https://x.com/i/web/status/" + string(d.ID)
	for _, u := range p.Includes.Users {
		if u.ID == d.AuthorID && u.ID != "" {
			b.annotation("includes.users.username", annotationAuthor, u.Username)
			b.annotation("includes.users.name", annotationAuthorName, u.Name)
			b.reach("includes.users.public_metrics.followers_count", u.PublicMetrics.FollowersCount)
			if u.Username != "" {
				link = "https://x.com/" + url.PathEscape(u.Username) + "/status/" + string(d.ID)
			}
			break
		}
	}
	b.link("data.id", link)
	for _, r := range d.ReferencedTweets {
		if r.Type == "retweeted" {
			b.repostOf("data.referenced_tweets.id", "", string(r.ID))
		}
	}
	return b.done()
}
