package main

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// page is what the receiver keeps of one webhook delivery.
type page struct {
	At       time.Time // when the request reached the receiver
	GroupKey string    // the intent ID, e.g. INC-7/page/0/0/p0/0/p0-push
	Summary  string    // the incident's title: the alert's summary
}

// receiver is the webhook every contact method posts pages to. It records
// the arrival time of each page under its summary, the first arrival only
// (a page sent again after a failed report keeps its first time).
type receiver struct {
	mu      sync.Mutex
	first   map[string]page
	total   int
	bad     int
	arrived chan struct{} // signalled, without blocking, on every new summary
}

func newReceiver() *receiver {
	return &receiver{first: map[string]page{}, arrived: make(chan struct{}, 1)}
}

// webhook is the JSON of Alertmanager's webhook integration, as far as the
// benchmark reads it.
type webhook struct {
	GroupKey string `json:"groupKey"`
	Alerts   []struct {
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// ServeHTTP records one page and answers 200; a body that is not a page
// is counted and answered 400.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	var msg webhook
	if err := json.NewDecoder(req.Body).Decode(&msg); err != nil || len(msg.Alerts) == 0 {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, "not an Alertmanager webhook page", http.StatusBadRequest)
		return
	}
	r.record(page{At: at, GroupKey: msg.GroupKey, Summary: msg.Alerts[0].Annotations["summary"]})
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) record(p page) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	if _, seen := r.first[p.Summary]; seen {
		return
	}
	r.first[p.Summary] = p
	select {
	case r.arrived <- struct{}{}:
	default:
	}
}

// lookup returns the first page whose summary is summary.
func (r *receiver) lookup(summary string) (page, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.first[summary]
	return p, ok
}

// counts returns how many distinct summaries were paged, how many pages
// arrived in all, and how many requests were not pages.
func (r *receiver) counts() (distinct, total, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.first), r.total, r.bad
}
