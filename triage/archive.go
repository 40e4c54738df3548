package triage

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
)

// evict moves a resolved incident out of the live state into the archive:
// its detail, as the API showed it, with every signal record it still had.
// The records of its alerts that no longer fire go with it.
func (s *State) evict(inc *Incident, at time.Time) {
	d := s.detail(inc, 0, len(inc.Alerts))
	d.Archived = true
	for i := range d.Signals {
		d.Signals[i].ClearText() // report bodies may hold personal data: they are never archived
	}
	data, err := appendJSON([]byte{FormatVersion}, d)
	if err != nil {
		panic(fmt.Sprintf("triage: encode archived incident %s: %v", inc.Key, err)) // a Detail always encodes
	}
	s.archived = append(s.archived, journal.ArchiveItem{Key: inc.Key, Time: at, Data: data})
	for _, id := range inc.Alerts {
		if a := s.alerts[id]; a != nil && a.Incident == inc.Key && !a.Firing {
			delete(s.alerts, id)
			s.expiries.set(a, time.Time{})
			s.timers.set(timerReportText, id, time.Time{})
		}
	}
	for _, id := range inc.Settled {
		delete(s.settled, id)
	}
	if inc.Chat != nil && s.chatChannels[inc.Chat.Channel] == inc.Key {
		delete(s.chatChannels, inc.Chat.Channel)
	}
	delete(s.incidents, inc.Key)
	if i, ok := slices.BinarySearchFunc(s.order, inc.Number, func(o *Incident, n uint64) int {
		return cmp.Compare(o.Number, n)
	}); ok {
		s.order = slices.Delete(s.order, i, i+1)
	}
}

// TakeArchive returns the incidents evicted since the last call, encoded,
// and forgets them (journal.Archiver): the journal stores them on disk.
func (s *State) TakeArchive() []journal.ArchiveItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.archived
	s.archived = nil
	return out
}

// DecodeArchived decodes an incident the archive holds, in any format.
func DecodeArchived(data []byte) (Detail, error) {
	var ad archivedDetail
	if err := decodeFormat("archived incident", data, &ad); err != nil {
		return Detail{}, err
	}
	d := ad.Detail
	d.Signals = nil
	for _, as := range ad.Signals {
		d.Signals = append(d.Signals, as.view())
	}
	return d, nil
}

// archivedDetail is an incident as the archive holds it, its signals in
// any format.
type archivedDetail struct {
	Detail
	Signals []archivedSignal `json:"signals"`
}

// archivedSignal is a signal view as the archive holds it. Before format 4
// its "status" was the last delivery's, and "firing" the effective one.
type archivedSignal struct {
	SignalView
	Firing *bool `json:"firing"`
}

// view is the signal view in the current form, with the delivery's status
// told apart from the effective one.
func (as archivedSignal) view() SignalView {
	v := as.SignalView
	switch {
	case as.Firing != nil && *as.Firing:
		v.Signal.Status, v.Status = v.Status, signal.StatusFiring
	case as.Firing != nil:
		v.Signal.Status, v.Status = v.Status, signal.StatusResolved
		if v.Signal.Status == signal.StatusFiring {
			v.StatusReason = StatusExpired
		}
	case v.Status == signal.StatusResolved && v.StatusReason == "":
		v.Signal.Status = signal.StatusResolved
	default:
		v.Signal.Status = signal.StatusFiring
	}
	return v
}
