// Package resolution words the final internal message of a resolved
// incident: its figures (triage.Figures, computed from the journaled
// state) through the `resolved` entry of the internal update templates
// (configs/templates/internal.<lang>.yml, or a directory of the user's).
//
// Triage decides the message as one intent per receiver (triage.IntentFinal)
// carrying the figures; the delivery workers word it with Renderer.Intent
// (notify.Options.FinalText), and the chat room's resolution post, which
// carries the same figures, gets the same words (slack.Options.FinalText).
// Message words it for an incident view.
package resolution

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/statuspage"
	"github.com/klaxonhq/klaxon/triage"
)

// Renderer words final messages in one language and time zone.
type Renderer struct {
	templates *statuspage.InternalTemplates
	lang      string
	loc       *time.Location
}

// New loads internal.<lang>.yml from dir (the built-in templates when dir
// is empty or holds no such file) and checks every template against the
// inputs; times are shown in loc (UTC when nil).
func New(dir, lang string, loc *time.Location) (*Renderer, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "internal."+lang+".yml")); errors.Is(err, fs.ErrNotExist) {
			dir = ""
		}
	}
	t, err := statuspage.LoadInternalTemplates(dir, lang)
	if err != nil {
		return nil, fmt.Errorf("final message: %w", err)
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Renderer{templates: t, lang: lang, loc: loc}, nil
}

// Render words the final message of an incident with figures f.
func (r *Renderer) Render(f triage.Figures) (title, body string, err error) {
	title, body, err = r.templates.Render(statuspage.Resolved, r.Inputs(f))
	if err != nil {
		return "", "", fmt.Errorf("final message of %s: %w", f.Key, err)
	}
	return title, body, nil
}

// Intent words a final-message intent from the figures it carries; the
// delivery workers send the words (notify.Options.FinalText).
func (r *Renderer) Intent(in triage.Intent) (title, body string, err error) {
	if in.Message.Final == nil {
		return "", "", fmt.Errorf("intent %s carries no figures", in.ID)
	}
	return r.Render(*in.Message.Final)
}

// Inputs are the template inputs of figures f.
func (r *Renderer) Inputs(f triage.Figures) statuspage.InternalInputs {
	in := statuspage.InternalInputs{Service: f.Service, Severity: f.Severity, State: string(triage.StateResolved),
		Started: r.when(f.StartedAt), Key: f.Key, Title: f.Title, Components: strings.Join(f.Components, ", "),
		Resolved: r.when(f.ResolvedAt), ResolvedBy: f.ResolvedBy, Duration: Duration(f.DurationSeconds),
		AckedBy: f.AcknowledgedBy, Pages: f.PagesSent, Alerts: f.Alerts, Tickets: f.Tickets, Mentions: f.Mentions,
		Reach: f.Reach, Customers: f.Customers, Roles: roles(f.Roles)}
	if in.Service == "" {
		in.Service = f.Title
	}
	if f.AcknowledgedBy != "" {
		in.TimeToAck = Duration(f.TimeToAckSeconds)
	}
	return in
}

func (r *Renderer) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return statuspage.FormatTime(t, r.lang, r.loc)
}

// english is the renderer Message uses: the built-in English templates,
// times in UTC. They are embedded and tested, so loading cannot fail.
var english = func() *Renderer {
	r, err := New("", "en", time.UTC)
	if err != nil {
		panic(err)
	}
	return r
}()

// Message words the final internal message of a resolved incident from
// its view, with the built-in English templates and times in UTC: the same
// words the configured receivers get with the default configuration, for a
// chat room to post. An incident not resolved has no final message.
func Message(d triage.Detail) (title, body string, err error) {
	if d.Status != triage.StatusResolved {
		return "", "", fmt.Errorf("%s is %s: only a resolved incident has a final message", d.Key, d.Status)
	}
	return english.Render(d.Figures)
}

// Duration words a number of seconds as days, hours and minutes ("1h 25m"),
// or seconds under a minute ("40s").
func Duration(secs int64) string {
	if secs < 60 {
		return fmt.Sprintf("%ds", max(secs, 0))
	}
	var parts []string
	for _, u := range []struct {
		secs int64
		unit string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}} {
		if n := secs / u.secs; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", n, u.unit))
			secs -= n * u.secs
		}
	}
	return strings.Join(parts, " ")
}

// roles words who held which role: "Incident manager: ada; Technical lead: ben, carl".
func roles(rs []triage.RoleHolders) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Role + ": " + strings.Join(r.People, ", ")
	}
	return strings.Join(parts, "; ")
}
