package statuspage

import (
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium is Debian's Chromium (package chromium, which
// scripts/install-deps.sh installs for the browser tests).
const chromium = "/usr/bin/chromium"

// needChromium fails under CI=true, and skips elsewhere, without Chromium.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser test needs %s: %v", chromium, err)
		}
		t.Skipf("no %s: %v", chromium, err)
	}
}

// headless runs Chromium on url with args and returns its output and log.
func headless(t *testing.T, url string, args ...string) (stdout, log string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + t.TempDir()}, append(args, url)...)
	cmd := exec.CommandContext(ctx, chromium, args...)
	var out, errs strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errs.String())
	}
	return out.String(), errs.String()
}

// TestInBrowser loads the page in headless Chromium: it renders without
// a Content-Security-Policy violation (the inline style sheet is allowed
// by its hash, and nothing else is inline), and follows the reader's
// light or dark preference.
func TestInBrowser(t *testing.T) {
	needChromium(t)
	var h Handler
	h.Set(standard(t).site("en", false))
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
	}))
	defer strict.Close()
	// The control: the same page under a policy that forbids its style
	// sheet must show a violation, or the check below could not fail.
	blocked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "style-src 'none'")
		_, _ = w.Write(h.Site().Files["index.html"].Body)
	}))
	defer blocked.Close()

	if _, log := headless(t, blocked.URL+"/status/", "--dump-dom"); !strings.Contains(log, "Content Security Policy") {
		t.Fatalf("Chromium reported no violation of a policy the page breaks: the check cannot fail\n%s", log)
	}
	dom, log := headless(t, strict.URL+"/status/", "--dump-dom")
	if strings.Contains(log, "Content Security Policy") {
		t.Errorf("the page violates its Content-Security-Policy:\n%s", log)
	}
	if !strings.Contains(dom, "Major system outage") || !strings.Contains(dom, "Investigating issues with Public API") {
		t.Errorf("the rendered page lacks its headline or incidents:\n%.2000s", dom)
	}
	for _, tt := range []struct {
		scheme     string
		blink      string
		wantBright bool
	}{{"dark", "0", false}, {"light", "1", true}} {
		shot := filepath.Join(t.TempDir(), tt.scheme+".png")
		headless(t, strict.URL+"/status/", "--window-size=800,600", "--screenshot="+shot, "--blink-settings=preferredColorScheme="+tt.blink)
		if bright := brightCorner(t, shot); bright != tt.wantBright {
			t.Errorf("%s scheme: the background is bright=%v", tt.scheme, bright)
		}
	}
}

// brightCorner reports whether the top-left pixel of a PNG is light.
func brightCorner(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	r, g, b, _ := img.At(img.Bounds().Min.X+2, img.Bounds().Min.Y+2).RGBA()
	return (r+g+b)/3 > 0x8000
}
