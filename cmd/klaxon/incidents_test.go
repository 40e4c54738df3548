package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const testToken = "s3cret-token-0123456789"

// request is what the fake API saw of one request.
type request struct{ method, uri, body, auth string }

// fakeAPI answers every request with status and answer, and records it.
type fakeAPI struct {
	*httptest.Server
	status int
	answer string
	mu     sync.Mutex
	seen   []request
}

// requests is what the fake API has seen so far.
func (f *fakeAPI) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{status: http.StatusOK, answer: "{}"}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.seen = append(f.seen, request{r.Method, r.RequestURI, string(body), r.Header.Get("Authorization")})
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.answer)
	}))
	t.Cleanup(f.Close)
	return f
}

// isolate keeps the client away from the real environment and config files,
// fixes the clock, and returns a directory for the test's files.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("KLAXON_URL", "")
	t.Setenv("KLAXON_TOKEN", "")
	oldFiles, oldNow := clientConfigFiles, now
	clientConfigFiles = func() []string { return []string{filepath.Join(dir, "home.yml"), filepath.Join(dir, "etc.yml")} }
	now = func() time.Time { return time.Date(2026, 12, 1, 4, 30, 0, 0, time.UTC) }
	t.Cleanup(func() { clientConfigFiles, now = oldFiles, oldNow })
	return dir
}

func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		writeFile(t, path, got)
	}
	if want := readTestdata(t, name); got != want {
		t.Errorf("%s differs (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestIncidentsCommandsSendAndPrint(t *testing.T) {
	list, detail := readTestdata(t, "list.json"), readTestdata(t, "incident.json")
	var summary string // one incident as the action endpoints answer
	if i := strings.Index(detail, `  "signals"`); i > 0 {
		summary = strings.TrimSuffix(strings.TrimSpace(detail[:i]), ",") + "}"
	}
	tests := []struct {
		name     string
		args     []string
		status   int
		answer   string
		want     *request // nil: no request may be sent
		code     int
		out, err string // substrings of stdout and stderr
	}{
		{"list open by default", []string{"list"}, 200, list,
			&request{"GET", "/api/v1/incidents?status=open", "", ""}, 0, "INC-7  SEV1*     acknowledged  checkout+1  20m", "more: add --cursor 2"},
		{"list filters", []string{"list", "--status", "all", "--severity", "SEV1", "--service", "api", "--limit", "5", "--cursor", "7"}, 200, list,
			&request{"GET", "/api/v1/incidents?cursor=7&limit=5&service=api&severity=SEV1", "", ""}, 0, "INC-2", ""},
		{"list archived is every status", []string{"list", "--archived"}, 200, list,
			&request{"GET", "/api/v1/incidents?archived=true", "", ""}, 0, "KEY", ""},
		{"list archived resolved", []string{"list", "--archived", "--status", "resolved"}, 200, list,
			&request{"GET", "/api/v1/incidents?archived=true&status=resolved", "", ""}, 0, "KEY", ""},
		{"list json is the answer", []string{"list", "-o", "json"}, 200, `{"incidents":[]}`,
			&request{"GET", "/api/v1/incidents?status=open", "", ""}, 0, "{\"incidents\":[]}\n", ""},
		{"list takes no arguments", []string{"list", "INC-1"}, 200, list, nil, 2, "", "usage: klaxon incidents list"},
		{"list bad output", []string{"list", "-o", "yaml"}, 200, list, nil, 2, "", `-o: "yaml" is neither table nor json`},
		{"show", []string{"show", "INC-7"}, 200, detail,
			&request{"GET", "/api/v1/incidents/INC-7?signalsLimit=100", "", ""}, 0, "SIGNALS (2 of 3)", ""},
		{"show escapes the key", []string{"show", "--signals", "5", "a/b c"}, 200, detail,
			&request{"GET", "/api/v1/incidents/a%2Fb%20c?signalsLimit=5", "", ""}, 0, "INC-7", ""},
		{"show needs a key", []string{"show"}, 200, detail, nil, 2, "", "usage: klaxon incidents show"},
		{"show refuses a dot key", []string{"show", ".."}, 200, detail, nil, 2, "", "usage: klaxon incidents show"},
		{"ack with flags after the key", []string{"ack", "INC-7", "--by", "alice", "--note", "looking"}, 200, summary,
			&request{"POST", "/api/v1/incidents/INC-7/ack", `{"by":"alice","note":"looking"}`, ""}, 0, "INC-7  SEV1*", ""},
		{"ack json", []string{"ack", "-o", "json", "INC-7"}, 200, `{"key":"INC-7"}`,
			&request{"POST", "/api/v1/incidents/INC-7/ack", `{}`, ""}, 0, `{"key":"INC-7"}`, ""},
		{"resolve", []string{"resolve", "--note", "fixed", "INC-7"}, 200, summary,
			&request{"POST", "/api/v1/incidents/INC-7/resolve", `{"note":"fixed"}`, ""}, 0, "Checkout is down", ""},
		{"escalate", []string{"escalate", "INC-7"}, 200, summary,
			&request{"POST", "/api/v1/incidents/INC-7/escalate", `{}`, ""}, 0, "INC-7", ""},
		{"escalate after --", []string{"escalate", "--", "-x"}, 200, summary,
			&request{"POST", "/api/v1/incidents/-x/escalate", `{}`, ""}, 0, "INC-7", ""},
		{"severity set", []string{"severity", "INC-7", "SEV1", "--reason", "payments fail too"}, 200, summary,
			&request{"POST", "/api/v1/incidents/INC-7/severity", `{"severity":"SEV1","reason":"payments fail too"}`, ""}, 0, "SEV1*", ""},
		{"severity clear", []string{"severity", "--by", "bob", "INC-7", "--clear"}, 200, summary,
			&request{"POST", "/api/v1/incidents/INC-7/severity", `{"by":"bob","clear":true}`, ""}, 0, "INC-7", ""},
		{"severity needs a level or --clear", []string{"severity", "INC-7"}, 200, summary, nil, 2, "", "usage: klaxon incidents severity"},
		{"severity not both", []string{"severity", "INC-7", "SEV1", "--clear"}, 200, summary, nil, 2, "", "usage: klaxon incidents severity"},
		{"postmortem prints the Markdown", []string{"postmortem", "INC-7"}, 200, "# Post-mortem: INC-7\n",
			&request{"GET", "/api/v1/incidents/INC-7/postmortem", "", ""}, 0, "# Post-mortem: INC-7\n", ""},
		{"postmortem needs a key", []string{"postmortem"}, 200, "", nil, 2, "", "usage: klaxon incidents postmortem"},
		{"ack needs one key", []string{"ack", "INC-1", "INC-2"}, 200, summary, nil, 2, "", "usage: klaxon incidents ack"},
		{"unknown flag", []string{"ack", "--who", "x", "INC-1"}, 200, summary, nil, 2, "", "flag provided but not defined: -who"},
		{"API error as it is", []string{"ack", "INC-9"}, 404, `{"error":"no incident \"INC-9\""}`,
			&request{"POST", "/api/v1/incidents/INC-9/ack", `{}`, ""}, 1, "", "klaxon: no incident \"INC-9\" (HTTP 404)\n"},
		{"API conflict", []string{"resolve", "INC-1"}, 409, `{"error":"INC-1 was resolved and has been archived"}`,
			&request{"POST", "/api/v1/incidents/INC-1/resolve", `{}`, ""}, 1, "", "INC-1 was resolved and has been archived (HTTP 409)"},
		{"an answer not from the API", []string{"list"}, 502, "<html>bad gateway</html>",
			&request{"GET", "/api/v1/incidents?status=open", "", ""}, 1, "", "<html>bad gateway</html> (HTTP 502)"},
		{"an answer that is not an incident", []string{"show", "INC-7"}, 200, "[1]",
			&request{"GET", "/api/v1/incidents/INC-7?signalsLimit=100", "", ""}, 1, "", "reading incident INC-7:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			f := newFakeAPI(t)
			f.status, f.answer = tt.status, tt.answer
			tokenFile := writeFile(t, filepath.Join(dir, "token"), testToken+"\n")
			args := append([]string{"incidents", tt.args[0], "--klaxon.url", f.URL, "--token-file", tokenFile}, tt.args[1:]...)
			out, errOut := checkRun(t, args, tt.code, tt.out, tt.err)
			if strings.Contains(out+errOut, testToken) {
				t.Errorf("the token was printed:\n%s%s", out, errOut)
			}
			seen := f.requests()
			switch {
			case tt.want == nil && len(seen) > 0:
				t.Errorf("sent %+v, want nothing sent", seen)
			case tt.want != nil && len(seen) != 1:
				t.Errorf("sent %+v, want one request", seen)
			case tt.want != nil:
				want := *tt.want
				want.auth = "Bearer " + testToken
				if seen[0] != want {
					t.Errorf("sent %+v\nwant %+v", seen[0], want)
				}
			}
		})
	}
}

// TestIncidentsTables pins the table layouts of list and show.
func TestIncidentsTables(t *testing.T) {
	for _, tt := range []struct {
		args            []string
		fixture, golden string
	}{
		{[]string{"incidents", "list"}, "list.json", "list.golden"},
		{[]string{"incidents", "show", "INC-7"}, "incident.json", "show.golden"},
	} {
		isolate(t)
		f := newFakeAPI(t)
		f.answer = readTestdata(t, tt.fixture)
		t.Setenv("KLAXON_URL", f.URL)
		var out, errOut bytes.Buffer
		if code := dispatch(tt.args, &out, &errOut); code != 0 {
			t.Fatalf("klaxon %s = %d: %s", strings.Join(tt.args, " "), code, errOut.String())
		}
		golden(t, tt.golden, out.String())
	}
}

// TestClientSettings checks where the URL and the token come from: flags,
// then the environment, then the user's, then the system's config file.
func TestClientSettings(t *testing.T) {
	tests := []struct {
		name              string
		flags             []string          // {{url}} and {{dir}} are replaced
		env               map[string]string // the same
		home, etc         string            // config files; "" for none
		files             map[string]string // more files in the directory
		code              int
		auth, err, notErr string
	}{
		{name: "flags", flags: []string{"--klaxon.url", "{{url}}", "--token-file", "{{dir}}/t1"},
			env:   map[string]string{"KLAXON_URL": "http://127.0.0.1:1", "KLAXON_TOKEN": "from-env-0123456789"},
			home:  "url: http://127.0.0.1:2\ntoken_file: t2\n",
			files: map[string]string{"t1": "from-file-one-0123456\n", "t2": "from-file-two-0123456\n"},
			auth:  "Bearer from-file-one-0123456"},
		{name: "environment", env: map[string]string{"KLAXON_URL": "{{url}}", "KLAXON_TOKEN": "from-env-0123456789"},
			home: "url: http://127.0.0.1:2\ntoken_file: t2\n", files: map[string]string{"t2": "from-file-two-0123456\n"},
			auth: "Bearer from-env-0123456789"},
		{name: "user file before system file", home: "url: {{url}}\ntoken_file: t2\n",
			etc: "url: http://127.0.0.1:3\ntoken_file: t3\n", files: map[string]string{"t2": "two-0123456789abcdef", "t3": "three-0123456789abcd"},
			auth: "Bearer two-0123456789abcdef"},
		{name: "system file fills in", home: "token_file: {{dir}}/t2\n", etc: "url: {{url}}\ntoken_file: t3\n",
			files: map[string]string{"t2": "two-0123456789abcdef", "t3": "three-0123456789abcd"},
			auth:  "Bearer two-0123456789abcdef"},
		{name: "no token at all", flags: []string{"--klaxon.url", "{{url}}"}, auth: ""},
		{name: "empty files are fine", home: "\n", etc: "# nothing\n", env: map[string]string{"KLAXON_URL": "{{url}}"}, auth: ""},
		{name: "no URL", code: 2, err: "no Klaxon URL: give --klaxon.url, set KLAXON_URL"},
		{name: "bad URL", flags: []string{"--klaxon.url", "127.0.0.1:9095"}, code: 2, err: `Klaxon URL "127.0.0.1:9095": want http(s)://`},
		{name: "strict config", home: "url: {{url}}\ntoken: secret-in-config-0123\n", code: 2,
			err: "home.yml: yaml: unmarshal errors:\n  line 2: field token not found", notErr: "secret-in-config"},
		{name: "config not YAML", etc: "url: [\n", env: map[string]string{"KLAXON_URL": "{{url}}"}, code: 2, err: "etc.yml: yaml:"},
		{name: "missing token file", flags: []string{"--klaxon.url", "{{url}}", "--token-file", "{{dir}}/nope"}, code: 2,
			err: "reading the token file: open "},
		{name: "empty token file", flags: []string{"--klaxon.url", "{{url}}", "--token-file", "{{dir}}/empty"},
			files: map[string]string{"empty": " \n"}, code: 2, err: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			f := newFakeAPI(t)
			f.answer = `{"incidents":[]}`
			fill := strings.NewReplacer("{{url}}", f.URL, "{{dir}}", dir).Replace
			for name, text := range map[string]string{"home.yml": tt.home, "etc.yml": tt.etc} {
				if text != "" {
					writeFile(t, filepath.Join(dir, name), fill(text))
				}
			}
			for name, text := range tt.files {
				writeFile(t, filepath.Join(dir, name), text)
			}
			for k, v := range tt.env {
				t.Setenv(k, fill(v))
			}
			args := []string{"incidents", "list"}
			for _, a := range tt.flags {
				args = append(args, fill(a))
			}
			var out, errOut bytes.Buffer
			code := dispatch(args, &out, &errOut)
			if code != tt.code || !strings.Contains(errOut.String(), tt.err) ||
				(tt.notErr != "" && strings.Contains(errOut.String(), tt.notErr)) {
				t.Fatalf("klaxon %s = %d, stderr: %s\nwant %d, stderr ~ %q", strings.Join(args, " "), code, errOut.String(), tt.code, tt.err)
			}
			seen := f.requests()
			if tt.code != 0 {
				if len(seen) != 0 {
					t.Errorf("sent %+v, want nothing sent", seen)
				}
				return
			}
			if len(seen) != 1 || seen[0].auth != tt.auth {
				t.Errorf("sent %+v, want one request with Authorization %q", seen, tt.auth)
			}
		})
	}
}

func TestConnectionErrorNamesTheURL(t *testing.T) {
	isolate(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	var out, errOut bytes.Buffer
	code := dispatch([]string{"incidents", "list", "--klaxon.url", "http://" + addr}, &out, &errOut)
	want := "klaxon: cannot reach Klaxon at http://" + addr + ": dial tcp " + addr + ": connect: connection refused"
	if code != 1 || !strings.Contains(errOut.String(), want) {
		t.Errorf("= %d, stderr %q, want 1 and %q", code, errOut.String(), want)
	}
}

// TestIncidentsAgainstTheAPI drives the real incident API, in process, through
// the commands a responder types.
func TestIncidentsAgainstTheAPI(t *testing.T) {
	isolate(t)
	gin.SetMode(gin.ReleaseMode)
	state := triage.New(nil)
	j := journal.NewMemory(state, nil)
	eng := engine.New(j, state, engine.Options{})
	r := gin.New()
	r.Use(func(c *gin.Context) {
		if c.GetHeader("Authorization") != "Bearer "+testToken {
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid bearer token"})
		}
	})
	api.NewIncidents(state, eng, j, func(*gin.Context) string { return "token-holder" }).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	labels := map[string]string{"alertname": "CheckoutDown", "service": "checkout"}
	if _, err := eng.Submit(context.Background(), []signal.Signal{{Source: signal.SourceAlertmanager, Kind: signal.KindAlert,
		Fingerprint: signal.Fingerprint(signal.StringsFrom(labels)), Status: signal.StatusFiring, Labels: signal.StringsFrom(labels), StartsAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KLAXON_URL", srv.URL)
	t.Setenv("KLAXON_TOKEN", testToken)
	steps := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"list"}, 0, "INC-1", ""},
		{[]string{"ack", "INC-1", "--note", "looking"}, 0, "acknowledged", ""},
		{[]string{"severity", "INC-1", "SEV1"}, 1, "", "reason: required when setting a severity (HTTP 400)"},
		{[]string{"severity", "INC-1", "SEV1", "--reason", "everyone is down", "--by", "bob"}, 0, "SEV1*", ""},
		{[]string{"show", "INC-1"}, 0, "SEV1, set by bob at", ""},
		{[]string{"severity", "INC-1", "--clear"}, 0, "INC-1", ""},
		{[]string{"resolve", "INC-1"}, 0, "resolved", ""},
		{[]string{"list"}, 0, "", ""},
		{[]string{"list", "--status", "resolved", "-o", "json"}, 0, `"resolvedBy":"token-holder"`, ""},
		{[]string{"show", "INC-1"}, 0, "resolved by token-holder", ""},
		{[]string{"ack", "INC-1"}, 1, "", "(HTTP 409)"},
		{[]string{"show", "INC-2"}, 1, "", `no incident "INC-2" (HTTP 404)`},
	}
	for _, s := range steps {
		checkRun(t, append([]string{"incidents"}, s.args...), s.code, s.out, s.err)
		if t.Failed() {
			t.FailNow() // each step needs the ones before it
		}
	}
	d, _ := state.Get("INC-1", 0, 0)
	if d.Status != triage.StatusResolved || d.AcknowledgedBy != "token-holder" || d.Override != nil {
		t.Errorf("INC-1 is %s, acknowledged by %q, override %+v; want resolved, token-holder, none", d.Status, d.AcknowledgedBy, d.Override)
	}
	t.Setenv("KLAXON_TOKEN", "wrong-token-0123456789")
	checkRun(t, []string{"incidents", "list"}, 1, "", "invalid bearer token (HTTP 401)")
}
