package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// memoryLimitRatio is the share of the cgroup's memory limit given to the
// Go runtime as its soft limit, as automemlimit (which Prometheus uses)
// does by default: the rest is left for what the runtime does not count.
const memoryLimitRatio = 0.9

// cgroupRoot is where the cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// setMemoryLimit gives the Go runtime a soft memory limit of 90% of the
// memory limit of Klaxon's cgroup (a container's limit), so that the
// collector works harder near the limit instead of the kernel killing
// Klaxon. GOMEMLIMIT, when set, is left to the runtime. It returns the
// limit set, 0 when none was.
func setMemoryLimit(log *zap.Logger) int64 {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return 0
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0 // not Linux, or no cgroups: nothing to follow
	}
	limit, err := cgroupMemoryLimit(os.DirFS(cgroupRoot), self)
	if err != nil {
		log.Warn("no soft memory limit: cannot read the cgroup's memory limit", zap.Error(err))
		return 0
	}
	if limit == 0 {
		return 0
	}
	soft := int64(float64(limit) * memoryLimitRatio)
	debug.SetMemoryLimit(soft)
	log.Info("soft memory limit set from the cgroup's memory limit",
		zap.Int64("cgroup_limit_bytes", limit), zap.Int64("soft_limit_bytes", soft))
	return soft
}

// cgroupMemoryLimit returns the memory limit of the cgroup that self (the
// content of /proc/self/cgroup) names, read from root (the cgroup mount
// point), or 0 when it has none. It reads cgroup v2's memory.max (under
// root itself, or root/unified on hybrid systems), else cgroup v1's
// memory/…/memory.limit_in_bytes. In a container whose cgroup namespace
// shows its own cgroup as the path's parent, the file is at root's top.
func cgroupMemoryLimit(root fs.FS, self []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(self))
	for sc.Scan() {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		var candidates []string
		switch {
		case parts[0] == "0" && parts[1] == "":
			candidates = []string{".", "unified"}
		case hasController(parts[1], "memory"):
			candidates = []string{"memory"}
		default:
			continue
		}
		for _, mount := range candidates {
			limit, found, err := readLimit(root, mount, parts[2])
			if err != nil || found {
				return limit, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read /proc/self/cgroup: %w", err)
	}
	return 0, nil
}

// hasController says whether the comma-separated list names controller.
func hasController(list, controller string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == controller {
			return true
		}
	}
	return false
}

// readLimit reads the memory limit file of the cgroup at path under mount,
// falling back to mount's top. found is false when neither file exists.
func readLimit(root fs.FS, mount, path string) (limit int64, found bool, err error) {
	rel := strings.TrimPrefix(filepath.Clean("/"+path), "/")
	for _, dir := range []string{filepath.Join(mount, rel), mount} {
		for _, name := range []string{"memory.max", "memory.limit_in_bytes"} {
			file := filepath.ToSlash(filepath.Join(dir, name))
			b, err := fs.ReadFile(root, file)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return 0, false, fmt.Errorf("read cgroup memory limit: %w", err)
			}
			limit, err := parseLimit(string(b))
			if err != nil {
				return 0, false, fmt.Errorf("cgroup memory limit in %s: %w", file, err)
			}
			return limit, true, nil
		}
	}
	return 0, false, nil
}

// noLimitAbove is where cgroup v1 limits mean "none": v1 writes no limit
// as the largest page-aligned int64.
const noLimitAbove = math.MaxInt64 / 2

// parseLimit parses a memory limit file's content: bytes, or "max".
func parseLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want a number of bytes or max, got %q", s)
	}
	if n <= 0 || n >= noLimitAbove {
		return 0, nil
	}
	return n, nil
}

// recoveryGCPercent is the collector's GOGC while recovery replays the
// journal. The heap only grows during replay, so the collector's work is
// all marking what stays live; a higher target marks it fewer times (a
// million alerts: 11 collections at 100, 4 at 400, some 40% less CPU) for
// a higher peak (a soft memory limit, when set, still holds it back).
const recoveryGCPercent = 400

// relaxGCForRecovery sets GOGC to recoveryGCPercent for the journal's
// recovery, unless GOGC is set in the environment, and returns the
// function that puts the previous setting back.
func relaxGCForRecovery() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	prev := debug.SetGCPercent(recoveryGCPercent)
	return func() { debug.SetGCPercent(prev) }
}
