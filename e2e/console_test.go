package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumBin is Debian's Chromium (package chromium).
const chromiumBin = "/usr/bin/chromium"

// browserTimeout bounds everything one browser session does.
const browserTimeout = 2 * time.Minute

// browserErrors collects what the page reports as errors: console.error
// calls, uncaught exceptions, and the browser's own error log (failed
// loads, Content-Security-Policy violations).
type browserErrors struct {
	mu   sync.Mutex
	list []string
}

func (b *browserErrors) add(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = append(b.list, fmt.Sprintf(format, args...))
}

func (b *browserErrors) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.list...)
}

// listen records the errors of ev, an event of the page's target.
func (b *browserErrors) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.add("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		b.add("exception: %s", ev.ExceptionDetails.Text)
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError {
			b.add("log %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	}
}

// startBrowser runs headless Chromium in a fresh profile and returns a
// tab's context, bounded by browserTimeout, with its errors collected.
func startBrowser(t *testing.T) (context.Context, *browserErrors) {
	t.Helper()
	requireBinary(t, chromiumBin)
	profile := t.TempDir() // made before the cleanup below, so removed after Chromium exits
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumBin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 1024),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	errs := &browserErrors{}
	tab, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf), chromedp.WithListener(errs.listen))
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelTimeout() })
	for _, enable := range []cdp.Command[cdp.Empty, cdp.Empty]{cdplog.Enable, runtime.Enable} {
		if _, err := chromedp.Call(tab, enable, cdp.Empty{}); err != nil {
			t.Fatalf("starting %s: %s: %v", chromiumBin, enable.Method, err)
		}
	}
	return tab, errs
}

// TestConsoleInABrowser opens a SEV1 incident through the real
// Alertmanager, signs in to the console in headless Chromium with the
// admin token, opens the incident, clicks Acknowledge and sees the
// timeline show it; the page logs no error, and a screenshot is kept.
func TestConsoleInABrowser(t *testing.T) {
	t.Parallel()
	k := newKlaxon(t)
	writeTemplate(t, "console-rules.yml", k.dir, filepath.Join("rules", "console.yml"), nil)
	k.start()
	am := startAlertmanager(t, k)
	postToAlertmanager(t, am, []alert{{
		Labels:   map[string]string{"alertname": "CheckoutDown", "service": "checkout", "instance": "web-1"},
		StartsAt: time.Now().UTC().Truncate(time.Second),
	}})
	inc := k.oneIncident("checkout", func(inc incidentDetail) error {
		if inc.Severity != "SEV1" {
			return fmt.Errorf("severity %q, want SEV1", inc.Severity)
		}
		return nil
	})

	tab, errs := startBrowser(t)
	checkStatusPage(t, tab, k.url)
	link := chromedp.CSS(`a[href="/console/incidents/` + inc.Key + `"]`)
	err := chromedp.Do(tab,
		chromedp.Navigate(k.url+"/console/login"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), adminToken),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(link),
	)
	if err != nil {
		t.Fatalf("signing in to the console: %v", err)
	}
	list := text(t, tab, chromedp.CSS("main"))
	if err := chromedp.Do(tab, chromedp.Click(link), chromedp.WaitVisible(chromedp.ID("ack"))); err != nil {
		t.Fatalf("opening %s: %v", inc.Key, err)
	}
	before := text(t, tab, chromedp.ID("timeline"))
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("ack")),
		chromedp.WaitVisible(chromedp.CSS("#timeline li.event-acknowledged"))); err != nil {
		t.Fatalf("acknowledging %s: %v", inc.Key, err)
	}
	after := text(t, tab, chromedp.ID("timeline"))
	for _, want := range []string{inc.Key, "SEV1", "Triggered", "Checkout API", "e2e alert web-1"} {
		if !strings.Contains(list, want) {
			t.Errorf("the incident list does not show %q:\n%s", want, list)
		}
	}
	if strings.Contains(before, "acknowledged by") || !strings.Contains(after, "acknowledged by e2e-admin") {
		t.Errorf("timeline before the click:\n%s\nafter:\n%s\nwant the acknowledgement by e2e-admin to appear", before, after)
	}
	if got := k.mustIncident(inc.Key); got.Status != "acknowledged" {
		t.Errorf("the API says %s is %s, want acknowledged", inc.Key, got.Status)
	}
	checkSessionCookie(t, tab, k.url)
	screenshot(t, tab, "console.png")
	if e := errs.all(); len(e) > 0 {
		t.Errorf("the browser reported errors:\n%s", strings.Join(e, "\n"))
	}
}

// checkSessionCookie checks that the browser holds the session cookie
// HttpOnly and SameSite=Strict, for the console's paths only.
func checkSessionCookie(t *testing.T, tab context.Context, url string) {
	t.Helper()
	res, err := chromedp.Call(tab, network.GetCookies, network.GetCookiesParams{URLs: []string{url + "/console"}})
	if err != nil {
		t.Fatalf("reading the browser's cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name != "klaxon_session" {
			continue
		}
		if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/console" {
			t.Errorf("session cookie: HttpOnly %v, SameSite %s, Path %s; want true, Strict, /console", c.HTTPOnly, c.SameSite, c.Path)
		}
		return
	}
	t.Errorf("the browser holds no klaxon_session cookie: %v", res.Cookies)
}

// screenshot saves the whole page as a PNG and logs its path: in
// $KLAXON_E2E_ARTIFACTS when set (for CI to keep), else in the test's temp dir.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("KLAXON_E2E_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("saving the screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
}

// text is the text of the element sel selects.
func text[S chromedp.Selectable](t *testing.T, tab context.Context, sel S) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("reading the text of %v: %v", sel, err)
	}
	return s
}

// checkStatusPage loads the public status page, without credentials, until
// it shows the incident in public wording and its component's state, and
// checks that nothing internal (alert name, instance) is on it.
func checkStatusPage(t *testing.T, tab context.Context, base string) {
	t.Helper()
	want := []string{"Investigating issues with Checkout", "Checkout API", "Major outage"}
	var page string
	deadline := time.Now().Add(waitTimeout)
	for {
		if err := chromedp.Do(tab, chromedp.Navigate(base+"/status/"), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
			t.Fatalf("load the status page: %v", err)
		}
		page = text(t, tab, chromedp.CSS("body"))
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(page, w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the status page never showed %q:\n%s", missing, page)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, internal := range []string{"CheckoutDown", "web-1", "service=", "SEV1"} {
		if strings.Contains(page, internal) {
			t.Errorf("the public status page shows %q:\n%s", internal, page)
		}
	}
	screenshot(t, tab, "status.png")
}
