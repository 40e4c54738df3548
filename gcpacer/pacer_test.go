package gcpacer

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name string
		live uint64
		want int
	}{
		{"nothing live yet", 0, maxPercent},
		{"tiny heap: capped", 1 * mib, maxPercent},
		{"16 MiB: the floor doubles it, the cap", 16 * mib, 100},
		{"32 MiB: the floor", 32 * mib, 50},
		{"50 MB: the floor", 50_000_000, 33},
		{"64 MiB: floor and quarter meet", 64 * mib, 25},
		{"100 MiB: a quarter", 100 * mib, 25},
		{"1.5 GB: a quarter", 1_500_000_000, 25},
		{"huge heap: a quarter", 1 << 40, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percent(tc.live); got != tc.want {
				t.Errorf("Percent(%d) = %d, want %d", tc.live, got, tc.want)
			}
		})
	}
}

func TestOperatorSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", map[string]string{}, false},
		{"GOGC", map[string]string{"GOGC": "100"}, true},
		{"GOGC empty still counts", map[string]string{"GOGC": ""}, true},
		{"GOMEMLIMIT", map[string]string{"GOMEMLIMIT": "1GiB"}, true},
		{"other variables", map[string]string{"GODEBUG": "gctrace=1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			if got := OperatorSet(lookup); got != tc.want {
				t.Errorf("OperatorSet = %v, want %v", got, tc.want)
			}
		})
	}
}

// gcPercent reads the collector's current GC percent.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// unsetEnv unsets the named variables for the test, restoring them after.
func unsetEnv(t *testing.T, names ...string) {
	for _, name := range names {
		t.Setenv(name, "") // restores the old value when the test ends
		os.Unsetenv(name)
	}
}

// Start leaves the GC percent alone when the operator set GOGC or
// GOMEMLIMIT, and otherwise paces a test's small heap at maxPercent after
// a collection, putting the old percent back on stop.
func TestStart(t *testing.T) {
	for _, tc := range []struct {
		name        string
		env         string
		wantStarted bool
		wantDuring  int
	}{
		{"no operator setting", "", true, maxPercent},
		{"GOGC set", "GOGC", false, 73},
		{"GOMEMLIMIT set", "GOMEMLIMIT", false, 73},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unsetEnv(t, "GOGC", "GOMEMLIMIT")
			if tc.env != "" {
				t.Setenv(tc.env, "1000")
			}
			defer debug.SetGCPercent(debug.SetGCPercent(73))
			stop, started := Start()
			debug.SetGCPercent(73) // the pacer must set it again after a collection
			for range 100 {
				runtime.GC()
				runtime.Gosched()
				if gcPercent() != 73 {
					break
				}
			}
			during := gcPercent()
			stop()
			if started != tc.wantStarted || during != tc.wantDuring || gcPercent() != 73 {
				t.Errorf("started %v, GC percent %d while paced and %d after stop, want %v, %d and 73",
					started, during, gcPercent(), tc.wantStarted, tc.wantDuring)
			}
		})
	}
}

// A stopped pacer no longer sets the GC percent after collections.
func TestStopEndsPacing(t *testing.T) {
	unsetEnv(t, "GOGC", "GOMEMLIMIT")
	defer debug.SetGCPercent(debug.SetGCPercent(73))
	stop, _ := Start()
	stop()
	debug.SetGCPercent(81)
	for range 10 {
		runtime.GC()
		runtime.Gosched()
	}
	if got := gcPercent(); got != 81 {
		t.Errorf("GC percent %d after collections with the pacer stopped, want 81", got)
	}
}

// Recovery runs with GOGC at RecoveryPercent and puts the previous value
// back, unless GOGC is set, which is left alone.
func TestForRecovery(t *testing.T) {
	for _, tc := range []struct {
		name, env  string
		set        bool
		wantDuring int
	}{
		{"GOGC unset", "", false, RecoveryPercent},
		{"GOGC set", "50", true, 73},
		{"GOGC off", "off", true, 73},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unsetEnv(t, "GOGC")
			if tc.set {
				t.Setenv("GOGC", tc.env)
			}
			defer debug.SetGCPercent(debug.SetGCPercent(73))
			restore := ForRecovery()
			during := gcPercent()
			restore()
			if after := gcPercent(); during != tc.wantDuring || after != 73 {
				t.Errorf("GOGC %d during recovery and %d after, want %d and 73", during, after, tc.wantDuring)
			}
		})
	}
}
