package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/klaxonhq/klaxon/ingest"
)

// sentAlert is what a receiving server sees of one alert, in either format.
type sentAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	StartsAt    time.Time         `json:"startsAt"`
	Fingerprint string            `json:"fingerprint"`
}

// decodeAlerts reads a request body of the given format.
func decodeAlerts(format Format, body []byte) ([]sentAlert, error) {
	var alerts []sentAlert
	if format == FormatV2 {
		err := json.Unmarshal(body, &alerts)
		return alerts, err
	}
	var msg struct {
		Version  string      `json:"version"`
		GroupKey string      `json:"groupKey"`
		Status   string      `json:"status"`
		Alerts   []sentAlert `json:"alerts"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return nil, err
	}
	if msg.Version != "4" || msg.Status != "firing" || msg.GroupKey == "" {
		return nil, fmt.Errorf("webhook header: version %q, status %q, groupKey %q", msg.Version, msg.Status, msg.GroupKey)
	}
	return msg.Alerts, nil
}

func TestEncode(t *testing.T) {
	now := time.Date(2025, 11, 25, 21, 0, 0, 123, time.UTC)
	for _, format := range []Format{FormatWebhook, FormatV2} {
		t.Run(string(format), func(t *testing.T) {
			cfg := config{Format: format, Batch: 7, Services: 3, RunID: "r-1"}
			var buf bytes.Buffer
			encode(&buf, cfg, 40, now)
			alerts, err := decodeAlerts(format, buf.Bytes())
			if err != nil {
				t.Fatalf("decoding %s: %v", buf.Bytes(), err)
			}
			if len(alerts) != cfg.Batch {
				t.Fatalf("%d alerts, want %d", len(alerts), cfg.Batch)
			}
			seen := map[string]bool{}
			for i, a := range alerts {
				wantLabels := map[string]string{
					"alertname": alertName,
					"instance":  fmt.Sprintf("a%d", 40+i),
					"run":       "r-1",
					"service":   fmt.Sprintf("svc-%d", (40+i)%3),
				}
				if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) {
					t.Errorf("alert %d: labels %v, want %v", i, a.Labels, wantLabels)
				}
				if !a.StartsAt.Equal(now) {
					t.Errorf("alert %d: startsAt %v, want %v", i, a.StartsAt, now)
				}
				if format == FormatWebhook {
					ls := model.LabelSet{}
					for k, v := range a.Labels {
						ls[model.LabelName(k)] = model.LabelValue(v)
					}
					if a.Fingerprint != ls.Fingerprint().String() || a.Status != "firing" {
						t.Errorf("alert %d: status %q fingerprint %q, want firing %q", i, a.Status, a.Fingerprint, ls.Fingerprint())
					}
				}
				seen[a.Labels["instance"]] = true
			}
			if len(seen) != cfg.Batch {
				t.Errorf("%d distinct label sets in a batch of %d", len(seen), cfg.Batch)
			}
		})
	}
}

// receiver is a test endpoint that records every alert it is sent.
type receiver struct {
	t      *testing.T
	format Format
	token  string
	status int

	mu     sync.Mutex
	alerts []sentAlert
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+rc.token {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		rc.t.Errorf("reading request: %v", err)
		return
	}
	alerts, err := decodeAlerts(rc.format, body)
	if err != nil {
		rc.t.Errorf("decoding request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.alerts = append(rc.alerts, alerts...)
	rc.mu.Unlock()
	w.WriteHeader(rc.status)
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name       string
		format     Format
		status     int
		token      string
		wantOK     int
		wantErrors map[string]int
	}{
		{"webhook accepted", FormatWebhook, http.StatusOK, "tok", 20, map[string]int{}},
		{"v2 accepted", FormatV2, http.StatusOK, "tok", 20, map[string]int{}},
		{"server failing", FormatV2, http.StatusServiceUnavailable, "tok", 0, map[string]int{"status 503": 20}},
		{"wrong token", FormatWebhook, http.StatusOK, "other", 0, map[string]int{"status 401": 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{t: t, format: tt.format, token: "tok", status: tt.status}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			cfg := config{
				URL: srv.URL, Format: tt.format, Token: tt.token, Concurrency: 4, Batch: 3,
				Requests: 20, Services: 2, RunID: "test", Timeout: 10 * time.Second,
			}
			res, err := generate(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests != 20 || res.OKRequests != tt.wantOK || res.Alerts != tt.wantOK*3 {
				t.Errorf("requests %d ok %d alerts %d, want 20, %d, %d", res.Requests, res.OKRequests, res.Alerts, tt.wantOK, tt.wantOK*3)
			}
			if fmt.Sprint(res.Errors) != fmt.Sprint(tt.wantErrors) || res.ErrorCount != 20-tt.wantOK {
				t.Errorf("errors %v (%d), want %v", res.Errors, res.ErrorCount, tt.wantErrors)
			}
			if tt.wantOK > 0 && (res.P50Ms <= 0 || res.P99Ms < res.P50Ms || res.MaxMs < res.P99Ms) {
				t.Errorf("latencies p50 %v p99 %v max %v out of order", res.P50Ms, res.P99Ms, res.MaxMs)
			}
			distinct := map[string]bool{}
			for _, a := range rc.alerts {
				distinct[fmt.Sprint(a.Labels)] = true
			}
			if tt.status == http.StatusOK && tt.wantOK > 0 && len(distinct) != 60 {
				t.Errorf("%d distinct label sets among %d alerts received, want 60", len(distinct), len(rc.alerts))
			}
		})
	}
}

func TestGenerateStopsAfterDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	cfg := config{URL: srv.URL, Format: FormatV2, Concurrency: 2, Batch: 1, Duration: 200 * time.Millisecond,
		Services: 1, RunID: "d", Timeout: 10 * time.Second}
	res, err := generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.OKRequests == 0 || res.ErrorCount != 0 {
		t.Errorf("ok %d errors %v, want some ok and none failed", res.OKRequests, res.Errors)
	}
}

// TestEncodeReports checks that generated tickets and mentions are what
// Klaxon's generic endpoints take, each a report of its own.
func TestEncodeReports(t *testing.T) {
	for _, tt := range []struct {
		format Format
		parse  ingest.Parser
	}{{FormatTicket, ingest.ParseTicketGeneric}, {FormatMention, ingest.ParseMentionGeneric}} {
		cfg := config{Format: tt.format, Batch: 1, Services: 3, RunID: "r-1"}
		seen := map[string]bool{}
		for n := range int64(5) {
			var buf bytes.Buffer
			encode(&buf, cfg, n, time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
			sigs, err := tt.parse(buf.Bytes(), time.Now(), ingest.Limits{})
			if err != nil || len(sigs) != 1 {
				t.Fatalf("%s %d: %s: %v", tt.format, n, buf.Bytes(), err)
			}
			if seen[sigs[0].Fingerprint] {
				t.Errorf("%s %d repeats a report", tt.format, n)
			}
			seen[sigs[0].Fingerprint] = true
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-url", "http://127.0.0.1:1/x"}, ""},
		{[]string{"-url", "http://127.0.0.1:1/x", "-format", "v2", "-batch", "100", "-requests", "5", "-duration", "0"}, ""},
		{[]string{}, "-url is required"},
		{[]string{"-url", "ftp://h/x"}, "want an http"},
		{[]string{"-url", "127.0.0.1:1"}, "-url"},
		{[]string{"-url", "http://h/", "-format", "v1"}, "-format"},
		{[]string{"-url", "http://h/", "-format", "ticket"}, ""},
		{[]string{"-url", "http://h/", "-format", "mention", "-batch", "2"}, "one report"},
		{[]string{"-url", "http://h/", "-batch", "0"}, "-batch"},
		{[]string{"-url", "http://h/", "-concurrency", "0"}, "-concurrency"},
		{[]string{"-url", "http://h/", "-services", "0"}, "-services"},
		{[]string{"-url", "http://h/", "-duration", "0"}, "bounded"},
		{[]string{"-url", "http://h/", "-run", `a"b`}, "-run"},
		{[]string{"-url", "http://h/", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		_, _, err := parseFlags(tt.args)
		if tt.wantErr == "" && err != nil {
			t.Errorf("%q: %v", tt.args, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%q: error %v, want one mentioning %q", tt.args, err, tt.wantErr)
		}
	}
}

func TestRunReports(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()

	var out bytes.Buffer
	if err := run([]string{"-url", srv.URL, "-requests", "5", "-json"}, &out); err != nil {
		t.Fatal(err)
	}
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("-json output %q: %v", out.String(), err)
	}
	if res.OKRequests != 5 || res.Alerts != 5 {
		t.Errorf("-json report %+v, want 5 ok requests of one alert", res)
	}

	out.Reset()
	if err := run([]string{"-url", srv.URL, "-requests", "5", "-batch", "2"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "5 of 5 requests ok (10 alerts), 0 unanswered at the end, 0 errors") {
		t.Errorf("text report %q lacks the tally", out.String())
	}
}

func TestGenerateCountsCutOff(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a stalled server: answers nothing until the client gives up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := config{URL: srv.URL, Format: FormatWebhook, Concurrency: 3, Batch: 1, Duration: 200 * time.Millisecond,
		Services: 1, RunID: "stall", Timeout: 10 * time.Second}
	res, err := generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.CutOff != 3 || res.Requests != 0 || res.ErrorCount != 0 {
		t.Errorf("cut off %d, requests %d, errors %d; want 3 cut off and nothing else", res.CutOff, res.Requests, res.ErrorCount)
	}
	if res.MaxMs < 200 {
		t.Errorf("max wait %vms, want at least the 200ms the stalled requests waited", res.MaxMs)
	}
}
