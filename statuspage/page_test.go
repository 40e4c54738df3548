package statuspage

import (
	"encoding/xml"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

// TestPageAccessible checks what the page promises without a browser: no
// script, no inline style attribute (the CSP would block it), a language,
// machine-readable times with the zone named, and every state in words.
func TestPageAccessible(t *testing.T) {
	for _, lang := range Languages {
		html := string(standard(t).site(lang, false).Files["index.html"].Body)
		for _, bad := range []string{"<script", " style=", "javascript:"} {
			if strings.Contains(strings.ToLower(html), bad) {
				t.Errorf("%s: the page contains %q", lang, bad)
			}
		}
		if handler := regexp.MustCompile(` on[a-z]+=`).FindString(html); handler != "" {
			t.Errorf("%s: the page has an event handler %q", lang, handler)
		}
		if !strings.Contains(html, `<html lang="`+lang+`">`) || !strings.Contains(html, `prefers-color-scheme:dark`) {
			t.Errorf("%s: no language or no dark scheme", lang)
		}
		times := regexp.MustCompile(`<time datetime="([^"]+)">([^<]+)</time>`).FindAllStringSubmatch(html, -1)
		if len(times) == 0 || strings.Count(html, "<time") != len(times) {
			t.Fatalf("%s: %d <time> elements, %d with a datetime", lang, strings.Count(html, "<time"), len(times))
		}
		for _, m := range times {
			if _, err := time.Parse(time.RFC3339, m[1]); err != nil || !regexp.MustCompile(`\bCES?T$`).MatchString(m[2]) {
				t.Errorf("%s: time %q / %q lacks a valid datetime or its zone", lang, m[1], m[2])
			}
		}
		for _, state := range []ComponentStatus{Operational, PartialOutage, MajorOutage} {
			if !strings.Contains(html, "</span> "+words(lang).Components[state]+"</span>") {
				t.Errorf("%s: component state %s is not written out", lang, state)
			}
		}
	}
}

func TestFeedsParse(t *testing.T) {
	site := standard(t).site("en", false)
	var atom struct {
		Entries []struct {
			ID      string `xml:"id"`
			Content string `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(site.Files["history.atom"].Body, &atom); err != nil {
		t.Fatal(err)
	}
	var rss struct {
		Items []struct {
			GUID string `xml:"guid"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(site.Files["history.rss"].Body, &rss); err != nil {
		t.Fatal(err)
	}
	// standard publishes INC-1 (investigating, identified, resolved),
	// INC-2 (investigating, identified), INC-3 (investigating) and INC-6
	// (investigating, monitoring).
	if len(atom.Entries) != 8 || len(rss.Items) != 8 {
		t.Errorf("%d Atom entries and %d RSS items, want one per update: 8", len(atom.Entries), len(rss.Items))
	}
	ids := map[string]bool{}
	for _, e := range atom.Entries {
		if ids[e.ID] || e.Content == "" {
			t.Errorf("entry %s repeated or empty", e.ID)
		}
		ids[e.ID] = true
	}
}

func TestTransitions(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ev := func(m int, k triage.EventKind) triage.Event {
		return triage.Event{At: at(m), Kind: k, Message: "CANARY"}
	}
	tests := []struct {
		name string
		tl   []triage.Event
		want []IncidentStatus
	}{
		{"opened", []triage.Event{ev(0, triage.EventOpened), ev(0, triage.EventSeverity)}, []IncidentStatus{Investigating}},
		{"lifecycle", []triage.Event{ev(0, triage.EventOpened), ev(1, triage.EventAcknowledged), ev(2, triage.EventQuiet), ev(3, triage.EventResolved)},
			[]IncidentStatus{Investigating, Identified, Monitoring, Resolved}},
		{"fires again while monitored", []triage.Event{ev(0, triage.EventOpened), ev(1, triage.EventAcknowledged), ev(2, triage.EventQuiet), ev(3, triage.EventAlertFiring)},
			[]IncidentStatus{Investigating, Identified, Monitoring, Identified}},
		{"severity change repeats the state", []triage.Event{ev(0, triage.EventOpened), ev(5, triage.EventSeverity), ev(6, triage.EventOverride)},
			[]IncidentStatus{Investigating, Investigating, Investigating}},
		{"reopened", []triage.Event{ev(0, triage.EventOpened), ev(1, triage.EventResolved), ev(2, triage.EventReopened)},
			[]IncidentStatus{Investigating, Resolved, Investigating}},
		{"noise", []triage.Event{ev(0, triage.EventOpened), ev(1, triage.EventPaged), ev(2, triage.EventReport), ev(3, triage.EventAlertFiring)},
			[]IncidentStatus{Investigating}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []IncidentStatus
			for _, s := range transitions(tt.tl) {
				got = append(got, s.status)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHistoryAndUptime(t *testing.T) {
	first := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	now := first.AddDate(0, 0, 10)
	spans := []span{
		{first.Add(24 * time.Hour), first.Add(48 * time.Hour), MajorOutage},                // all of day 1
		{first.Add(30 * time.Hour), first.Add(40 * time.Hour), PartialOutage},              // inside it: counted once
		{first.Add(72 * time.Hour), first.Add(72*time.Hour + 10*time.Hour), PartialOutage}, // day 3, 10 h at 30%
	}
	days, uptime := history(spans, first, 10, now)
	want := []ComponentStatus{Operational, MajorOutage, Operational, PartialOutage}
	for i, w := range want {
		if days[i].Status != w {
			t.Errorf("day %d: %s, want %s", i, days[i].Status, w)
		}
	}
	wantUptime := 100 * (1 - (24*3600+0.3*10*3600)/(240*3600.0))
	if diff := uptime - wantUptime; diff > 1e-9 || diff < -1e-9 {
		t.Errorf("uptime %.6f, want %.6f", uptime, wantUptime)
	}
}
