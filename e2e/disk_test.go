package e2e

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Shape of the disk fault tests' load: alerts padded to about 3.5 KB each,
// sent 40 to a request, 400 to a service (an incident read lists 1000).
const (
	diskPad        = 3500
	diskBatch      = 40
	diskPerService = 400
	diskWorkers    = 4
	// diskMemtable keeps badger's memtables, and so its reserve, small.
	diskMemtable = 1 << 20
)

// requireMount reports a filesystem the test could not mount: a failure in
// CI, where the tests run as root, a skip elsewhere.
func requireMount(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("mounting %s (needs root): %v", what, err)
	}
	t.Skipf("cannot mount %s (needs root): %v", what, err)
}

// runCmd runs a command, returning its combined output in the error.
func runCmd(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// mountTmpfs mounts a tmpfs of size bytes for the test and returns where.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	requireMount(t, "a tmpfs", runCmd("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir))
	t.Cleanup(func() { unmount(t, dir) })
	return dir
}

// ext4 is a loop-mounted ext4 image that remounts itself read-only on an
// error, as production filesystems are usually set up.
type ext4 struct {
	image, dir string
}

// mountExt4 makes an ext4 image of size bytes and loop-mounts it for the test.
func mountExt4(t *testing.T, size int64) *ext4 {
	t.Helper()
	fs := &ext4{image: filepath.Join(t.TempDir(), "fs.img"), dir: t.TempDir()}
	f, err := os.Create(fs.image)
	if err == nil {
		err = errors.Join(f.Truncate(size), f.Close())
	}
	if err == nil {
		err = runCmd("mkfs.ext4", "-q", "-F", fs.image)
	}
	requireMount(t, "an ext4 image", errors.Join(err, fs.mount()))
	t.Cleanup(func() { unmount(t, fs.dir) })
	return fs
}

func (fs *ext4) mount() error {
	return runCmd("mount", "-o", "loop,errors=remount-ro", fs.image, fs.dir)
}

// fail makes ext4 record an error, which remounts it read-only: a real
// cause of a read-only data directory, as a failing disk gives.
func (fs *ext4) fail(t *testing.T) {
	t.Helper()
	out, err := exec.Command("findmnt", "-n", "-o", "SOURCE", fs.dir).Output()
	if err != nil {
		t.Fatalf("findmnt %s: %v", fs.dir, err)
	}
	dev := filepath.Base(strings.TrimSpace(string(out)))
	if err := os.WriteFile(filepath.Join("/sys/fs/ext4", dev, "trigger_fs_error"), []byte("1"), 0o200); err != nil {
		t.Fatalf("triggering an ext4 error on %s: %v", dev, err)
	}
	if err := os.WriteFile(filepath.Join(fs.dir, "probe"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("after an ext4 error, writing to %s gave %v, want EROFS", fs.dir, err)
	}
}

// repair unmounts, checks and remounts the filesystem read-write.
func (fs *ext4) repair(t *testing.T) {
	t.Helper()
	if err := runCmd("umount", fs.dir); err != nil {
		t.Fatal(err)
	}
	// e2fsck exits 1 when it fixed something; only 4 and up are failures.
	if err := exec.Command("e2fsck", "-fy", fs.image).Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() >= 4 {
			t.Fatalf("e2fsck %s: %v", fs.image, err)
		}
	}
	if err := fs.mount(); err != nil {
		t.Fatal(err)
	}
}

// unmount unmounts dir, lazily if it is still busy.
func unmount(t *testing.T, dir string) {
	if err := runCmd("umount", dir); err != nil {
		if lerr := runCmd("umount", "-l", dir); lerr != nil {
			t.Errorf("unmounting %s: %v", dir, errors.Join(err, lerr))
		}
	}
}

// fill writes a file of size bytes (all of the free space if size is 0)
// into dir and returns its path.
func fill(t *testing.T, dir, name string, size int64) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i) | 1 // not zeros: nothing may store them sparsely
	}
	for written := int64(0); size == 0 || written < size; {
		n := int64(len(chunk))
		if size > 0 {
			n = min(n, size-written)
		}
		m, err := f.Write(chunk[:n])
		written += int64(m)
		if errors.Is(err, syscall.ENOSPC) && size == 0 {
			break
		}
		if err != nil {
			t.Fatalf("filling %s: %v", path, err)
		}
	}
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling %s: %v", path, err)
	}
	return path
}

// diskAlerts makes n padded firing alerts, numbered from first, of the
// services prefix-0, prefix-1, ...
func diskAlerts(prefix string, first, n int) []alert {
	start := time.Now().UTC().Truncate(time.Second)
	pad := strings.Repeat("p", diskPad)
	out := make([]alert, n)
	for i := range out {
		seq := first + i
		out[i] = alert{
			Labels: map[string]string{
				"alertname": "DiskFault",
				"service":   fmt.Sprintf("%s-%d", prefix, seq/diskPerService),
				"instance":  fmt.Sprintf("alert-%d", seq),
				"pad":       pad,
			},
			StartsAt: start,
		}
	}
	return out
}

// ingestAnswer is the status and Retry-After of one ingest request.
type ingestAnswer struct {
	status     int
	retryAfter string
	body       string
}

// postAlerts sends alerts as Alertmanager's webhook does.
func (k *klaxon) postAlerts(alerts []alert) (ingestAnswer, error) {
	req, err := http.NewRequest("POST", k.url+"/ingest/alertmanager", strings.NewReader(string(webhookPayload(alerts))))
	if err != nil {
		return ingestAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+alertmanagerToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		return ingestAnswer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return ingestAnswer{resp.StatusCode, resp.Header.Get("Retry-After"), string(body)}, err
}

// ledger is what a test sent: the alerts answered 2xx and those refused.
type ledger struct {
	mu      sync.Mutex
	next    int
	acked   []alert
	refused []alert
}

// batch returns the next n alerts of the "disk" services.
func (l *ledger) batch(n int) []alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := l.next
	l.next += n
	return diskAlerts("disk", first, n)
}

// send posts one new batch to k and books the answer; any answer but 2xx
// and 503 is an error.
func (l *ledger) send(k *klaxon) (ingestAnswer, error) {
	alerts := l.batch(diskBatch)
	ans, err := k.postAlerts(alerts)
	if err != nil {
		return ans, fmt.Errorf("posting alerts: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case ans.status >= 200 && ans.status < 300:
		l.acked = append(l.acked, alerts...)
	case ans.status == http.StatusServiceUnavailable:
		l.refused = append(l.refused, alerts...)
	default:
		return ans, fmt.Errorf("ingest answered %d: %s", ans.status, ans.body)
	}
	return ans, nil
}

// mustSend is send that fails the test on an error.
func (l *ledger) mustSend(t *testing.T, k *klaxon) ingestAnswer {
	t.Helper()
	ans, err := l.send(k)
	if err != nil {
		t.Fatal(err)
	}
	return ans
}

// floodUntil503 sends batches from several workers until one is refused
// with 503, and returns that answer.
func (l *ledger) floodUntil503(t *testing.T, k *klaxon) ingestAnswer {
	t.Helper()
	var (
		once    sync.Once
		refusal ingestAnswer
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	deadline := time.Now().Add(waitTimeout)
	for range diskWorkers {
		wg.Go(func() {
			for time.Now().Before(deadline) && !t.Failed() {
				select {
				case <-stop:
					return
				default:
				}
				ans, err := l.send(k)
				if err != nil {
					t.Errorf("before any 503: %v", err)
					return
				}
				if ans.status == http.StatusServiceUnavailable {
					once.Do(func() { refusal = ans; close(stop) })
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if refusal.status == 0 {
		t.Fatalf("no 503 after %d alerts acknowledged", len(l.acked))
	}
	// Concurrent requests share a commit, and a shared commit can be refused
	// while one request alone still fits: send alone until one is refused,
	// so that the disk is full for any request from here on.
	for {
		ans, err := l.send(k)
		if err != nil {
			t.Fatalf("after the first 503: %v", err)
		}
		if ans.status == http.StatusServiceUnavailable {
			refusal = ans
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("single requests still fit after %d alerts", len(l.acked))
		}
	}
	t.Logf("first 503 after %d alerts (%d MB) acknowledged: Retry-After %q, %s",
		len(l.acked), len(l.acked)*diskPad>>20, refusal.retryAfter, strings.TrimSpace(refusal.body))
	return refusal
}

// expect503 checks that k is up and refuses new alerts with 503 and
// Retry-After, n times.
func (l *ledger) expect503(t *testing.T, k *klaxon, n int) {
	t.Helper()
	for range n {
		ans := l.mustSend(t, k)
		if ans.status != http.StatusServiceUnavailable || ans.retryAfter == "" {
			t.Fatalf("ingest answered %d with Retry-After %q, want 503 with Retry-After: %s", ans.status, ans.retryAfter, ans.body)
		}
	}
	if k.proc.exited() {
		t.Fatalf("klaxon exited: %v", k.proc.waitErr)
	}
	k.mustDo("GET", "/-/healthy", "", nil, http.StatusOK)
}

// expect2xx waits until k accepts new alerts again.
func (l *ledger) expect2xx(t *testing.T, k *klaxon) {
	t.Helper()
	eventually(t, waitTimeout, "ingest accepted again", func() error {
		ans, err := l.send(k)
		if err != nil {
			return stopErr(err)
		}
		if ans.status != http.StatusOK {
			return fmt.Errorf("status %d: %s", ans.status, ans.body)
		}
		return nil
	})
}

// verify checks that every acknowledged alert is in k, in one open incident
// per service, and that no refused alert is.
func (l *ledger) verify(t *testing.T, k *klaxon) {
	t.Helper()
	want := map[string][]alert{}
	for _, a := range l.acked {
		want[a.Labels["service"]] = append(want[a.Labels["service"]], a)
	}
	refused := map[string]bool{}
	for _, a := range l.refused {
		refused[identity(a.Labels)] = true
	}
	for service, alerts := range want {
		list := k.mustIncidents(url.Values{"service": {service}})
		if len(list) != 1 {
			t.Errorf("service %s: %d incidents, want 1", service, len(list))
			continue
		}
		inc := k.mustIncident(list[0].Key)
		if err := holdsAll(inc, alerts); err != nil {
			t.Errorf("%s (service %s): %v", inc.Key, service, err)
		}
		for _, s := range inc.Signals {
			if refused[identity(s.Labels)] {
				t.Errorf("%s holds alert %s, which was answered 503", inc.Key, s.Labels["instance"])
			}
		}
	}
	t.Logf("%d acknowledged alerts in %d services all present; none of %d refused ones stored", len(l.acked), len(want), len(l.refused))
}

// startFails runs `klaxon serve` on k's configuration, expects it to exit
// non-zero without becoming ready, and returns its output.
func (k *klaxon) startFails() string {
	k.t.Helper()
	k.proc = startProc(k.t, "klaxon", klaxonBin, "serve", "--config", k.config)
	code := k.proc.wait(startTimeout)
	out, err := os.ReadFile(k.proc.logPath)
	if err != nil {
		k.t.Fatal(err)
	}
	if code <= 0 {
		k.t.Fatalf("klaxon exited with %d, want an error exit; output:\n%s", code, out)
	}
	return string(out)
}

// TestFullDisk fills the data directory's filesystem under steady ingest:
// Klaxon must answer 503 with Retry-After and stay up, take alerts again
// once space is freed, refuse to start on a full disk with a clear message,
// and lose no acknowledged alert across a SIGKILL.
func TestFullDisk(t *testing.T) {
	tests := []struct {
		name    string
		mount   func(t *testing.T) string
		filler  int64 // freed once Klaxon refuses alerts
		minFree int64 // storage.min_free_bytes; 0 for the derived default
	}{
		{name: "tmpfs 20MiB", mount: func(t *testing.T) string { return mountTmpfs(t, 20<<20) }, filler: 4 << 20, minFree: 4 << 20},
		{name: "ext4 80MiB", mount: func(t *testing.T) string { return mountExt4(t, 80<<20).dir }, filler: 16 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.mount(t)
			storage := map[string]int64{"memtable_bytes": diskMemtable}
			if tt.minFree > 0 {
				storage["min_free_bytes"] = tt.minFree
			}
			k := newKlaxonWith(t, klaxonConfig{DataDir: filepath.Join(dir, "data"), Storage: storage})
			filler := fill(t, dir, "filler", tt.filler)
			k.start()

			var l ledger
			if ans := l.floodUntil503(t, k); ans.retryAfter == "" {
				t.Errorf("503 without Retry-After: %s", ans.body)
			}
			l.expect503(t, k, 3)

			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			l.expect2xx(t, k)
			k.kill9()

			// Restarting on a full filesystem fails at once, and clearly.
			topUp := fill(t, dir, "top-up", 0)
			out := k.startFails()
			if !strings.Contains(out, "no space left for the journal") || !strings.Contains(out, dir) {
				t.Errorf("start on a full disk: output does not say there is no space in %s:\n%s", dir, out)
			}
			t.Logf("start on a full disk: %s", lastLine(out))
			if err := os.Remove(topUp); err != nil {
				t.Fatal(err)
			}
			k.start()
			l.verify(t, k)
		})
	}
}

// TestReadOnlyDataDir turns the data directory's ext4 read-only under
// Klaxon (an ext4 error remounts it so): Klaxon must answer 503 with
// Retry-After, stay up, and store nothing of what it refused.
func TestReadOnlyDataDir(t *testing.T) {
	fs := mountExt4(t, 80<<20)
	k := newKlaxonWith(t, klaxonConfig{
		DataDir: filepath.Join(fs.dir, "data"),
		Storage: map[string]int64{"memtable_bytes": diskMemtable},
	})
	k.start()
	var l ledger
	for range 5 {
		if ans := l.mustSend(t, k); ans.status != http.StatusOK {
			t.Fatalf("ingest before the fault: %d %s", ans.status, ans.body)
		}
	}
	fs.fail(t)
	l.expect503(t, k, 3)
	k.kill9()

	fs.repair(t)
	k.start()
	l.verify(t, k)
	if len(l.refused) == 0 {
		t.Error("nothing was refused")
	}
}

// lastLine returns the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// crashImage copies the image as it is on the device this moment, without
// what the kernel still holds in its page cache for the mounted filesystem
// (written by processes, not yet by the kernel): the disk a power cut
// leaves. It mounts the copy for the test, which replays the ext4 journal,
// and returns it.
func (fs *ext4) crashImage(t *testing.T) *ext4 {
	t.Helper()
	crashed := &ext4{image: filepath.Join(t.TempDir(), "crashed.img"), dir: t.TempDir()}
	if err := runCmd("cp", "--sparse=always", fs.image, crashed.image); err != nil {
		t.Fatal(err)
	}
	if err := crashed.mount(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmount(t, crashed.dir) })
	return crashed
}

// TestMachineCrash stops the machine under Klaxon, not only the process:
// Klaxon is killed and its disk taken as a power cut leaves it, without the
// page cache, which keeps what a process wrote across its own crash but not
// across the machine's. Klaxon started on that disk must hold every alert
// it acknowledged. A journal that acknowledged commits before they were
// synced fails it: one with badger's SyncWrites off lost 120 of 1,600 alerts.
// With a snapshot every four entries, the crash also finds snapshots
// stored moments before it.
func TestMachineCrash(t *testing.T) {
	for _, snapshotEvery := range []int64{0, 4} {
		t.Run(fmt.Sprintf("snapshot_every %d", snapshotEvery), func(t *testing.T) {
			fs := mountExt4(t, 80<<20)
			storage := map[string]int64{"memtable_bytes": diskMemtable}
			if snapshotEvery > 0 {
				storage["snapshot_every"] = snapshotEvery
			}
			k := newKlaxonWith(t, klaxonConfig{DataDir: filepath.Join(fs.dir, "data"), Storage: storage})
			k.start()
			var l ledger
			for range 40 {
				l.mustSend(t, k)
			}
			k.kill9()
			crashed := fs.crashImage(t)

			k = newKlaxonWith(t, klaxonConfig{DataDir: filepath.Join(crashed.dir, "data"), Storage: storage})
			k.start()
			l.verify(t, k)
		})
	}
}
