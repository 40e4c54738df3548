// Command loadgen sends alerts to an Alertmanager-compatible endpoint as fast
// as a fixed number of concurrent senders can, each alert with a label set of
// its own, and reports the throughput and latency it saw.
//
// It speaks both of the formats Klaxon takes: Alertmanager's webhook payload
// (-format webhook, for Klaxon's /ingest/alertmanager) and the alert list of
// POST /api/v2/alerts (-format v2, for Klaxon and for Alertmanager itself), so
// that bench/ingest.sh can put the same load on both; and generic tickets
// and mentions (-format ticket, mention), one per request.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// run parses args, sends the load and writes the report to out.
func run(args []string, out io.Writer) error {
	cfg, asJSON, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := generate(ctx, cfg)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(out)
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
	} else if err := res.writeText(out); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if res.OKRequests == 0 {
		return errors.New("no request succeeded")
	}
	return nil
}

// parseFlags turns the command line into a load configuration, and says
// whether the report is wanted as JSON.
func parseFlags(args []string) (config, bool, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var cfg config
	var format string
	fs.StringVar(&cfg.URL, "url", "", "endpoint to POST to, e.g. http://127.0.0.1:9095/ingest/alertmanager")
	fs.StringVar(&format, "format", "webhook", "payload format: webhook (Alertmanager's webhook, v4), v2 (POST /api/v2/alerts), ticket (/ingest/tickets/generic) or mention (/ingest/mentions/generic)")
	fs.StringVar(&cfg.Token, "token", "", "bearer token to send, if any")
	fs.IntVar(&cfg.Concurrency, "concurrency", 8, "concurrent senders")
	fs.IntVar(&cfg.Batch, "batch", 1, "alerts per request")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "stop after this long (0: no time bound, needs -requests)")
	fs.IntVar(&cfg.Requests, "requests", 0, "stop after this many requests in all (0: no count bound)")
	fs.IntVar(&cfg.Services, "services", 10, "number of distinct service label values")
	fs.StringVar(&cfg.RunID, "run", strconv.FormatInt(time.Now().UnixNano(), 36), "value of the run label, which keeps label sets distinct across runs")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "timeout of one request")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := fs.Parse(args); err != nil {
		return config{}, false, err
	}
	if fs.NArg() > 0 {
		return config{}, false, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Format = Format(format)
	if err := cfg.validate(); err != nil {
		return config{}, false, err
	}
	return cfg, *asJSON, nil
}
