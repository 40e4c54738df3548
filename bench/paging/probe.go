package main

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"
)

// probe is one SEV1 alert sent to measure paging latency.
type probe struct {
	N        int
	Sent     time.Time // when its POST began
	Accepted time.Time // when its POST was answered 2xx
	Err      string    // why it was not accepted
}

// sendProbes sends one probe every 1/rate seconds until ctx ends, each in
// its own request, and returns them in order.
func sendProbes(ctx context.Context, s *sender, teams int, rate float64) []probe {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var (
		mu     sync.Mutex
		probes []probe
		wg     sync.WaitGroup
	)
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			slices.SortFunc(probes, func(a, b probe) int { return a.N - b.N })
			return probes
		case <-tick.C:
		}
		wg.Go(func() {
			var buf bytes.Buffer
			now := time.Now()
			a := probeAlert(n, teams, now)
			a.EndsAt = now.Add(time.Hour)
			encodeAlerts(&buf, []alert{a})
			// The probe is sent whole even if the phase ends meanwhile.
			sent := time.Now()
			err := s.post(context.WithoutCancel(ctx), buf.Bytes())
			p := probe{N: n, Sent: sent, Accepted: time.Now()}
			if err != nil {
				p.Err = err.Error()
			}
			mu.Lock()
			probes = append(probes, p)
			mu.Unlock()
		})
	}
}

// latencies matches each accepted probe to its page and returns the times
// from the 2xx answer and from the start of the POST to the page's arrival,
// each sorted, and how many accepted probes were never paged.
func latencies(probes []probe, r *receiver) (fromAccept, fromSend []time.Duration, unpaged int) {
	for _, p := range probes {
		if p.Err != "" {
			continue
		}
		pg, ok := r.lookup(probeSummary(p.N))
		if !ok {
			unpaged++
			continue
		}
		fromAccept = append(fromAccept, pg.At.Sub(p.Accepted))
		fromSend = append(fromSend, pg.At.Sub(p.Sent))
	}
	slices.Sort(fromAccept)
	slices.Sort(fromSend)
	return fromAccept, fromSend, unpaged
}

// waitPages waits until want distinct summaries have been paged, or until
// the timeout or ctx ends; it reports whether they all were.
func waitPages(ctx context.Context, r *receiver, want int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if n, _, _ := r.counts(); n >= want {
			return true
		}
		select {
		case <-r.arrived:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
