package statuspage

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"slices"
	"time"
)

// maxEntries bounds the feeds: the newest updates only.
const maxEntries = 200

// entry is one update with the incident it belongs to, for the feeds.
type entry struct {
	inc *Incident
	u   Update
}

// feedEntries are every update of p's incidents, newest first.
func feedEntries(p *Page) []entry {
	var out []entry
	for _, list := range [][]Incident{p.Active, p.Past} {
		for i := range list {
			for _, u := range list[i].Updates {
				out = append(out, entry{&list[i], u})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b entry) int { return cmp.Or(b.u.At.Compare(a.u.At), cmp.Compare(a.u.ID, b.u.ID)) })
	return out[:min(len(out), maxEntries)]
}

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  string      `xml:"author>name"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomEntry struct {
	ID        string   `xml:"id"`
	Title     string   `xml:"title"`
	Updated   string   `xml:"updated"`
	Published string   `xml:"published"`
	Link      atomLink `xml:"link"`
	Content   atomText `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type rssFeed struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title       string    `xml:"title"`
	Link        string    `xml:"link"`
	Description string    `xml:"description"`
	Language    string    `xml:"language"`
	PubDate     string    `xml:"pubDate"`
	Items       []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Description string  `xml:"description"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	ID          string `xml:",chardata"`
}

// renderFeeds renders the Atom and RSS feeds: one entry per update.
func renderFeeds(p *Page) (atom, rss []byte, err error) {
	w := words(p.Language)
	af := atomFeed{Lang: p.Language, ID: "urn:klaxon:statuspage:" + pageID(p), Title: p.Name,
		Updated: p.UpdatedAt.UTC().Format(time.RFC3339), Author: p.Name,
		Links: []atomLink{{Href: p.URL + "/history.atom", Rel: "self", Type: "application/atom+xml"}, {Href: p.URL + "/", Rel: "alternate", Type: "text/html"}}}
	rf := rssFeed{Version: "2.0", Channel: rssChannel{Title: p.Name, Link: p.URL + "/", Description: p.Name,
		Language: p.Language, PubDate: p.UpdatedAt.UTC().Format(time.RFC1123Z)}}
	for _, e := range feedEntries(p) {
		link := p.URL + "/#" + anchor(*e.inc)
		title := e.inc.Name + " — " + w.States[e.u.Status]
		at := e.u.At.UTC()
		af.Entries = append(af.Entries, atomEntry{ID: "urn:klaxon:statuspage:update:" + e.u.ID, Title: title,
			Updated: at.Format(time.RFC3339), Published: at.Format(time.RFC3339), Link: atomLink{Href: link, Rel: "alternate"},
			Content: atomText{Type: "text", Body: e.u.Body}})
		rf.Channel.Items = append(rf.Channel.Items, rssItem{Title: title, Link: link,
			GUID: rssGUID{ID: "urn:klaxon:statuspage:update:" + e.u.ID}, PubDate: at.Format(time.RFC1123Z), Description: e.u.Body})
	}
	if atom, err = encodeXML(af); err != nil {
		return nil, nil, err
	}
	if rss, err = encodeXML(rf); err != nil {
		return nil, nil, err
	}
	return atom, rss, nil
}

func encodeXML(v any) ([]byte, error) {
	body, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("status page: encode feed: %w", err)
	}
	return append(append([]byte(xml.Header), body...), '\n'), nil
}
