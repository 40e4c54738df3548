package oncall

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

// slackUserID is the shape of a Slack user ID: U or W, then upper-case
// letters and digits (U024BE7LH).
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// slackUser reads a person's Slack user ID, which no other person may have.
func (b *builder) slackUser(n *yaml.Node, person, what string) string {
	id, ok := b.text(n, what+": slack")
	if !ok {
		return ""
	}
	if !slackUserID.MatchString(id) {
		b.fail(n.Line, "%s: slack: %q is not a Slack user ID (U or W, then capital letters and digits, like U024BE7LH)", what, id)
		return ""
	}
	if other, dup := b.cfg.SlackUsers[id]; dup {
		b.fail(n.Line, "%s: slack: %s is person %q's Slack user ID already", what, id, other)
		return ""
	}
	if b.cfg.SlackUsers == nil {
		b.cfg.SlackUsers = map[string]string{}
	}
	b.cfg.SlackUsers[id] = person
	return id
}
