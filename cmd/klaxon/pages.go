package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
)

// runPages is a webhook receiver for trying Klaxon out: it prints one line
// per page that Alertmanager's webhook integration delivers (the example
// on-call files page http://127.0.0.1:9099/page), until interrupted.
func runPages(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pages", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9099", "address to receive pages on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	fmt.Fprintf(stdout, "receiving pages on http://%s/\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: pagePrinter(stdout), ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	return 0
}

// pagePrinter answers every webhook with 200 and prints what it pages.
func pagePrinter(out io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg webhook.Message
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&msg); err != nil || len(msg.Alerts) == 0 {
			http.Error(w, "want an Alertmanager webhook message", http.StatusBadRequest)
			return
		}
		a := msg.Alerts[0]
		fmt.Fprintf(out, "%s page %s to %s (%s): %s [%s]\n  ack: %s\n",
			time.Now().UTC().Format(time.RFC3339), a.Labels["incident"], a.Labels["person"], r.URL.RequestURI(),
			a.Annotations["summary"], a.Labels["severity"], a.Annotations["ack_url"])
	})
}
