package statuspage

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

//go:embed style.css
var pageStyle string

//go:embed page.html
var pageHTML string

// maxPast is how many past incidents the page lists; the feeds and
// incidents.json have more.
const maxPast = 20

// icons mark each component state by shape as well as colour.
var icons = map[ComponentStatus]string{
	Operational: "✓", UnderMaintenance: "⚙", DegradedPerformance: "!", PartialOutage: "▲", MajorOutage: "✕",
}

// pageTemplate is the page's template, parsed once; each rendering binds
// its functions to the page's language and time zone.
var pageTemplate = template.Must(template.New("page").Funcs(pageFuncs(words("en"), time.UTC)).Parse(pageHTML))

// renderHTML renders the page with html/template, which escapes every text.
func renderHTML(p *Page) ([]byte, error) {
	tpl, err := pageTemplate.Clone()
	if err != nil {
		return nil, fmt.Errorf("status page: page template: %w", err)
	}
	tpl.Funcs(pageFuncs(words(p.Language), p.TimeZone))
	past := p.Past[:min(len(p.Past), maxPast)]
	days := 0
	if len(p.Components) > 0 {
		days = len(p.Components[0].Days)
	}
	var b bytes.Buffer
	err = tpl.Execute(&b, map[string]any{
		"Lang": p.Language, "P": p, "W": words(p.Language), "Past": past, "Days": days,
		"Style": template.CSS(pageStyle), //nolint:gosec // a constant of this package, allowed by its CSP hash
	})
	if err != nil {
		return nil, fmt.Errorf("status page: render page: %w", err)
	}
	return b.Bytes(), nil
}

// pageFuncs are the page template's functions in wording w and zone loc.
func pageFuncs(w *vocabulary, loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"icon":    func(s ComponentStatus) string { return icons[s] },
		"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"when":    func(t time.Time) string { return t.In(loc).Format(w.TimeFormat) },
		"day":     func(t time.Time) string { return t.In(loc).Format(w.DayFormat) },
		"join":    func(s []string) string { return strings.Join(s, ", ") },
		"percent": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) + " %" },
	}
}
