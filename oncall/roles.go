package oncall

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Role is an incident role people hold while they work an incident, such
// as incident manager or technical lead.
type Role struct {
	ID           string
	Name         string        // the name shown to people
	Instructions string        // sent to whoever is newly assigned the role
	Schedule     string        // whose on-call is assigned automatically; "" for none
	FromSeverity string        // the severity level name from which it is assigned and required; "" for never
	RemindAfter  time.Duration // how long it may stay unassigned while required before reminders; 0 for never
}

// DefaultRoles are the roles in force when no on-call file has a roles
// section: assigned by hand only.
func DefaultRoles() map[string]*Role {
	return map[string]*Role{
		"incident_manager": {ID: "incident_manager", Name: "Incident manager",
			Instructions: "You hold command of this incident and may take any measure needed."},
		"technical_lead": {ID: "technical_lead", Name: "Technical lead",
			Instructions: "Form theories, decide on changes and lead the technical team."},
		"communications_manager": {ID: "communications_manager", Name: "Communications manager",
			Instructions: "Write and send the internal and external messages about this incident."},
	}
}

// role decodes one entry of a roles section.
func (b *builder) role(id string, _ int, v *yaml.Node) {
	what := fmt.Sprintf("role %q", id)
	o, ok := b.object(v, what, []string{"name"}, []string{"instructions", "schedule", "from_severity", "remind_after"})
	if !ok {
		return
	}
	r := &Role{ID: id}
	r.Name, _ = b.text(o.get("name"), what+": name")
	if o.has("instructions") {
		r.Instructions, _ = b.text(o.get("instructions"), what+": instructions")
	}
	if o.has("schedule") {
		if name, ok := b.text(o.get("schedule"), what+": schedule"); ok {
			r.Schedule = name
			b.refer("schedule", ref{name: name, loc: Loc{b.reader.file, o.lines["schedule"]}})
		}
	}
	if o.has("from_severity") {
		r.FromSeverity, _ = b.text(o.get("from_severity"), what+": from_severity")
	}
	if o.has("remind_after") {
		r.RemindAfter, _ = b.span(o.get("remind_after"), what+": remind_after", time.Minute, 24*time.Hour)
		if r.FromSeverity == "" {
			b.fail(o.lines["remind_after"], "%s: remind_after needs from_severity, which makes the role required", what)
		}
	}
	if b.cfg.Roles == nil {
		b.cfg.Roles = map[string]*Role{}
	}
	b.cfg.Roles[id] = r
}
