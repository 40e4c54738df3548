// Package gcpacer sets the Go collector's pacing for a server whose heap is
// mostly long-lived state: after every collection it keeps the heap goal
// near the live heap, so that a large heap does not double before it is
// collected, and it relaxes the pacing while recovery rebuilds the state.
package gcpacer

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// minHeadroom is the least garbage let grow between collections of a
	// heap over 16 MiB. At 100,000 alerts (some 90 MiB live) a floor of
	// 64 MiB made the headroom over a third of the peak; 16 MiB lets the
	// quarter rule apply from 64 MiB up, for 4-8% more server CPU per
	// alert while ingesting into a small heap.
	minHeadroom = 16 << 20
	// headroomDivisor makes a large heap's headroom a quarter of it.
	headroomDivisor = 4
	// minPercent and maxPercent bound the GC percent Percent returns: a
	// small heap is paced as Go's default (100) paces it, which measured
	// no less collector CPU at 400 for some 20 MiB more peak RSS.
	minPercent = 25
	maxPercent = 100
	// RecoveryPercent is the GC percent while recovery replays the journal.
	// The heap only grows during replay, so the collector's work is all
	// marking what stays live; a higher target marks it fewer times, for a
	// higher peak (a soft memory limit, when set, still holds it back). A
	// million alerts replayed: 11 collections at 100; at 400, 4, the last
	// marking 450 MB; at 1000, one of 230 MB. Started at once after another
	// process, 1000 was ready sooner (4.0 against 4.6 s); but this VM hands
	// freed memory back to its host within seconds, and every page a
	// process then touches first costs a fault to the host: started 15 s
	// apart, as make bench starts them, 400 was ready in a median 5.5
	// against 6.5 s on 8.4 against 9.5 CPU seconds (6 alternating pairs),
	// touching 1.04 GB against 1.21 GB.
	RecoveryPercent = 400
)

// Percent is the GC percent that sets the heap goal to live bytes plus a
// headroom of a quarter of them, at least minHeadroom, within
// [minPercent, maxPercent].
func Percent(live uint64) int {
	if live == 0 {
		return maxPercent
	}
	headroom := max(live/headroomDivisor, minHeadroom)
	return int(min(max(headroom*100/live, minPercent), maxPercent))
}

// OperatorSet says whether the environment (looked up through lookup) sets
// GOGC or GOMEMLIMIT, in which case the operator paces the collector and
// Start leaves it alone.
func OperatorSet(lookup func(string) (string, bool)) bool {
	_, gogc := lookup("GOGC")
	_, limit := lookup("GOMEMLIMIT")
	return gogc || limit
}

// ForRecovery sets the GC percent to RecoveryPercent for the journal's
// recovery, unless GOGC is set in the environment, and returns the
// function that puts the previous setting back.
func ForRecovery() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	prev := debug.SetGCPercent(RecoveryPercent)
	return func() { debug.SetGCPercent(prev) }
}

// Start paces the collector with Percent after every collection until stop
// is called, which puts back the GC percent found at Start. started is
// false, and nothing changes, when the environment sets GOGC or
// GOMEMLIMIT.
func Start() (stop func(), started bool) {
	if OperatorSet(os.LookupEnv) {
		return func() {}, false
	}
	p := &pacer{sample: []metrics.Sample{{Name: liveHeapMetric}}}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.restore = debug.SetGCPercent(p.percent())
	p.arm()
	return p.stop, true
}

// liveHeapMetric is the runtime metric holding the bytes the last
// collection marked live.
const liveHeapMetric = "/gc/heap/live:bytes"

// pacer sets the GC percent each time a collection frees its sentinel.
type pacer struct {
	mu      sync.Mutex
	stopped bool
	restore int              // the GC percent before Start
	sample  []metrics.Sample // the live heap, read under mu
}

// sentinel is an object that only a pacer's cleanup refers to, so every
// collection frees the one allocated after the previous collection. It
// holds a pointer so that it is never one of the runtime's tiny
// allocations, whose cleanups may not run.
type sentinel struct{ _ *byte }

// arm schedules pace for the end of the next collection. It is called
// with mu held.
func (p *pacer) arm() {
	runtime.AddCleanup(new(sentinel), (*pacer).pace, p)
}

// pace sets the GC percent for the heap the last collection left live and
// arms the pacer for the next one, until the pacer is stopped.
func (p *pacer) pace() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	debug.SetGCPercent(p.percent())
	p.arm()
}

// percent is Percent of the live heap. It is called with mu held.
func (p *pacer) percent() int {
	metrics.Read(p.sample)
	return Percent(p.sample[0].Value.Uint64())
}

// stop ends the pacing and puts back the GC percent found at Start.
func (p *pacer) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		debug.SetGCPercent(p.restore)
	}
}
