package config

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input panics, that every error is an *Error
// naming the file, and that every accepted configuration is valid. The seed
// corpus is every file under testdata/valid and testdata/invalid.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yml"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	path := filepath.Join("testdata", "valid", "fuzz.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, path)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error %q is not an *Error naming %s", err, path)
			}
			return
		}
		if !filepath.IsAbs(cfg.DataDir) {
			t.Errorf("data_dir %q is not resolved", cfg.DataDir)
		}
		if u, err := url.Parse(cfg.ExternalURL); err != nil || !u.IsAbs() {
			t.Errorf("external_url %q is not absolute", cfg.ExternalURL)
		}
		if len(cfg.Auth.Admin) == 0 && !cfg.Auth.AdminOpen {
			t.Error("no admin tokens and admin_open false")
		}
		for _, ts := range []Tokens{cfg.Auth.Admin, cfg.Auth.Metrics, cfg.Auth.Ingest.Alertmanager.Tokens, cfg.Auth.Ingest.Prometheus.Tokens} {
			for _, tok := range ts {
				if len(tok.Token.Reveal()) < MinTokenLength || tok.Name == "" {
					t.Errorf("token %q accepted with %d bytes", tok.Name, len(tok.Token.Reveal()))
				}
			}
		}
	})
}
