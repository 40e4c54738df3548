package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Where the API client looks for its configuration after its flags and the
// environment, first file first, as amtool does; variables so tests can move
// them.
var clientConfigFiles = func() []string {
	files := []string{"/etc/klaxon/client.yml"}
	if home, err := os.UserHomeDir(); err == nil {
		files = append([]string{filepath.Join(home, ".config", "klaxon", "client.yml")}, files...)
	}
	return files
}

// maxResponse caps how much of an API answer the client reads.
const maxResponse = 64 << 20

// clientFlags are the flags every API subcommand takes.
type clientFlags struct {
	url       string
	tokenFile string
	output    string
	timeout   time.Duration
}

// clientFlagSet returns a flag set for an API subcommand, with the
// connection and output flags registered.
func clientFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *clientFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	fs.StringVar(&cf.url, "klaxon.url", "", "Klaxon's URL (default: $KLAXON_URL, else url in ~/.config/klaxon/client.yml or /etc/klaxon/client.yml)")
	fs.StringVar(&cf.tokenFile, "token-file", "", "file holding the API token (default: $KLAXON_TOKEN, else token_file in the client config files)")
	fs.StringVar(&cf.output, "o", "table", "output: table, or json (the API's answer as it is)")
	fs.StringVar(&cf.output, "output", "table", "the same as -o")
	fs.DurationVar(&cf.timeout, "timeout", 30*time.Second, "how long to wait for Klaxon's answer")
	return fs, &cf
}

// parseInterspersed parses args with fs, allowing flags after positional
// arguments (`ack INC-1 --note x`), and returns the positional ones.
// Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// clientFile is the client configuration file: the flags' names as keys.
type clientFile struct {
	URL       string `yaml:"url"`
	TokenFile string `yaml:"token_file"`
}

// readClientFile reads a client configuration file strictly; a missing file
// is an empty configuration. A relative token_file is relative to the file.
func readClientFile(path string) (clientFile, error) {
	var cf clientFile
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cf, nil
	}
	if err != nil {
		return cf, fmt.Errorf("reading client configuration: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cf); err != nil && !errors.Is(err, io.EOF) {
		return cf, fmt.Errorf("%s: %w (valid keys: url, token_file)", path, err)
	}
	if cf.TokenFile != "" && !filepath.IsAbs(cf.TokenFile) {
		cf.TokenFile = filepath.Join(filepath.Dir(path), cf.TokenFile)
	}
	return cf, nil
}

// settings resolves the URL and the token file: flags first, then the
// environment, then the user's and the system's configuration files. The
// token itself comes back only from $KLAXON_TOKEN.
func (f *clientFlags) settings() (rawURL, tokenFile, envToken string, err error) {
	rawURL, tokenFile, envToken = f.url, f.tokenFile, ""
	if rawURL == "" {
		rawURL = os.Getenv("KLAXON_URL")
	}
	if tokenFile == "" {
		envToken = os.Getenv("KLAXON_TOKEN")
	}
	for _, path := range clientConfigFiles() {
		if rawURL != "" && (tokenFile != "" || envToken != "") {
			break
		}
		file, err := readClientFile(path)
		if err != nil {
			return "", "", "", err
		}
		if rawURL == "" {
			rawURL = file.URL
		}
		if tokenFile == "" && envToken == "" {
			tokenFile = file.TokenFile
		}
	}
	return rawURL, tokenFile, envToken, nil
}

// apiClient calls Klaxon's API with a bearer token.
type apiClient struct {
	base  *url.URL
	token string // never printed
	http  *http.Client
}

// client builds the API client from the resolved settings.
func (f *clientFlags) client() (*apiClient, error) {
	if f.output != "table" && f.output != "json" {
		return nil, fmt.Errorf("-o: %q is neither table nor json", f.output)
	}
	rawURL, tokenFile, token, err := f.settings()
	if err != nil {
		return nil, err
	}
	if rawURL == "" {
		return nil, errors.New("no Klaxon URL: give --klaxon.url, set KLAXON_URL, or set url in ~/.config/klaxon/client.yml")
	}
	base, err := url.Parse(rawURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("Klaxon URL %q: want http(s)://host[:port][/path]", rawURL)
	}
	if tokenFile != "" {
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("reading the token file: %w", err)
		}
		if token = strings.TrimSpace(string(data)); token == "" {
			return nil, fmt.Errorf("token file %s is empty", tokenFile)
		}
	}
	return &apiClient{base: base, token: token, http: &http.Client{Timeout: f.timeout}}, nil
}

// apiError is an answer of the API other than 2xx.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.msg, e.status) }

// call sends a request to path (below the base URL) with query and, unless
// nil, body as JSON, and returns the answer's body if it is a 2xx.
func (c *apiClient) call(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encoding the request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("cannot reach Klaxon at %s: %w", c.base.Redacted(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("reading Klaxon's answer from %s: %w", c.base.Redacted(), err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, answerError(resp.StatusCode, data)
	}
	return data, nil
}

// answerError is the error a non-2xx answer carries: the API's own
// {"error": …} as it is, or the start of whatever else came back.
func answerError(status int, data []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return &apiError{status: status, msg: e.Error}
	}
	text := strings.TrimSpace(string(data))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	if text == "" {
		text = http.StatusText(status)
	}
	return &apiError{status: status, msg: text}
}
