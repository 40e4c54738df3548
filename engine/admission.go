package engine

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/signal"
)

// Limits bounds how many alerts the triage state may hold (firing, or
// resolved but not yet pruned), so that a sender cannot exhaust memory.
// Zero means no limit.
//
// The limits are soft by at most the batches in flight: a batch is checked
// against the state before it is appended, so batches checked at the same
// time may together pass a limit by up to their own new alerts.
type Limits struct {
	// ActiveAlerts bounds the alerts held in total.
	ActiveAlerts int
	// ActiveAlertsPerSource bounds the alerts held from any one source.
	ActiveAlertsPerSource int
}

// throttleLogEvery is the least time between two log lines about refused
// batches.
const throttleLogEvery = 10 * time.Second

// admit refuses, with ErrOverloaded, a batch whose new alerts would take
// the state past a limit.
func (e *Engine) admit(sigs []signal.Signal) error {
	lim := e.limits
	if lim.ActiveAlerts <= 0 && lim.ActiveAlertsPerSource <= 0 {
		return nil
	}
	adm := e.state.Admission(sigs)
	if adm.Added == 0 {
		return nil
	}
	var err error
	if lim.ActiveAlerts > 0 && adm.After.Total > lim.ActiveAlerts {
		err = fmt.Errorf("%w: %d new alerts would make %d active, over the limit of %d",
			ErrOverloaded, adm.Added, adm.After.Total, lim.ActiveAlerts)
	}
	if lim.ActiveAlertsPerSource > 0 && err == nil {
		for _, src := range slices.Sorted(maps.Keys(adm.After.BySource)) {
			if n := adm.After.BySource[src]; n > lim.ActiveAlertsPerSource {
				err = fmt.Errorf("%w: new alerts would make %d active from %s, over the limit of %d per source",
					ErrOverloaded, n, src, lim.ActiveAlertsPerSource)
				break
			}
		}
	}
	if err != nil {
		e.throttled.log(e.log, e.clock(), len(sigs), err)
	}
	return err
}

// throttleLog logs refused batches at most once every throttleLogEvery,
// counting the ones it leaves out.
type throttleLog struct {
	mu      sync.Mutex
	next    time.Time // when the next line may be written
	batches int       // refused since the last line
	signals int
}

func (t *throttleLog) log(log *zap.Logger, now time.Time, signals int, err error) {
	t.mu.Lock()
	t.batches++
	t.signals += signals
	if now.Before(t.next) {
		t.mu.Unlock()
		return
	}
	batches, sigs := t.batches, t.signals
	t.next, t.batches, t.signals = now.Add(throttleLogEvery), 0, 0
	t.mu.Unlock()
	log.Warn("refusing signals: too many active alerts; raise limits.active_alerts or limits.active_alerts_per_source if this load is real",
		zap.Error(err), zap.Int("batches_refused", batches), zap.Int("signals_refused", sigs),
		zap.Duration("log_interval", throttleLogEvery))
}
