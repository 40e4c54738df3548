package triage

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// applyEventAck acknowledges the incident holding an event API's alert (a
// PagerDuty acknowledge names it by its dedup key): the same as a human's
// ack through the API. An ack for an alert never seen, or whose incident
// is not open, changes nothing.
func (s *State) applyEventAck(c *change, sig *signal.Signal, a *Alert) bool {
	if a == nil {
		return false
	}
	inc := s.incidents[a.Incident]
	if inc == nil || inc.Status != StatusTriggered {
		return false
	}
	by := fmt.Sprintf("%s event", sig.Source)
	return s.applyAction(c, &Action{Kind: ActionAck, Incident: inc.Key, By: by, Note: "acknowledged by its sender"}) == nil
}

// keepLabels is a resolve that names its alert by key alone, with the
// labels and annotations the alert fired with.
func keepLabels(sig *signal.Signal, a *Alert) *signal.Signal {
	r := *sig
	r.Labels = a.Signal.Labels
	var b signal.Builder
	b.AddAll(a.Signal.Annotations)
	b.AddAll(sig.Annotations)
	r.Annotations = b.Strings()
	return &r
}

// heartbeat is what the state knows of one dead man's switch: when the
// next beat is due, and the labels its missing-heartbeat alert carries.
type heartbeat struct {
	Fingerprint string         `json:"fingerprint"`
	Name        string         `json:"name"`
	Due         time.Time      `json:"due"`
	Labels      signal.Strings `json:"labels,omitzero"`
}

// beat records a heartbeat: the next is due by its endsAt (the deadline
// the receiving handler set from the configured interval). A beat of a
// heartbeat that was missing resolves its alert as a resolved signal does.
// It returns the signal to apply as an alert's: a beat's endsAt is the
// heartbeat's deadline, not the end of anything.
func (s *State) beat(sig *signal.Signal) *signal.Signal {
	name := sig.Labels.Get("heartbeat")
	if sig.EndsAt.IsZero() || name == "" {
		return sig // no deadline: nothing to watch
	}
	hb := &heartbeat{Fingerprint: sig.Fingerprint, Name: name, Due: sig.EndsAt, Labels: sig.Labels}
	s.heartbeats[sig.Fingerprint] = hb
	s.timers.set(timerHeartbeat, sig.Fingerprint, hb.Due)
	b := *sig
	b.EndsAt = time.Time{}
	return &b
}

// heartbeatMissed fires the missing-heartbeat alert of a heartbeat whose
// deadline passed without a beat: the monitoring that should have sent it
// may be down. The next beat resolves it.
func (s *State) heartbeatMissed(c *change, fingerprint string, at time.Time) {
	hb := s.heartbeats[fingerprint]
	if hb == nil {
		return
	}
	var labels, annotations signal.Builder
	labels.AddAll(hb.Labels)
	labels.Add("alertname", "HeartbeatMissing")
	annotations.Add("summary", fmt.Sprintf("heartbeat %s stopped: none since it was due at %s", hb.Name, hb.Due.UTC().Format(time.RFC3339)))
	sig := signal.Signal{Source: signal.SourceHeartbeat, Kind: signal.KindHeartbeat, Fingerprint: fingerprint,
		Status: signal.StatusFiring, Labels: labels.Strings(), StartsAt: at, Annotations: annotations.Strings()}
	delete(s.heartbeats, fingerprint)
	now := s.now
	s.now = at
	s.applySignal(c, &sig, keyOf(&sig))
	s.now = now
}

// captureHeartbeats copies the heartbeats for a snapshot, in fingerprint order.
func (s *State) captureHeartbeats() []*heartbeat {
	out := make([]*heartbeat, 0, len(s.heartbeats))
	for _, fp := range slices.Sorted(maps.Keys(s.heartbeats)) {
		hb := *s.heartbeats[fp]
		out = append(out, &hb)
	}
	return out
}
