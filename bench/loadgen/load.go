package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon/bench/internal/latency"
)

// Format is the payload shape sent to the endpoint.
type Format string

// The payload formats loadgen can send.
const (
	FormatWebhook Format = "webhook" // Alertmanager's webhook payload, version 4
	FormatV2      Format = "v2"      // the alert list of POST /api/v2/alerts
	FormatTicket  Format = "ticket"  // one ticket for POST /ingest/tickets/generic
	FormatMention Format = "mention" // one post for POST /ingest/mentions/generic
)

// config is one load to send.
type config struct {
	URL         string
	Format      Format
	Token       string
	Concurrency int
	Batch       int
	Duration    time.Duration
	Requests    int
	Services    int
	RunID       string
	Timeout     time.Duration
}

// validate says what is wrong with cfg, if anything.
func (cfg config) validate() error {
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		return errors.New("-url is required")
	case err != nil:
		return fmt.Errorf("-url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("-url %q: want an http:// or https:// URL", cfg.URL)
	case !slices.Contains([]Format{FormatWebhook, FormatV2, FormatTicket, FormatMention}, cfg.Format):
		return fmt.Errorf("-format %q: want webhook, v2, ticket or mention", cfg.Format)
	case (cfg.Format == FormatTicket || cfg.Format == FormatMention) && cfg.Batch != 1:
		return fmt.Errorf("-batch %d: a %s request carries one report, want 1", cfg.Batch, cfg.Format)
	case cfg.Concurrency < 1:
		return fmt.Errorf("-concurrency %d: want at least 1", cfg.Concurrency)
	case cfg.Batch < 1:
		return fmt.Errorf("-batch %d: want at least 1", cfg.Batch)
	case cfg.Services < 1:
		return fmt.Errorf("-services %d: want at least 1", cfg.Services)
	case cfg.Duration < 0 || cfg.Requests < 0 || cfg.Timeout <= 0:
		return errors.New("-duration and -requests must not be negative, -timeout must be positive")
	case cfg.Duration == 0 && cfg.Requests == 0:
		return errors.New("set -duration or -requests: the load must be bounded")
	case !labelSafe(cfg.RunID):
		return fmt.Errorf("-run %q: use letters, digits, '-', '_' and '.' only", cfg.RunID)
	}
	return nil
}

// result is the report of one load run.
type result struct {
	URL            string         `json:"url"`
	Format         Format         `json:"format"`
	Batch          int            `json:"batch"`
	Concurrency    int            `json:"concurrency"`
	ElapsedSeconds float64        `json:"elapsed_seconds"`
	Requests       int            `json:"requests"`
	OKRequests     int            `json:"ok_requests"`
	Alerts         int            `json:"alerts"`
	AlertsPerSec   float64        `json:"alerts_per_sec"`
	RequestsPerSec float64        `json:"requests_per_sec"`
	P50Ms          float64        `json:"p50_ms"`
	P99Ms          float64        `json:"p99_ms"`
	MaxMs          float64        `json:"max_ms"` // longest wait, answered or not
	ErrorCount     int            `json:"error_count"`
	Errors         map[string]int `json:"errors"`
	// CutOff counts requests still unanswered when the run ended; they are
	// in neither Requests nor ErrorCount, but many of them mean a stall.
	CutOff int `json:"cut_off"`
}

// writeText prints the report for a person.
func (r *result) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s (%s, batch %d, concurrency %d, %.1fs)\n"+
		"  alerts/s %.1f  requests/s %.1f  p50 %.2fms  p99 %.2fms  max %.2fms\n"+
		"  %d of %d requests ok (%d alerts), %d unanswered at the end, %d errors",
		r.URL, r.Format, r.Batch, r.Concurrency, r.ElapsedSeconds,
		r.AlertsPerSec, r.RequestsPerSec, r.P50Ms, r.P99Ms, r.MaxMs,
		r.OKRequests, r.Requests, r.Alerts, r.CutOff, r.ErrorCount)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		sep := ": "
		if i > 0 {
			sep = ", "
		}
		if _, err := fmt.Fprintf(w, "%s%s ×%d", sep, k, r.Errors[k]); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(w)
	return err
}

// worker's tally, merged into the result at the end.
type tally struct {
	requests  int
	ok        int
	cutOff    int             // unanswered when the run ended
	longest   time.Duration   // longest wait, answered or not
	latencies []time.Duration // of successful requests
	errors    map[string]int
}

// generate sends the load described by cfg until its duration or request
// count is reached, or ctx ends, and reports what it saw.
func generate(ctx context.Context, cfg config) (*result, error) {
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	client := &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			MaxIdleConns:        cfg.Concurrency,
			MaxIdleConnsPerHost: cfg.Concurrency,
			IdleConnTimeout:     time.Minute,
		},
	}
	defer client.CloseIdleConnections()

	var (
		issued  atomic.Int64 // requests handed out, for the -requests bound
		nextID  atomic.Int64 // alert sequence number, for distinct label sets
		wg      sync.WaitGroup
		tallies = make([]tally, cfg.Concurrency)
	)
	start := time.Now()
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tallies[w]
			t.errors = map[string]int{}
			var body bytes.Buffer
			for ctx.Err() == nil {
				if cfg.Requests > 0 && issued.Add(1) > int64(cfg.Requests) {
					return
				}
				first := nextID.Add(int64(cfg.Batch)) - int64(cfg.Batch)
				body.Reset()
				encode(&body, cfg, first, time.Now())
				began := time.Now()
				err := send(ctx, client, cfg, body.Bytes())
				took := time.Since(began)
				t.longest = max(t.longest, took)
				if ctx.Err() != nil && err != nil {
					t.cutOff++ // ended by the end of the run, not by the server
					return
				}
				t.requests++
				if err != nil {
					t.errors[err.Error()]++
					continue
				}
				t.ok++
				t.latencies = append(t.latencies, took)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := &result{
		URL: cfg.URL, Format: cfg.Format, Batch: cfg.Batch, Concurrency: cfg.Concurrency,
		ElapsedSeconds: elapsed.Seconds(), Errors: map[string]int{},
	}
	var lat []time.Duration
	for _, t := range tallies {
		res.Requests += t.requests
		res.OKRequests += t.ok
		res.CutOff += t.cutOff
		res.MaxMs = max(res.MaxMs, latency.Millis(t.longest))
		lat = append(lat, t.latencies...)
		for k, n := range t.errors {
			res.Errors[k] += n
			res.ErrorCount += n
		}
	}
	res.Alerts = res.OKRequests * cfg.Batch
	if s := elapsed.Seconds(); s > 0 {
		res.AlertsPerSec = float64(res.Alerts) / s
		res.RequestsPerSec = float64(res.OKRequests) / s
	}
	slices.Sort(lat)
	res.P50Ms = latency.Millis(latency.Quantile(lat, 0.50))
	res.P99Ms = latency.Millis(latency.Quantile(lat, 0.99))
	return res, nil
}

// send POSTs one payload; any answer but 2xx is an error named by its status.
func send(ctx context.Context, client *http.Client, cfg config, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("transport: %w", err)
	}
	_, copyErr := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errors.New("status " + strconv.Itoa(resp.StatusCode))
	}
	if copyErr != nil {
		return errors.New("reading answer")
	}
	return nil
}
