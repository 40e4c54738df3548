package main

import (
	"errors"
	"math"
	"os"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/pageout"
)

// memoryLimitRatio is the share of the cgroup's memory limit given to the
// Go runtime as its soft limit, automemlimit's default (which Prometheus
// uses): the rest is left for what the runtime does not count.
const memoryLimitRatio = 0.9

// setMemoryLimit gives the Go runtime a soft memory limit of 90% of the
// memory limit of Klaxon's cgroup (a container's) through automemlimit, as
// Prometheus does, so that the collector works harder near the limit
// instead of the kernel killing Klaxon. GOMEMLIMIT, when set, is left to
// the runtime, and AUTOMEMLIMIT sets another ratio, or "off".
func setMemoryLimit(log *zap.Logger) {
	limit, err := memlimit.Set(memlimit.WithRatio(memoryLimitRatio), memlimit.WithProvider(memlimit.FromCgroup))
	switch {
	case errors.Is(err, memlimit.ErrCgroupsNotSupported):
		// not Linux: nothing to follow
	case err != nil:
		log.Warn("no soft memory limit from the cgroup", zap.Error(err))
	case limit < math.MaxInt64:
		log.Info("soft memory limit", zap.Int64("bytes", limit))
	}
}

// pageOutExecutable drops from memory the pages of Klaxon's own binary that
// starting up read (package initialisation, configuration, recovery), which
// would otherwise stay resident: some 12 of its 29 MiB are not read again.
// What serving runs is faulted back in as it runs.
func pageOutExecutable(log *zap.Logger) {
	exe, err := os.Executable()
	if err == nil {
		err = pageout.Files(exe)
	}
	if err != nil {
		log.Info("the binary's start-up pages stay resident", zap.Error(err))
	}
}
