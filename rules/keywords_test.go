package rules

import (
	"testing"

	"github.com/klaxonhq/klaxon/signal"
)

func TestReportsAreAttributedToServices(t *testing.T) {
	rs, err := Compile([]File{{Name: "s.yml", Data: []byte(`
services:
  checkout:
    display_name: Checkout
    component: Shop & Payments
    tier: 1
    matchers: ['{service="checkout"}']
    keywords: [checkout, "can't pay", Kasse]
  search:
    display_name: Product search
    tier: 2
    matchers: ['{service="search"}']
    keywords: [search, "can't find"]
`)}})
	if err != nil {
		t.Fatal(err)
	}
	report := func(kind signal.Kind, labels map[string]string, subject, text string) *signal.Signal {
		return &signal.Signal{Kind: kind, Labels: signal.StringsFrom(labels), Annotations: signal.StringsFrom(map[string]string{"summary": subject}), Report: &signal.Report{Text: text}}
	}
	for _, tc := range []struct {
		name string
		sig  *signal.Signal
		want string
	}{
		{"explicit service wins over keywords", report(signal.KindTicket, map[string]string{"service": "search"}, "checkout broken", ""), "search"},
		{"component by its status-page name", report(signal.KindTicket, map[string]string{"component": "shop & PAYMENTS"}, "", ""), "checkout"},
		{"component by display name", report(signal.KindTicket, map[string]string{"component": "Product Search"}, "", ""), "search"},
		{"keyword in the subject", report(signal.KindTicket, nil, "Checkout times out", ""), "checkout"},
		{"phrase in the text, other apostrophe", report(signal.KindMention, nil, "", "I can’t pay since noon!!"), "checkout"},
		{"case-folded, any language", report(signal.KindTicket, nil, "", "Die KASSE hängt seit 10 Uhr"), "checkout"},
		{"whole words only", report(signal.KindTicket, nil, "checkouts and searches", ""), ""},
		{"the first keyword in the text wins", report(signal.KindTicket, nil, "", "search works but I can't pay"), "search"},
		{"the longer phrase at one position wins", report(signal.KindTicket, nil, "", "can't find the button"), "search"},
		{"alerts are not read for keywords", report(signal.KindAlert, nil, "checkout down", ""), ""},
		{"nothing names a service", report(signal.KindTicket, map[string]string{"service": "billing"}, "hello", "weather is nice"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if cls := rs.Classify(tc.sig); cls.Service != nil {
				got = cls.Service.Name
			}
			if got != tc.want {
				t.Errorf("service %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzKeywordWords(f *testing.F) {
	for _, s := range []string{"I can’t pay", "Die KASSE hängt", "", "\xff\xfe", "a-b_c.d"} {
		f.Add(s)
	}
	ix := newKeywordIndex([]*svcEntry{{svc: &Service{Name: "x", Keywords: []string{"can't pay", "kasse"}}}})
	f.Fuzz(func(t *testing.T, text string) {
		for _, w := range words(text) {
			if w == "" {
				t.Fatal("empty word")
			}
		}
		_ = ix.find(text)
	})
}
