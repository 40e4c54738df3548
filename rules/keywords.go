package rules

import (
	"strings"
	"unicode"

	"github.com/klaxonhq/klaxon/signal"
)

// keywordIndex attributes tickets and mentions to catalogue services by the
// words customers use: each keyword is a phrase of case-folded words, found
// as whole words in a report's subject and text, in any language.
type keywordIndex struct {
	byFirst map[string][]phrase // first word -> the phrases starting with it
}

type phrase struct {
	words []string
	svc   *svcEntry
}

// newKeywordIndex indexes every service's keywords, in catalogue order.
func newKeywordIndex(svcs []*svcEntry) keywordIndex {
	ix := keywordIndex{byFirst: make(map[string][]phrase)}
	for _, e := range svcs {
		for _, kw := range e.svc.Keywords {
			if ws := words(kw); len(ws) > 0 {
				ix.byFirst[ws[0]] = append(ix.byFirst[ws[0]], phrase{words: ws, svc: e})
			}
		}
	}
	return ix
}

// find returns the service whose keyword occurs first in text; ties at one
// position go to the longer phrase, then to the earlier service.
func (ix keywordIndex) find(text string) *svcEntry {
	ws := words(text)
	for i, w := range ws {
		var best *phrase
		for j := range ix.byFirst[w] {
			p := &ix.byFirst[w][j]
			if i+len(p.words) <= len(ws) && equalWords(ws[i:i+len(p.words)], p.words) &&
				(best == nil || len(p.words) > len(best.words) || len(p.words) == len(best.words) && p.svc.idx < best.svc.idx) {
				best = p
			}
		}
		if best != nil {
			return best.svc
		}
	}
	return nil
}

// words splits text into case-folded words: runs of letters and digits.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// reportService attributes a ticket or mention to a catalogue service: the
// service or component it names first, then the keywords in its subject and
// text. It returns nil when neither names one.
func (s *Set) reportService(sig *signal.Signal) *svcEntry {
	if e := s.byName[sig.Labels.Get("service")]; e != nil {
		return e
	}
	if c := sig.Labels.Get("component"); c != "" {
		for _, e := range s.svcs {
			if strings.EqualFold(c, e.svc.Component) || strings.EqualFold(c, e.svc.DisplayName) || strings.EqualFold(c, e.svc.Name) {
				return e
			}
		}
	}
	return s.keywords.find(sig.Annotations.Get("summary") + "\n" + sig.Text())
}

// IsReport says whether a signal is a report by people (a ticket or a
// mention) rather than a measurement (an alert, a heartbeat).
func IsReport(sig *signal.Signal) bool {
	return sig.Kind == signal.KindTicket || sig.Kind == signal.KindMention
}
