package notify

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	amnotify "github.com/prometheus/alertmanager/notify"

	"github.com/klaxonhq/klaxon/triage"
)

// fakeNotifier answers from a script (the last answer repeats) and notes
// when each page arrived.
type fakeNotifier struct {
	answers []amnotify.NotifyVerdict
	sent    chan time.Time
}

func (n *fakeNotifier) Notify(context.Context, ...*alert.Alert) amnotify.NotifyVerdict {
	n.sent <- time.Now()
	v := n.answers[0]
	if len(n.answers) > 1 {
		n.answers = n.answers[1:]
	}
	return v
}

type sendsResolved struct{}

func (sendsResolved) SendResolved() bool { return true }

// fakeDispatcher is a dispatcher on the bubble's clock whose receiver "r"
// delivers through n.
func fakeDispatcher(t *testing.T, box *outbox, rec *recorder, n *fakeNotifier) *Dispatcher {
	t.Helper()
	d, err := New(box, rec, Options{Receivers: map[string]*config.Receiver{"r": {}}, Sweep: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	d.lanes["r"].integrations = []amnotify.Integration{amnotify.NewIntegration(n, sendsResolved{}, "fake", 0, "r")}
	return d
}

// TestIntentsGoOutWhenDue: with nobody calling Wake, an intent due later
// and a retry both go out at the instant they are due, not at the sweep.
func TestIntentsGoOutWhenDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		box := newOutbox(time.Now, page("now", "r", start), page("later", "r", start.Add(5*time.Minute)))
		rec := newRecorder(box)
		n := &fakeNotifier{
			answers: []amnotify.NotifyVerdict{amnotify.Retry(0, errors.New("503"), amnotify.ServerErrorReason), amnotify.Success()},
			sent:    make(chan time.Time, 10),
		}
		run(t, fakeDispatcher(t, box, rec, n))

		synctest.Wait()
		if at := <-n.sent; !at.Equal(start) {
			t.Fatalf("first attempt at %v, want %v", at.Sub(start), 0)
		}
		if del := <-rec.got; del.Intent != "now" || !del.Retry {
			t.Fatalf("delivery %+v", del)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if at := <-n.sent; !at.Equal(start.Add(10 * time.Second)) {
			t.Fatalf("retry at %v, want 10s", at.Sub(start))
		}
		if del := <-rec.got; del.Intent != "now" || !del.OK || del.Attempt != 2 {
			t.Fatalf("delivery %+v", del)
		}
		time.Sleep(5*time.Minute - 10*time.Second)
		synctest.Wait()
		if at := <-n.sent; !at.Equal(start.Add(5 * time.Minute)) {
			t.Fatalf("later page at %v, want 5m", at.Sub(start))
		}
		if del := <-rec.got; del.Intent != "later" || !del.OK {
			t.Fatalf("delivery %+v", del)
		}
		select {
		case at := <-n.sent:
			t.Fatalf("an extra page at %v", at.Sub(start))
		default:
		}
	})
}

// TestReportRetriedWithBackoff: a store that refuses reports gets them
// again after 1s, 2s, 4s…, and the page is sent once.
func TestReportRetriedWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		box := newOutbox(time.Now, page("p", "r", start))
		rec := newRecorder(box)
		var tries []time.Duration
		rec.fail = func(triage.Delivery) error {
			tries = append(tries, time.Since(start))
			if len(tries) < 4 {
				return errors.New("journal unavailable")
			}
			return nil
		}
		n := &fakeNotifier{answers: []amnotify.NotifyVerdict{amnotify.Success()}, sent: make(chan time.Time, 10)}
		run(t, fakeDispatcher(t, box, rec, n))
		<-rec.got
		want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}
		if len(tries) != len(want) {
			t.Fatalf("reports at %v, want %v", tries, want)
		}
		for i := range want {
			if tries[i] != want[i] {
				t.Fatalf("reports at %v, want %v", tries, want)
			}
		}
		if len(n.sent) != 1 {
			t.Fatalf("sent %d times", len(n.sent))
		}
	})
}
