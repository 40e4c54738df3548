package ingest

import (
	"bytes"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// maxHeartbeatName bounds a heartbeat's name, which is a URL path segment.
const maxHeartbeatName = 128

// heartbeatBody is the optional JSON body of POST /ingest/heartbeats/{name}.
type heartbeatBody struct {
	// Status is "ok" (the default) or "fail": the job ran and failed,
	// which fires at once rather than waiting for the interval to pass.
	Status string `json:"status"`
	// Message is free text kept as the message annotation (a job's last
	// log line, say).
	Message string `json:"message"`
}

// HeartbeatFingerprint is the Fingerprint of every signal about the
// heartbeat name: the beats ParseHeartbeat returns and the "stopped
// arriving" signal triage makes when the interval passes without one.
func HeartbeatFingerprint(name string) string {
	return identity(signal.SourceHeartbeat, "", name)
}

// ParseHeartbeat parses a beat of the heartbeat name (letters, digits, '.',
// '_' and '-', at most 128 bytes), received at now, with an optional body:
// empty, or a JSON object {"status": "ok"|"fail", "message": "..."}. The
// signal is of kind heartbeat from signal.SourceHeartbeat, with the label
// heartbeat=name and Fingerprint HeartbeatFingerprint(name). It reports the
// condition "the heartbeat is missing", so a beat is resolved (the job is
// alive) and a beat with status "fail" is firing. Whether the name is
// configured, its interval, and the firing signal when beats stop arriving
// are triage's: that signal should share this Fingerprint, so that the next
// beat resolves it.
func ParseHeartbeat(name string, body []byte, now time.Time, lim Limits) ([]signal.Signal, error) {
	if err := checkHeartbeatName(name); err != nil {
		return nil, err
	}
	var hb heartbeatBody
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeObject(body, &hb); err != nil {
			return nil, err
		}
	}
	b := newBuilder(lim, signal.SourceHeartbeat, signal.KindHeartbeat, now)
	b.sig.Fingerprint = HeartbeatFingerprint(name)
	b.label("name", labelHeartbeat, name)
	b.annotation("message", "message", hb.Message)
	switch hb.Status {
	case "", "ok":
		b.resolved()
	case "fail":
	default:
		b.fail("status", `must be "ok" or "fail", got `+quote(hb.Status))
	}
	return b.done()
}

// checkHeartbeatName refuses a name that is empty, too long, or holds
// anything but letters, digits, '.', '_' and '-'.
func checkHeartbeatName(name string) error {
	if name == "" {
		return &Error{Field: "name", Msg: "must not be empty"}
	}
	if len(name) > maxHeartbeatName {
		return &Error{Field: "name", Msg: fmt.Sprintf("is %d bytes, more than the limit of %d", len(name), maxHeartbeatName)}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return &Error{Field: "name", Msg: "may hold only letters, digits, '.', '_' and '-', got " + quote(name)}
		}
	}
	return nil
}
