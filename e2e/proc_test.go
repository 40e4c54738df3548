package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// Generous bounds: these tests check behaviour, never speed, and share two
// cores with everything else CI runs.
const (
	startTimeout = 90 * time.Second
	waitTimeout  = 120 * time.Second
	pollEvery    = 250 * time.Millisecond
	logTailLines = 200
)

// proc is one child process started by a test, with its output in a log file.
type proc struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// startProc runs bin with args, output to a log file in the test's temp dir.
// The process is killed when the test ends; its log is dumped if it failed.
func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	logFile, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatalf("creating log for %s: %v", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s (%s): %v", name, bin, err)
	}
	p := &proc{t: t, name: name, cmd: cmd, logPath: logFile.Name(), done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Logf("started %s (pid %d): %s %s", name, cmd.Process.Pid, bin, strings.Join(args, " "))
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig unless the process has already ended.
func (p *proc) signal(sig syscall.Signal) {
	if p.exited() {
		return
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("signalling %s: %v", p.name, err)
	}
}

// wait waits up to timeout for the process to end and returns its exit code
// (-1 when a signal ended it).
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %s", p.name, timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// dumpLog logs the tail of the process' output.
func (p *proc) dumpLog() {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		p.t.Logf("reading %s log: %v", p.name, err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > logTailLines {
		p.t.Logf("--- %s log: last %d of %d lines (%s)", p.name, logTailLines, len(lines), p.logPath)
		lines = lines[len(lines)-logTailLines:]
	} else {
		p.t.Logf("--- %s log (%s)", p.name, p.logPath)
	}
	p.t.Log("\n" + strings.Join(lines, "\n"))
	p.t.Logf("--- end of %s log", p.name)
}

// waitHTTP200 polls url until it answers 200, failing early if p ends.
func (p *proc) waitHTTP200(url string) {
	p.t.Helper()
	eventually(p.t, startTimeout, p.name+" ready at "+url, func() error {
		if p.exited() {
			return stopErr(fmt.Errorf("%s exited early: %v", p.name, p.waitErr))
		}
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// requireBinary fails the test when a peer binary the test runs is missing:
// a missing dependency must fail CI, never skip silently.
func requireBinary(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is required (run scripts/install-deps.sh): %v", path, err)
	}
}

// freePort returns a loopback address with a port that was free a moment
// ago. The port lies below the kernel's ephemeral range, so that no
// outgoing connection (raft's, a proxy's, a sender's) takes it before the
// server binds it, and it is never handed out twice in one test run.
func freePort(t *testing.T) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	low := ephemeralLow()
	for range 1000 {
		port := 10000 + rand.IntN(low-10000)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		portsGiven[port] = true
		return fmt.Sprintf("127.0.0.1:%d", port)
	}
	t.Fatalf("no free port below %d", low)
	return ""
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low <= 11000 {
		return 32768
	}
	return low
}

// permanent marks an error that makes eventually give up at once.
type permanent struct{ error }

// stopErr wraps err so that eventually stops polling and fails with it.
func stopErr(err error) error { return permanent{err} }

// eventually polls check until it returns nil, failing the test with the
// last error after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		var stop permanent
		if errors.As(err, &stop) {
			t.Fatalf("%s: %v", what, stop.error)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after %s: %v", what, timeout, err)
		}
		time.Sleep(pollEvery)
	}
}

// writeTemplate renders testdata/name with data into dir/out.
func writeTemplate(t *testing.T, name, dir, out string, data any) string {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("parsing template: %v", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		t.Fatalf("rendering %s: %v", name, err)
	}
	path := filepath.Join(dir, out)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("creating %s: %v", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	return path
}
