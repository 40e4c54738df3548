package journal

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashDirEnv names the journal directory of the helper process; its
// presence turns TestHelperProcess into that process.
const crashDirEnv = "KLAXON_JOURNAL_CRASH_DIR"

// TestHelperProcess is not a test: run by TestSIGKILL, it appends from
// several goroutines until killed, printing "ack <seq> <data>" for each
// acknowledged record.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestSIGKILL")
	}
	j, err := OpenBadger(Options{Dir: dir, SnapshotEvery: 64}, &testFSM{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				// Sizes straddle the value threshold, so records land both in
				// the LSM tree and in the value log.
				data := fmt.Sprintf("pid%d-w%d-i%d-%s", os.Getpid(), w, i, strings.Repeat("x", i*37%2000))
				rec, _, err := j.Append(context.Background(), []byte(data), nil)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %d %s\n", rec.Seq, data)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Minute) // the parent kills us long before this
	os.Exit(4)
}

func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	acked := make(map[uint64]string)
	for round := range 3 {
		acks := runAndKill(t, dir, 300)
		for seq, data := range acks {
			if prev, ok := acked[seq]; ok {
				t.Fatalf("round %d: seq %d acknowledged as %.30q, earlier as %.30q", round, seq, data, prev)
			}
			acked[seq] = data
		}
	}

	fsm := &testFSM{}
	j := openTest(t, Options{Dir: dir}, fsm)
	defer j.Close()
	stored := readAll(t, j, 0)
	for i, r := range stored {
		if r.Seq != uint64(i)+1 {
			t.Fatalf("stored record %d has seq %d", i, r.Seq)
		}
	}
	for seq, data := range acked {
		if seq > uint64(len(stored)) {
			t.Errorf("acknowledged seq %d lost: only %d records stored", seq, len(stored))
			continue
		}
		if got := string(stored[seq-1].Data); got != data {
			t.Errorf("seq %d: stored %.40q, acknowledged %.40q", seq, got, data)
		}
	}
	recovered, _, _, err := fsm.state()
	if err != nil {
		t.Fatalf("recovery out of order: %v", err)
	}
	if err := diffRecords(recovered, stored); err != nil {
		t.Errorf("recovered state differs from the stored log: %v", err)
	}
	t.Logf("%d records acknowledged across 3 kills, %d stored", len(acked), len(stored))
}

// runAndKill starts the helper process on dir, SIGKILLs it once it has
// acknowledged at least minAcks records, and returns what it acknowledged.
func runAndKill(t *testing.T, dir string, minAcks int) map[uint64]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()

	acks := make(map[uint64]string)
	r := bufio.NewReader(stdout)
	killed := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if err != io.EOF {
				t.Errorf("read helper output: %v", err)
			}
			break // a partial last line was never acknowledged in full
		}
		seq, data, ok := parseAck(line)
		if !ok {
			continue
		}
		acks[seq] = data
		if len(acks) >= minAcks && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("kill helper: %v", err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("helper exited after %d acks without being killed: %v", len(acks), err)
	}
	if ws, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); !ok || !ws.Signaled() {
		t.Fatalf("helper was not killed by a signal: %v", err)
	}
	return acks
}

// parseAck parses an "ack <seq> <data>" line of the helper process.
func parseAck(line string) (uint64, string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "ack ")
	if !ok {
		return 0, "", false
	}
	seqText, data, ok := strings.Cut(rest, " ")
	if !ok {
		return 0, "", false
	}
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return seq, data, true
}
