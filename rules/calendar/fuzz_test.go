package calendar

import (
	"testing"
	"time"
)

// FuzzCalendar builds calendars from arbitrary settings; those accepted must
// answer Open and NextOpen consistently.
func FuzzCalendar(f *testing.F) {
	f.Add("Europe/Berlin", "mon-fri", "09:00-17:00", "2026-12-25", int64(1774746000))
	f.Add("America/New_York", "sun", "02:30-04:00", "2026-03-09", int64(1772953200))
	f.Add("UTC", "sat-mon", "00:00-24:00", "", int64(0))
	f.Fuzz(func(t *testing.T, tz, days, hours, holiday string, unix int64) {
		var hol []string
		if holiday != "" {
			hol = []string{holiday}
		}
		c, err := New("f", tz, []string{days}, hours, hol)
		if err != nil {
			return
		}
		at := time.Unix(unix%(1<<34), 0)
		next := c.NextOpen(at)
		if next.IsZero() {
			return
		}
		if next.Before(at) || !c.Open(next) || c.Open(at) != next.Equal(at) {
			t.Fatalf("NextOpen(%v) = %v (open at %v: %v)", at, next, at, c.Open(at))
		}
	})
}
