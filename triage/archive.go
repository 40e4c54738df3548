package triage

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/journal"
)

// evict moves a resolved incident out of the live state into the archive:
// its detail, as the API showed it, with every signal record it still had.
// The records of its alerts that no longer fire go with it.
func (s *State) evict(inc *Incident, at time.Time) {
	d := s.detail(inc, 0, len(inc.Alerts))
	d.Archived = true
	for i := range d.Signals {
		d.Signals[i].Text = "" // report bodies may hold personal data: they are never archived
	}
	data, err := appendJSON([]byte{FormatVersion}, d)
	if err != nil {
		panic(fmt.Sprintf("triage: encode archived incident %s: %v", inc.Key, err)) // a Detail always encodes
	}
	s.archived = append(s.archived, journal.ArchiveItem{Key: inc.Key, Time: at, Data: data})
	for _, id := range inc.Alerts {
		if a := s.alerts[id]; a != nil && a.Incident == inc.Key && !a.Firing {
			delete(s.alerts, id)
			s.timers.set(timerAlertExpiry, id, time.Time{})
			s.timers.set(timerReportText, id, time.Time{})
		}
	}
	for _, id := range inc.Settled {
		delete(s.settled, id)
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

// DecodeArchived decodes an incident the archive holds.
func DecodeArchived(data []byte) (Detail, error) {
	var d Detail
	if err := decodeFormat("archived incident", data, &d); err != nil {
		return Detail{}, err
	}
	return d, nil
}
