package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needTool returns the path of a program the test needs: a test without it
// fails under CI and is skipped elsewhere.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is needed: %v", name, err)
		}
		t.Skipf("%s is not installed: %v", name, err)
	}
	return path
}

// TestMakeBuildSetsVersion builds klaxon as `make build` does and checks
// that `klaxon --version` and `klaxon version` report the facts the
// Makefile set: the version given, and the checkout's branch and revision.
func TestMakeBuildSetsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gitBin, makeBin := needTool(t, "git"), needTool(t, "make")
	git := func(args ...string) string {
		out, err := exec.Command(gitBin, args...).Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	revision, branch := git("rev-parse", "HEAD"), git("rev-parse", "--abbrev-ref", "HEAD")
	bin := filepath.Join(t.TempDir(), "klaxon")
	build := exec.Command(makeBin, "-s", "-C", "../..", "build", "BIN="+bin, "VERSION=v9.8.7-rc.1", "BUILD_DATE=20261201-05:00:00")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	want := "klaxon, version v9.8.7-rc.1 (branch: " + branch + ", revision: " + revision + ")\n  build user:       "
	for _, arg := range []string{"--version", "version"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("klaxon %s: %v\n%s", arg, err, out)
		}
		if !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "build date:       20261201-05:00:00\n") {
			t.Errorf("klaxon %s printed\n%s\nwant it to start %q and give the build date", arg, out, want)
		}
	}
}

// TestBuildInfoMetric checks that a running Klaxon exports
// klaxon_build_info with the facts `klaxon version` prints.
func TestBuildInfoMetric(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules", "sev.yml"), []byte(goodRules), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, dir)
	defer stop()
	_, body := call(t, "GET", base+"/metrics")
	want := `version="` + version + `"`
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "klaxon_build_info{") {
			if !strings.Contains(line, want) || !strings.Contains(line, `goversion="go`) || !strings.HasSuffix(line, "} 1") {
				t.Errorf("%s\nwant %s, a goversion and the value 1", line, want)
			}
			return
		}
	}
	t.Errorf("no klaxon_build_info in\n%s", body)
}
