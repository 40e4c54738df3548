package oncall

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// handOffLayout is how a rotation's first hand-off is written: a wall-clock
// date and time in the rotation's zone, without an offset.
const handOffLayout = "2006-01-02T15:04"

var namedLengths = map[string]time.Duration{"hourly": time.Hour, "daily": 24 * time.Hour, "weekly": 7 * 24 * time.Hour}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (b *builder) schedule(id string, line int, v *yaml.Node) {
	what := fmt.Sprintf("schedule %q", id)
	o, ok := b.object(v, what, []string{"time_zone", "layers"}, nil)
	if !ok {
		return
	}
	s := &Schedule{ID: id, Zone: b.loadZone(o.get("time_zone"), what+": time_zone"), Loc: Loc{b.reader.file, line}}
	names, precedences := map[string]int{}, map[int]int{}
	layers := b.items(o.get("layers"), what+": layers")
	if len(layers) == 0 && o.has("layers") {
		b.fail(o.lines["layers"], "%s: at least one layer is needed", what)
	}
	for _, n := range layers {
		l := b.layer(n, what, s.Zone)
		if l == nil {
			continue
		}
		if at, dup := names[l.Name]; dup {
			b.fail(n.Line, "%s: layer %q is defined twice (first at line %d)", what, l.Name, at)
			continue
		}
		if at, dup := precedences[l.Precedence]; dup {
			b.fail(n.Line, "%s: precedence %d is already the layer's at line %d: precedence must be unique", what, l.Precedence, at)
			continue
		}
		names[l.Name], precedences[l.Precedence] = n.Line, n.Line
		s.Layers = append(s.Layers, l)
	}
	slices.SortFunc(s.Layers, func(a, b *Layer) int { return cmp.Compare(b.Precedence, a.Precedence) })
	b.cfg.Schedules[id] = s
}

func (b *builder) layer(n *yaml.Node, what string, zone *time.Location) *Layer {
	o, ok := b.object(n, what+": layer", []string{"name", "precedence", "rotation"}, []string{"restrictions"})
	if !ok {
		return nil
	}
	l := &Layer{}
	name, okName := b.text(o.get("name"), what+": layer: name")
	l.Name = name
	what = fmt.Sprintf("%s: layer %q", what, name)
	prec, okPrec := b.whole(o.get("precedence"), what+": precedence", -1000, 1000)
	l.Precedence = prec
	okRot := b.rotation(o.get("rotation"), what+": rotation", zone, l)
	for _, r := range b.items(o.get("restrictions"), what+": restrictions") {
		if rs, ok := b.restriction(r, what+": restriction"); ok {
			l.Restrictions = append(l.Restrictions, rs)
		}
	}
	if !okName || !okPrec || !okRot {
		return nil
	}
	return l
}

func (b *builder) rotation(n *yaml.Node, what string, zone *time.Location, l *Layer) bool {
	o, ok := b.object(n, what, []string{"length", "hand_off", "participants"}, []string{"time_zone"})
	if !ok {
		return false
	}
	l.Zone = zone
	if o.has("time_zone") {
		l.Zone = b.loadZone(o.get("time_zone"), what+": time_zone")
	}
	okLen := b.length(o.get("length"), what+": length", l)
	okHand := false
	if v, ok := b.text(o.get("hand_off"), what+": hand_off"); ok {
		t, err := time.Parse(handOffLayout, v)
		if err != nil {
			b.fail(o.get("hand_off").Line, "%s: hand_off must be a wall-clock date and time such as 2026-01-05T09:00, not %q", what, v)
		} else {
			l.HandOff, okHand = civil(t.Unix()), true
		}
	}
	for _, p := range b.names(o.get("participants"), what+": participants") {
		l.Participants = append(l.Participants, p.name)
		b.refer("person", p)
	}
	if len(l.Participants) == 0 && o.has("participants") {
		b.fail(o.lines["participants"], "%s: at least one participant is needed", what)
	}
	return okLen && okHand && l.Zone != nil && len(l.Participants) > 0
}

// length decodes a rotation's turn length: hourly, daily, weekly, or a
// custom duration of whole minutes from 1h to 365d.
func (b *builder) length(n *yaml.Node, what string, l *Layer) bool {
	v, ok := b.text(n, what)
	if !ok {
		return false
	}
	d, named := namedLengths[v]
	if !named {
		md, err := model.ParseDuration(v)
		d = time.Duration(md)
		if err != nil || d < time.Hour || d > 365*24*time.Hour || d%time.Minute != 0 {
			b.fail(n.Line, "%s must be hourly, daily, weekly or whole minutes from 1h to 365d such as 12h or 3d, not %q", what, v)
			return false
		}
	}
	l.Length, l.LengthName = civil(d/time.Second), v
	return true
}

func (b *builder) restriction(n *yaml.Node, what string) (Restriction, bool) {
	var r Restriction
	o, ok := b.object(n, what, []string{"from", "to"}, []string{"days"})
	if !ok {
		return r, false
	}
	days := b.names(o.get("days"), what+": days")
	for _, d := range days {
		wd, ok := weekdays[strings.ToLower(d.name)]
		if !ok {
			b.fail(d.loc.Line, "%s: %q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", what, d.name)
			continue
		}
		r.Days[wd] = true
	}
	if !o.has("days") {
		r.Days = [7]bool{true, true, true, true, true, true, true}
	}
	from, okFrom := b.clock(o.get("from"), what+": from")
	to, okTo := b.clock(o.get("to"), what+": to")
	r.From, r.To = from, to
	if okFrom && from == 24*60 {
		b.fail(o.get("from").Line, "%s: from must be before 24:00", what)
		return r, false
	}
	if okFrom && okTo && from == to {
		b.fail(o.lines["to"], "%s: from and to are both %s; leave the restriction out for the whole day", what, o.get("to").Value)
		return r, false
	}
	return r, okFrom && okTo
}

// clock decodes a wall-clock time "HH:MM" (24:00 allowed) as minutes.
func (b *builder) clock(n *yaml.Node, what string) (int, bool) {
	v, ok := b.text(n, what)
	if !ok {
		return 0, false
	}
	var hh, mm int
	if _, err := fmt.Sscanf(v, "%d:%d", &hh, &mm); err != nil || len(v) != 5 || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		b.fail(n.Line, "%s must be a time of day such as 09:00 (00:00 to 24:00), not %q", what, v)
		return 0, false
	}
	return hh*60 + mm, true
}

func (b *builder) policy(id string, line int, v *yaml.Node) {
	what := fmt.Sprintf("escalation policy %q", id)
	o, ok := b.object(v, what, []string{"steps", "fallback"}, []string{"repeat", "ack_timeout"})
	if !ok {
		return
	}
	p := &Policy{ID: id}
	if o.has("repeat") {
		p.Repeat, _ = b.whole(o.get("repeat"), what+": repeat", 0, 20)
	}
	if o.has("ack_timeout") {
		p.AckTimeout, _ = b.span(o.get("ack_timeout"), what+": ack_timeout", time.Minute, 7*24*time.Hour)
	}
	steps := b.items(o.get("steps"), what+": steps")
	if len(steps) == 0 && o.has("steps") {
		b.fail(o.lines["steps"], "%s: at least one step is needed", what)
	}
	for i, n := range steps {
		if st, ok := b.step(n, fmt.Sprintf("%s: step %d", what, i+1)); ok {
			p.Steps = append(p.Steps, st)
		}
	}
	if o.has("fallback") {
		p.Fallback, _ = b.receiver(o.get("fallback"), what+": fallback")
	}
	b.cfg.Policies[id] = p
}

func (b *builder) step(n *yaml.Node, what string) (Step, bool) {
	var st Step
	o, ok := b.object(n, what, []string{"escalate_after"}, []string{"schedules", "people", "teams"})
	if !ok {
		return st, false
	}
	st.EscalateAfter, ok = b.span(o.get("escalate_after"), what+": escalate_after", 10*time.Second, 24*time.Hour)
	for _, k := range []struct {
		kind, key string
		into      *[]string
	}{{"schedule", "schedules", &st.Schedules}, {"person", "people", &st.People}, {"team", "teams", &st.Teams}} {
		refs := b.names(o.get(k.key), what+": "+k.key)
		b.refer(k.kind, refs...)
		for _, r := range refs {
			*k.into = append(*k.into, r.name)
		}
	}
	if !o.has("schedules") && !o.has("people") && !o.has("teams") {
		b.fail(o.line, "%s: name at least one of schedules, people, teams", what)
		return st, false
	}
	return st, ok
}
