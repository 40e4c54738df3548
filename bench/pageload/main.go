// Command pageload measures how many GET requests per second an HTTP
// server answers for one URL: a fixed number of keep-alive clients on
// loopback ask again as soon as they are answered, for a bounded time.
// bench/statuspage.sh drives nginx and Klaxon's status page with it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// result is what one run measured.
type result struct {
	URL         string  `json:"url"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	RequestsSec float64 `json:"requests_per_sec"`
}

func main() {
	url := flag.String("url", "", "the URL to GET (required)")
	concurrency := flag.Int("concurrency", 16, "clients asking at once")
	duration := flag.Duration("duration", 10*time.Second, "how long to load the server")
	gzip := flag.Bool("gzip", true, "ask for gzip (Accept-Encoding: gzip), as browsers do")
	flag.Parse()
	if *url == "" || *concurrency < 1 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "pageload: -url is required; -concurrency and -duration must be positive")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	res, err := run(ctx, *url, *concurrency, *gzip)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pageload:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

// run loads url with n clients until ctx ends. The first request must
// succeed, so that a misconfigured server is an error, not a fast 404.
func run(ctx context.Context, url string, n int, gzip bool) (result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func(ctx context.Context) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		if gzip {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		nb, err := io.Copy(io.Discard, resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nb, err
	}
	if _, err := get(ctx); err != nil {
		return result{}, fmt.Errorf("first request: %w", err)
	}
	var reqs, errs, bytes atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				nb, err := get(ctx)
				switch {
				case err == nil:
					reqs.Add(1)
					bytes.Add(nb)
				case !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled):
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	return result{URL: url, Requests: reqs.Load(), Errors: errs.Load(), Bytes: bytes.Load(), Seconds: secs,
		RequestsSec: float64(reqs.Load()) / secs}, nil
}
