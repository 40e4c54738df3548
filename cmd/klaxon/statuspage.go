package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/statuspage"
)

// newStatusPublisher returns the publisher of the external status page
// that cfg configures, or nil when it is disabled.
func newStatusPublisher(cfg *config.Config, src statuspage.Source, archive statuspage.Archive, log *zap.Logger) (*statuspage.Publisher, error) {
	sc := cfg.StatusPage
	if !sc.Enabled {
		return nil, nil
	}
	tpl, err := statuspage.LoadTemplates(sc.TemplatesDir, sc.Language)
	if err != nil {
		return nil, fmt.Errorf("statuspage: %w", err)
	}
	loc, err := time.LoadLocation(sc.TimeZone) // "" is UTC
	if err != nil {
		return nil, fmt.Errorf("statuspage: time_zone: %w", err)
	}
	states := maps.Clone(statuspage.DefaultStates)
	for _, cs := range sc.ComponentStates {
		states[cs.Severity] = statuspage.ComponentStatus(cs.Status)
	}
	url := sc.URL
	if url == "" {
		url = cfg.ExternalURL + statuspage.Prefix
	}
	return statuspage.NewPublisher(src, archive, statuspage.Options{
		Page:      statuspage.PageOptions{Name: sc.Name, URL: url, Language: sc.Language, Location: loc, Days: sc.HistoryDays},
		Mapper:    statuspage.Mapper{Templates: tpl, Language: sc.Language, Location: loc, States: states},
		ExportDir: sc.ExportDir,
		Interval:  sc.RenderInterval,
		Log:       log,
	}), nil
}

const usageStatusPageExport = "statuspage export --out DIR [--klaxon.url URL]  copy a running Klaxon's status page into DIR, replacing it atomically"

// runStatusPageExport answers `klaxon statuspage export`: it fetches every
// output of the running Klaxon's status page and exports them to a
// directory, all or nothing.
func runStatusPageExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("statuspage export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write the page to (replaced atomically)")
	base := fs.String("klaxon.url", "", "Klaxon's URL (default: $KLAXON_URL, else http://127.0.0.1:9095)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for Klaxon")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: klaxon", usageStatusPageExport)
		return 2
	}
	url := strings.TrimSuffix(cmpOr(*base, os.Getenv("KLAXON_URL"), "http://"+config.DefaultListenAddress), "/")
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	site, err := fetchStatusPage(ctx, url)
	if err == nil {
		err = statuspage.Export(site, *out)
	}
	if err != nil {
		fmt.Fprintln(stderr, "klaxon:", err)
		return 1
	}
	fmt.Fprintf(stdout, "exported %d files to %s\n", len(site.Files), *out)
	return 0
}

// cmpOr is the first of its arguments that is not empty.
func cmpOr(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// fetchStatusPage reads every output of the status page at base.
func fetchStatusPage(ctx context.Context, base string) (*statuspage.Site, error) {
	site := &statuspage.Site{Files: map[string]*statuspage.File{}}
	for _, p := range statuspage.Paths {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+statuspage.Prefix+"/"+p, nil)
		if err != nil {
			return nil, fmt.Errorf("status page %s: %w", p, err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("status page %s: %w", p, err)
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
		res.Body.Close()
		switch {
		case err != nil:
			return nil, fmt.Errorf("status page %s: %w", p, err)
		case res.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("status page %s: %s from %s", p, res.Status, base)
		}
		site.Files[p] = &statuspage.File{Body: body, Type: res.Header.Get("Content-Type"), ETag: res.Header.Get("ETag")}
	}
	return site, nil
}
