package notify

import (
	"fmt"
	"net/http"
	"testing"
)

// BenchmarkWakeToPage measures from an intent becoming pending and Wake
// to the webhook receiver holding the page and the delivery reported, one
// page at a time.
func BenchmarkWakeToPage(b *testing.B) {
	h := newHook(b, "", http.StatusOK)
	f := newFixture(b, receivers(b, webhookYAML("r", h.URL)), Options{})
	run(b, f.d)
	b.ResetTimer()
	for i := range b.N {
		f.box.add(page(fmt.Sprint("p", i), "r", t0))
		f.d.Wake()
		<-h.got
		<-f.rec.got
	}
}
