package main

import (
	"errors"
	"math"
	"os"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/hugeheap"
	"github.com/klaxonhq/klaxon/pageout"
)

// recoveryHeapPerAlert is the heap recovery grows to per alert the journal
// holds, garbage included: 1,234 MB for a million alerts replayed at GOGC
// 400 (BenchmarkRecover, GODEBUG=gctrace=1), recovery's GOGC (gcpacer),
// rounded up.
const recoveryHeapPerAlert = 1536

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

// prepareHeap grows the heap recovery is about to need for alerts alerts
// and advises the kernel to back it with huge pages (package hugeheap):
// with a million alerts, recovery was ready in 0.72× the time, on 0.72× the
// CPU. The caller releases the advice once recovery is done.
func prepareHeap(alerts int, log *zap.Logger) hugeheap.Region {
	r, err := hugeheap.Prepare(uint64(alerts) * recoveryHeapPerAlert)
	if err != nil {
		log.Info("recovery's heap is not advised for huge pages", zap.Error(err))
	} else if r.Bytes() > 0 {
		log.Info("recovery's heap advised for huge pages", zap.Int("alerts", alerts), zap.Uint64("bytes", r.Bytes()))
	}
	return r
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
