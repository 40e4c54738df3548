package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// alert is one alert as Prometheus posts it to /api/v2/alerts.
type alert struct {
	Service  string
	Shard    string // the label incidents are grouped by
	Instance string
	Summary  string
	StartsAt time.Time
	EndsAt   time.Time
}

// openAlert is the alert that opened incident i in phase 1.
func openAlert(i, teams int, startsAt time.Time) alert {
	return alert{
		Service: "svc-" + strconv.Itoa(i%teams), Shard: "open-" + strconv.Itoa(i), Instance: "i0",
		Summary: openSummary(i), StartsAt: startsAt,
	}
}

func openSummary(i int) string { return "open " + strconv.Itoa(i) }

// probeAlert is probe n's alert: a label set of its own, so a new SEV1
// incident that pages at once.
func probeAlert(n, teams int, startsAt time.Time) alert {
	return alert{
		Service: "svc-" + strconv.Itoa(n%teams), Shard: "probe-" + strconv.Itoa(n), Instance: "i0",
		Summary: probeSummary(n), StartsAt: startsAt,
	}
}

func probeSummary(n int) string { return "probe " + strconv.Itoa(n) }

// encodeAlerts appends the /api/v2/alerts body of alerts to buf.
func encodeAlerts(buf *bytes.Buffer, alerts []alert) {
	buf.WriteByte('[')
	for i, a := range alerts {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(buf, `{"labels":{"alertname":%q,"service":%q,"shard":%q,"instance":%q},`+
			`"annotations":{"summary":%q},"startsAt":%q,"endsAt":%q,"generatorURL":"http://bench.invalid/graph"}`,
			alertName, a.Service, a.Shard, a.Instance, a.Summary,
			a.StartsAt.UTC().Format(time.RFC3339Nano), a.EndsAt.UTC().Format(time.RFC3339Nano))
	}
	buf.WriteByte(']')
}

// sender posts alert batches to Klaxon's /api/v2/alerts.
type sender struct {
	client *http.Client
	url    string
}

func newSender(base string, conns int) *sender {
	return &sender{
		url: base + "/api/v2/alerts",
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
		}},
	}
}

// post sends one body; any answer but 2xx is an error naming its status.
// It returns when the answer has been read: the alerts are then durable.
func (s *sender) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ingestToken)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("post alerts: %w", err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post alerts: status %d: %s", resp.StatusCode, bytes.TrimSpace(answer))
	}
	return nil
}

// openIncidents sends the opening alerts of incidents 0 … n-1 in batches,
// from conns senders at once.
func (s *sender) openIncidents(ctx context.Context, n, teams, batch, conns int, startsAt, endsAt time.Time) error {
	var next atomic.Int64
	errs := make([]error, conns)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			var buf bytes.Buffer
			for ctx.Err() == nil && errs[w] == nil {
				first := int(next.Add(int64(batch))) - batch
				if first >= n {
					return
				}
				list := make([]alert, 0, batch)
				for i := first; i < min(first+batch, n); i++ {
					a := openAlert(i, teams, startsAt)
					a.EndsAt = endsAt
					list = append(list, a)
				}
				buf.Reset()
				encodeAlerts(&buf, list)
				errs[w] = s.post(ctx, buf.Bytes())
			}
		})
	}
	wg.Wait()
	return cmpErr(ctx.Err(), errors.Join(errs...))
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// background is the load behind the probes: Prometheus-style re-sends of
// the open incidents' alerts with a fresh endsAt, and every newEvery-th
// alert a new instance joining an open incident. None of it pages: those
// incidents' escalations are under way.
type background struct {
	Incidents, Teams, Batch, Conns, NewEvery int
	Rate                                     float64 // alerts/s
	StartsAt                                 time.Time
}

// bgResult is what the background load achieved.
type bgResult struct {
	Alerts  int
	Failed  int // requests not answered 2xx
	Elapsed time.Duration
	Err     string // the first failure, if any
}

// run sends the background load, paced to Rate, until ctx ends.
func (bg background) run(ctx context.Context, s *sender) bgResult {
	interval := time.Duration(float64(time.Second) * float64(bg.Batch*bg.Conns) / bg.Rate)
	var seq atomic.Int64
	var sent, failed atomic.Int64
	var firstErr sync.Once
	var res bgResult
	start := time.Now()
	var wg sync.WaitGroup
	for w := range bg.Conns {
		wg.Go(func() {
			var buf bytes.Buffer
			next := start.Add(interval * time.Duration(w) / time.Duration(bg.Conns))
			for k := 0; ; k++ {
				if wait := time.Until(next); wait > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
				} else if ctx.Err() != nil {
					return
				}
				next = next.Add(interval) // behind schedule: send at once, no burst to catch up
				if behind := time.Since(next); behind > interval {
					next = time.Now()
				}
				buf.Reset()
				encodeAlerts(&buf, bg.batch(int(seq.Add(int64(bg.Batch)))-bg.Batch))
				if err := s.post(ctx, buf.Bytes()); err != nil {
					if ctx.Err() != nil {
						return
					}
					failed.Add(1)
					firstErr.Do(func() { res.Err = err.Error() })
					continue
				}
				sent.Add(int64(bg.Batch))
			}
		})
	}
	wg.Wait()
	res.Alerts, res.Failed, res.Elapsed = int(sent.Load()), int(failed.Load()), time.Since(start)
	return res
}

// batch is the background batch whose alerts are numbered from first.
func (bg background) batch(first int) []alert {
	now := time.Now()
	list := make([]alert, bg.Batch)
	for j := range list {
		n := first + j
		a := openAlert(n%bg.Incidents, bg.Teams, bg.StartsAt)
		if bg.NewEvery > 0 && n%bg.NewEvery == 0 {
			a.Instance = "bg-" + strconv.Itoa(n) // a new alert in an open incident
			a.StartsAt = now
		}
		a.EndsAt = now.Add(10 * time.Minute)
		list[j] = a
	}
	return list
}
