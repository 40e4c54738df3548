package statuspage

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/triage"
)

// Source is the live triage state (triage.State).
type Source interface {
	List(f triage.Filter) ([]triage.Summary, uint64)
	Get(key string, offset, limit int) (triage.Detail, bool)
	Rules() *rules.Set
	Maintenances() []triage.Maintenance
}

// Archive is where incidents go after they leave the live state
// (journal.Journal); it lists the most recently archived first.
type Archive interface {
	ScanArchive(after string, fn func(journal.ArchiveItem) (bool, error)) error
}

// Collect maps every public incident of the live state, and of the
// archive (nil for none) back to since, through m.
func Collect(m *Mapper, src Source, archive Archive, since time.Time) ([]Incident, error) {
	var out []Incident
	seen := map[string]bool{}
	add := func(sum triage.Summary, updates []triage.Update, timeline []triage.Event) error {
		if seen[sum.Key] {
			return nil
		}
		seen[sum.Key] = true
		inc, ok, err := m.Incident(sum, updates, timeline)
		if err != nil {
			return fmt.Errorf("incident %s: %w", sum.Key, err)
		}
		if ok && (inc.ResolvedAt.IsZero() || !inc.ResolvedAt.Before(since)) {
			out = append(out, inc)
		}
		return nil
	}
	var before uint64
	for {
		page, next := src.List(triage.Filter{Limit: 1000, Before: before})
		for _, sum := range page {
			if !m.Wants(sum) {
				continue // spare copying the detail of what never shows
			}
			d, ok := src.Get(sum.Key, 0, 0)
			if !ok {
				continue // evicted since the listing
			}
			if err := add(d.Summary, d.Updates, d.Timeline); err != nil {
				return nil, err
			}
		}
		if next == 0 {
			break
		}
		before = next
	}
	if archive != nil {
		err := archive.ScanArchive("", func(item journal.ArchiveItem) (bool, error) {
			if item.Time.Before(since) {
				return false, nil // archived, so resolved, before the history starts
			}
			d, err := triage.DecodeArchived(item.Data)
			if err != nil {
				return false, fmt.Errorf("archived incident %s: %w", item.Key, err)
			}
			return true, add(d.Summary, d.Updates, d.Timeline)
		})
		if err != nil {
			return nil, fmt.Errorf("status page: reading the archive: %w", err)
		}
	}
	slices.SortFunc(out, func(a, b Incident) int {
		return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// PageOptions are the parts of a page not derived from incidents.
type PageOptions struct {
	Name     string
	URL      string // absolute URL of the page, without a trailing slash
	Language string
	Location *time.Location
	Days     int // length of the history; 90 when 0
}

func (o PageOptions) days() int { return cmp.Or(o.Days, 90) }

func (o PageOptions) location() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

// Since is when the history of a page rendered at now starts: midnight,
// in the page's time zone, Days-1 days before now's day.
func (o PageOptions) Since(now time.Time) time.Time {
	y, mo, d := now.In(o.location()).Date()
	return time.Date(y, mo, d-(o.days()-1), 0, 0, 0, 0, o.location())
}

// BuildPage lays out the page at now: the catalogue's customer-facing
// components, their state and history, the active and past incidents.
func BuildPage(o PageOptions, rs *rules.Set, incidents []Incident, now time.Time) *Page {
	days, loc := o.days(), o.location()
	first := o.Since(now)
	p := &Page{Name: o.Name, URL: o.URL, Language: o.Language, TimeZone: loc, UpdatedAt: first.AddDate(0, 0, days-1).UTC()}
	for _, inc := range incidents {
		if inc.UpdatedAt.After(p.UpdatedAt) {
			p.UpdatedAt = inc.UpdatedAt
		}
		if inc.Status == Resolved {
			p.Past = append(p.Past, inc)
		} else {
			p.Active = append(p.Active, inc)
		}
	}
	for _, name := range componentNames(rs) {
		c := Component{ID: opaqueID("component", name), Name: name, Position: len(p.Components) + 1,
			Status: Operational, UpdatedAt: p.UpdatedAt}
		var spans []span
		for _, inc := range incidents {
			if !slices.Contains(inc.Components, name) {
				continue
			}
			end := inc.ResolvedAt
			if end.IsZero() {
				c.Status = c.Status.worse(inc.Impact)
				end = now
			}
			spans = append(spans, span{inc.StartedAt, end, inc.Impact})
		}
		c.Days, c.Uptime = history(spans, first, days, now)
		p.Components = append(p.Components, c)
	}
	return p
}

// componentNames are the components of the catalogue's customer-facing
// services, in catalogue order.
func componentNames(rs *rules.Set) []string {
	var out []string
	for _, svc := range rs.Services() {
		if svc.CustomerFacing && svc.DisplayName != "" && !slices.Contains(out, componentName(svc)) {
			out = append(out, componentName(svc))
		}
	}
	return out
}

// span is a time a component spent in a state.
type span struct {
	from, to time.Time
	status   ComponentStatus
}

// history is a component's daily states over days days from first, and
// its uptime in percent from first to now.
func history(spans []span, first time.Time, days int, now time.Time) ([]Day, float64) {
	out := make([]Day, days)
	for i := range out {
		out[i] = Day{Date: first.AddDate(0, 0, i), Status: Operational}
	}
	for _, s := range spans {
		for i := range out {
			end := out[i].Date.AddDate(0, 0, 1)
			if s.from.Before(end) && s.to.After(out[i].Date) {
				out[i].Status = out[i].Status.worse(s.status)
			}
		}
	}
	total := now.Sub(first).Seconds()
	if total <= 0 {
		return out, 100
	}
	return out, 100 * (1 - downtime(spans, first, now)/total)
}

// downtime is the weighted time in outage between from and to, overlapping
// spans counted once at their worst.
func downtime(spans []span, from, to time.Time) float64 {
	var cuts []time.Time
	for _, s := range spans {
		cuts = append(cuts, clamp(s.from, from, to), clamp(s.to, from, to))
	}
	slices.SortFunc(cuts, time.Time.Compare)
	var down float64
	for i := 0; i+1 < len(cuts); i++ {
		a, b := cuts[i], cuts[i+1]
		if !b.After(a) {
			continue
		}
		w := 0.0
		for _, s := range spans {
			if !s.from.After(a) && !s.to.Before(b) {
				w = max(w, s.status.downtime())
			}
		}
		down += w * b.Sub(a).Seconds()
	}
	return down
}

// clamp is t moved into [lo, hi].
func clamp(t, lo, hi time.Time) time.Time {
	switch {
	case t.Before(lo):
		return lo
	case t.After(hi):
		return hi
	}
	return t
}
