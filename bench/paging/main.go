// Command paging measures how long Klaxon takes to page for an accepted
// SEV1 alert while it holds many incidents with active escalations and
// takes a steady background of alerts.
//
// It writes a configuration (services whose every alert shard is an
// incident of its own, SEV1 for alertname ServiceDown, on-call files whose
// every contact method is a webhook to a receiver this process runs),
// starts the klaxon binary on loopback with a fresh data directory, and
// then:
//
//  1. opens -incidents SEV1 incidents and waits for each one's first page,
//     so that all their escalations are under way (the next step an hour
//     off);
//  2. sends -rate alerts/s of background ingest (re-sends of those
//     incidents' alerts with a fresh endsAt, as Prometheus re-sends, and
//     every -new-every-th a new alert joining one of them: traffic that
//     pages nobody), and meanwhile -probe-rate probe alerts/s for
//     -duration, each a new SEV1 incident;
//  3. reports, over the probes, the time from the 2xx answer to the probe's
//     POST (the alert is durable) to the arrival of its page at the
//     receiver: p50, p90, p99, max. Sender and receiver share one clock.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/klaxonhq/klaxon/bench/internal/latency"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "paging:", err)
		os.Exit(1)
	}
}

// options is one benchmark run.
type options struct {
	Klaxon     string
	Work       string
	Incidents  int
	Teams      int
	Rate       float64
	Batch      int
	Conns      int
	NewEvery   int
	ProbeRate  float64
	Duration   time.Duration
	OpenWithin time.Duration
	Profile    bool
	JSON       bool
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("paging", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.Klaxon, "klaxon", "bin/klaxon", "klaxon binary to start")
	fs.StringVar(&o.Work, "work", "", "directory for the configuration, data and logs (required; made fresh)")
	fs.IntVar(&o.Incidents, "incidents", 10000, "incidents opened, and escalating, before the measurement")
	fs.IntVar(&o.Teams, "teams", 8, "services, each with its own escalation policy and person")
	fs.Float64Var(&o.Rate, "rate", 10000, "background alerts/s during the measurement")
	fs.IntVar(&o.Batch, "batch", 64, "alerts per background request (Prometheus sends up to 64)")
	fs.IntVar(&o.Conns, "conns", 8, "concurrent background senders")
	fs.IntVar(&o.NewEvery, "new-every", 10, "every n-th background alert is new (0: re-sends only)")
	fs.Float64Var(&o.ProbeRate, "probe-rate", 20, "probe SEV1 alerts/s")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "how long the probes and background run")
	fs.DurationVar(&o.OpenWithin, "open-within", 5*time.Minute, "longest wait for the opened incidents' first pages")
	fs.BoolVar(&o.Profile, "profile", false, "save a CPU profile of klaxon during the measurement in -work")
	fs.BoolVar(&o.JSON, "json", false, "print the report as one JSON object")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.Work == "":
		return o, errors.New("-work is required")
	case o.Incidents < 1 || o.Teams < 1 || o.Batch < 1 || o.Conns < 1 || o.NewEvery < 0:
		return o, errors.New("-incidents, -teams, -batch and -conns must be positive, -new-every not negative")
	case o.Rate <= 0 || o.ProbeRate <= 0 || o.Duration <= 0:
		return o, errors.New("-rate, -probe-rate and -duration must be positive")
	}
	return o, nil
}

// report is the benchmark's outcome.
type report struct {
	Incidents       int     `json:"incidents"`
	OpenSeconds     float64 `json:"open_seconds"` // phase 1: until every first page arrived
	TargetRate      float64 `json:"background_target_per_sec"`
	BackgroundRate  float64 `json:"background_per_sec"`
	BackgroundFail  int     `json:"background_failed_requests"`
	BackgroundError string  `json:"background_error,omitempty"`
	Probes          int     `json:"probes"`
	ProbesRefused   int     `json:"probes_refused"`
	ProbesUnpaged   int     `json:"probes_unpaged"`
	MinMs           float64 `json:"min_ms"`
	P50Ms           float64 `json:"p50_ms"`
	P90Ms           float64 `json:"p90_ms"`
	P99Ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`
	// From the start of the probe's POST: the same, plus ingest's fsync.
	SentP50Ms  float64 `json:"sent_p50_ms"`
	SentP99Ms  float64 `json:"sent_p99_ms"`
	SentMaxMs  float64 `json:"sent_max_ms"`
	PeakRSSMiB float64 `json:"klaxon_peak_rss_mib"`
	Pages      int     `json:"pages_received"`
	Work       string  `json:"work"`
}

func run(args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := measure(ctx, o)
	if err != nil {
		return err
	}
	if o.JSON {
		return json.NewEncoder(out).Encode(rep)
	}
	return rep.writeText(out)
}

// measure runs the benchmark: setup, phase 1, phase 2.
func measure(ctx context.Context, o options) (*report, error) {
	if err := os.RemoveAll(o.Work); err != nil {
		return nil, fmt.Errorf("fresh work dir: %w", err)
	}
	if err := os.MkdirAll(o.Work, 0o700); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	recv := newReceiver()
	pageLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(pageLn) }()
	defer srv.Close()

	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	config, err := writeConfig(o.Work, listen, "http://"+pageLn.Addr().String()+"/page", o.Teams)
	if err != nil {
		return nil, err
	}
	base := "http://" + listen
	k, err := startKlaxon(ctx, o.Klaxon, config, filepath.Join(o.Work, "klaxon.log"), base)
	if err != nil {
		return nil, err
	}
	defer k.stop()
	s := newSender(base, o.Conns+4)

	// Phase 1: open the incidents; their first pages go out.
	began := time.Now()
	startsAt := began.Truncate(time.Second)
	if err := s.openIncidents(ctx, o.Incidents, o.Teams, o.Batch, 4, startsAt, startsAt.Add(time.Hour)); err != nil {
		return nil, fmt.Errorf("open incidents: %w", err)
	}
	if !waitPages(ctx, recv, o.Incidents, o.OpenWithin) {
		n, _, _ := recv.counts()
		return nil, fmt.Errorf("only %d of %d incidents paged within %s", n, o.Incidents, o.OpenWithin)
	}
	rep := &report{Incidents: o.Incidents, OpenSeconds: time.Since(began).Seconds(), TargetRate: o.Rate, Work: o.Work}

	// Phase 2: background and probes together.
	pctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	bg := background{Incidents: o.Incidents, Teams: o.Teams, Batch: o.Batch, Conns: o.Conns,
		NewEvery: o.NewEvery, Rate: o.Rate, StartsAt: startsAt}
	bgDone := make(chan bgResult, 1)
	go func() { bgDone <- bg.run(pctx, s) }()
	profDone := make(chan error, 1)
	if o.Profile {
		go func() { profDone <- saveProfile(base, o.Duration-2*time.Second, filepath.Join(o.Work, "cpu.pprof")) }()
	}
	probes := sendProbes(pctx, s, o.Teams, o.ProbeRate)
	bgRes := <-bgDone
	if o.Profile {
		if err := <-profDone; err != nil {
			fmt.Fprintln(os.Stderr, "paging: profile:", err)
		}
	}
	accepted := 0
	for _, p := range probes {
		if p.Err == "" {
			accepted++
		}
	}
	waitPages(ctx, recv, o.Incidents+accepted, 30*time.Second)
	rep.fill(probes, recv, bgRes)
	rep.PeakRSSMiB = k.peakRSSMiB()
	if err := saveURL(base+"/metrics", filepath.Join(o.Work, "metrics.txt")); err != nil {
		fmt.Fprintln(os.Stderr, "paging: metrics:", err)
	}
	return rep, nil
}

func (rep *report) fill(probes []probe, recv *receiver, bg bgResult) {
	lat, sent, unpaged := latencies(probes, recv)
	rep.Probes, rep.ProbesUnpaged = len(lat), unpaged
	rep.ProbesRefused = len(probes) - len(lat) - unpaged
	rep.MinMs, rep.P50Ms, rep.P90Ms = latency.Millis(latency.Quantile(lat, 0)), latency.Millis(latency.Quantile(lat, 0.50)), latency.Millis(latency.Quantile(lat, 0.90))
	rep.P99Ms, rep.MaxMs = latency.Millis(latency.Quantile(lat, 0.99)), latency.Millis(latency.Quantile(lat, 1))
	rep.SentP50Ms, rep.SentP99Ms, rep.SentMaxMs = latency.Millis(latency.Quantile(sent, 0.50)), latency.Millis(latency.Quantile(sent, 0.99)), latency.Millis(latency.Quantile(sent, 1))
	rep.BackgroundRate = float64(bg.Alerts) / bg.Elapsed.Seconds()
	rep.BackgroundFail, rep.BackgroundError = bg.Failed, bg.Err
	_, rep.Pages, _ = recv.counts()
}

func (rep *report) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "paging latency, accepted SEV1 alert to its page at the receiver, with %d incidents escalating (opened and first-paged in %.1fs)\n"+
		"  background %.0f alerts/s (target %.0f, %d failed requests)\n"+
		"  %d probes paged (%d refused, %d never paged): min %.2fms  p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms\n"+
		"  from the probe's POST sent (adds ingest's fsync): p50 %.2fms  p99 %.2fms  max %.2fms\n"+
		"  klaxon peak RSS %.0f MiB; %d pages received; work dir %s\n",
		rep.Incidents, rep.OpenSeconds, rep.BackgroundRate, rep.TargetRate, rep.BackgroundFail,
		rep.Probes, rep.ProbesRefused, rep.ProbesUnpaged, rep.MinMs, rep.P50Ms, rep.P90Ms, rep.P99Ms, rep.MaxMs,
		rep.SentP50Ms, rep.SentP99Ms, rep.SentMaxMs, rep.PeakRSSMiB, rep.Pages, rep.Work)
	return err
}

// freeAddr returns a loopback address nothing listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// saveProfile saves a CPU profile of Klaxon over d to path.
func saveProfile(base string, d time.Duration, path string) error {
	secs := max(1, int(d.Seconds()))
	return saveURL(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), path)
}

// saveURL saves what an admin GET of url answers to path.
func saveURL(url, path string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save %s: %w", url, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", url, err)
	}
	return f.Close()
}
