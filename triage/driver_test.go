package triage

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
)

// driverAlert is a firing alert that started at t0 and ends at end.
func driverAlert(name string, end time.Time) signal.Signal {
	s := alert(signal.StatusFiring, t0, "alertname", name, "service", "web")
	s.EndsAt = end
	return s
}

// kinds summarises records as "tick@+10m" and "entry@+20m", minutes after t0.
func kinds(t *testing.T, recs []journal.Record) []string {
	t.Helper()
	var out []string
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Errorf("record %d has sequence %d", i, r.Seq)
		}
		e, err := Decode(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		k := "entry"
		if e.Tick != nil {
			k = "tick"
			if !e.Tick.Due.Equal(r.Time) {
				t.Errorf("tick due %s recorded at %s", e.Tick.Due, r.Time)
			}
		}
		out = append(out, k+"@+"+r.Time.Sub(t0).String())
	}
	return out
}

func TestDriverFiresTimersBeforeEachEntry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		run   func(d *Driver) error
		want  []string
		state string // what the incident is after the run
	}{
		{"entry only", func(d *Driver) error {
			_, err := d.Feed(t0, &Entry{Signals: []signal.Signal{driverAlert("A", t0.Add(10*time.Minute))}})
			return err
		}, []string{"entry@+0s"}, "triggered"},
		{"expiry fires as a tick before the next entry", func(d *Driver) error {
			if _, err := d.Feed(t0, &Entry{Signals: []signal.Signal{driverAlert("A", t0.Add(10*time.Minute))}}); err != nil {
				return err
			}
			_, err := d.Feed(t0.Add(20*time.Minute), &Entry{Signals: []signal.Signal{driverAlert("B", t0.Add(time.Hour))}})
			return err
		}, []string{"entry@+0s", "tick@+10m0s", "tick@+15m0s", "entry@+20m0s"}, "resolved"},
		{"advance stops at its bound", func(d *Driver) error {
			if _, err := d.Feed(t0, &Entry{Signals: []signal.Signal{driverAlert("A", t0.Add(10*time.Minute))}}); err != nil {
				return err
			}
			return d.Advance(t0.Add(10*time.Minute - 1))
		}, []string{"entry@+0s"}, "triggered"},
		{"advance fires the expiry and the quiet period", func(d *Driver) error {
			if _, err := d.Feed(t0, &Entry{Signals: []signal.Signal{driverAlert("A", t0.Add(10*time.Minute))}}); err != nil {
				return err
			}
			return d.Advance(t0.Add(24 * time.Hour))
		}, []string{"entry@+0s", "tick@+10m0s", "tick@+15m0s"}, "resolved"},
		{"append appends no ticks (Apply still fires what is due)", func(d *Driver) error {
			if _, err := d.Append(t0, &Entry{Signals: []signal.Signal{driverAlert("A", t0.Add(10*time.Minute))}}); err != nil {
				return err
			}
			_, err := d.Append(t0.Add(20*time.Minute), &Entry{Signals: []signal.Signal{driverAlert("B", t0.Add(time.Hour))}})
			return err
		}, []string{"entry@+0s", "entry@+20m0s"}, "resolved"},
	} {
		for _, live := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/live=%v", tc.name, live), func(t *testing.T) {
				d := NewDriver(New(nil))
				d.Live = live
				var recs []journal.Record
				d.OnRecord = func(r journal.Record) { recs = append(recs, r) }
				if err := tc.run(d); err != nil {
					t.Fatal(err)
				}
				if got := kinds(t, recs); !slices.Equal(got, tc.want) {
					t.Errorf("records %q, want %q", got, tc.want)
				}
				if inc, _ := d.State().Get("INC-1", 0, 0); string(inc.Status) != tc.state {
					t.Errorf("INC-1 is %s, want %s", inc.Status, tc.state)
				}
				// The records it applied rebuild the same state from their bytes.
				again := New(nil)
				for _, r := range recs {
					again.Apply(r)
				}
				want, _ := d.State().Snapshot()()
				got, _ := again.Snapshot()()
				if !bytes.Equal(got, want) {
					t.Errorf("re-applying the records differs: %s", firstDiff(got, want))
				}
			})
		}
	}
}

// A driver over a restored state continues its sequence, so the state does
// not ignore its entries as already applied.
func TestDriverContinuesRestoredState(t *testing.T) {
	d := NewDriver(New(nil))
	if _, err := d.Feed(t0, &Entry{Signals: []signal.Signal{driverAlert("A", t0.Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	snap, _ := d.State().Snapshot()()
	restored := New(nil)
	if err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	d2 := NewDriver(restored)
	res, err := d2.Feed(t0.Add(time.Minute), &Entry{Signals: []signal.Signal{driverAlert("B", t0.Add(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || restored.LastSeq() != 2 {
		t.Errorf("accepted %d, last sequence %d; want 1 and 2", res.Accepted, restored.LastSeq())
	}
}

// Journal times never go back: an entry stamped before the latest record
// is applied at the latest record's time.
func TestDriverKeepsTimeMonotonic(t *testing.T) {
	d := NewDriver(New(nil))
	var recs []journal.Record
	d.OnRecord = func(r journal.Record) { recs = append(recs, r) }
	for _, at := range []time.Time{t0.Add(time.Hour), t0} {
		if _, err := d.Append(at, &Entry{Signals: []signal.Signal{driverAlert("A"+at.String(), time.Time{})}}); err != nil {
			t.Fatal(err)
		}
	}
	if !recs[1].Time.Equal(t0.Add(time.Hour)) || !d.Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("second record at %s, now %s; want both at +1h", recs[1].Time, d.Now())
	}
}
