package triage

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// keyedAlert is an alert of a snapshot with its ID.
type keyedAlert struct {
	id    string
	alert *Alert
}

// decodeAlerts decodes one chunk of a snapshot's alerts, {"id": alert, …},
// in the chunk's order: through decodeAlertsFast when the chunk is in the
// shape json.Marshal writes (every chunk formats up to 8 wrote), through
// encoding/json otherwise. Restoring a million alerts spent most of its CPU
// in encoding/json's reflection and in filling a map per chunk; the fast
// path decodes the same alerts in a fraction of it and fills no map.
func decodeAlerts(chunk []byte) ([]keyedAlert, error) {
	if alerts, ok := decodeAlertsFast(chunk); ok {
		return alerts, nil
	}
	var m map[string]*Alert
	if err := json.Unmarshal(chunk, &m); err != nil {
		return nil, err
	}
	alerts := make([]keyedAlert, 0, len(m))
	for id, a := range m {
		alerts = append(alerts, keyedAlert{id, a})
	}
	return alerts, nil
}

// decodeAlertsFast decodes chunk when it is an object of alerts whose
// members json.Marshal wrote: exact field names, each at most once, no
// nulls, no escapes outside labels and annotations. For such a chunk it
// gives what json.Unmarshal gives, once a repeated ID's later alert
// replaces the earlier; ok is false for anything else, and the caller
// decodes the chunk the general way: this never decides an error.
func decodeAlertsFast(chunk []byte) (alerts []keyedAlert, ok bool) {
	p := fastParser{b: chunk}
	if !p.byte('{') {
		return nil, false
	}
	alerts = make([]keyedAlert, 0, bytes.Count(chunk, hashKey)) // a hint: a label may hold the text too
	if p.byte('}') {
		return alerts, p.skipSpace() == len(p.b)
	}
	for {
		id, ok := p.rawString()
		if !ok || !p.byte(':') {
			return nil, false
		}
		a := new(Alert)
		if !readObject(&p, a, alertFields) {
			return nil, false
		}
		alerts = append(alerts, keyedAlert{string(id), a})
		if p.byte('}') {
			return alerts, p.skipSpace() == len(p.b)
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}

// hashKey is in every alert json.Marshal writes, once.
var hashKey = []byte(`"hash":`)

// alertFields are Alert's fields by their JSON names.
var alertFields = []fastField[Alert]{
	{"signal", func(p *fastParser, a *Alert) bool { return p.signal(&a.Signal) }},
	{"hash", func(p *fastParser, a *Alert) bool { return p.uint(&a.Hash) }},
	{"incident", func(p *fastParser, a *Alert) bool { return p.str(&a.Incident) }},
	{"firing", func(p *fastParser, a *Alert) bool { return p.bool(&a.Firing) }},
	{"firstSeen", func(p *fastParser, a *Alert) bool { return p.stamp(&a.FirstSeen) }},
	{"lastSeen", func(p *fastParser, a *Alert) bool { return p.stamp(&a.LastSeen) }},
	{"joined", func(p *fastParser, a *Alert) bool { return p.stamp(&a.Joined) }},
}

func (p *fastParser) uint(dst *uint64) bool {
	start := p.skipSpace()
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	n, err := strconv.ParseUint(string(p.b[start:p.i]), 10, 64)
	if err != nil || p.i-start > 1 && p.b[start] == '0' {
		return false
	}
	*dst = n
	return true
}

// stamp reads a time.Time's JSON, as stamp.UnmarshalJSON does.
func (p *fastParser) stamp(dst *stamp) bool {
	var t time.Time
	if !p.time(&t) {
		return false
	}
	*dst = stampOf(t)
	return true
}
