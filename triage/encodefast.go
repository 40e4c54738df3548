package triage

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// encodeSignalsFast appends the JSON of an entry holding only sigs to dst,
// byte for byte what encoding/json writes for it, without reflection:
// encoding signal entries was a tenth of the CPU time of taking in
// alerts. ok is false, with dst unusable, only for a time encoding/json
// refuses (a year outside 0-9999): the caller then encodes the general
// way, which reports the error.
func encodeSignalsFast(dst []byte, sigs []signal.Signal) (_ []byte, ok bool) {
	dst = slices.Grow(dst, 16+signalSizeGuess*len(sigs))
	dst = append(dst, `{"signals":[`...)
	for i := range sigs {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, ok = appendSignal(dst, &sigs[i]); !ok {
			return nil, false
		}
	}
	return append(dst, "]}"...), true
}

// signalSizeGuess is about how many bytes an alert's JSON takes, for
// sizing the buffer once.
const signalSizeGuess = 384

// appendSignal appends one signal's JSON, in signal.Signal's field order
// and with its omitempty and omitzero rules.
func appendSignal(dst []byte, s *signal.Signal) (_ []byte, ok bool) {
	dst = append(dst, `{"source":`...)
	dst = appendString(dst, string(s.Source))
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, string(s.Kind))
	dst = append(dst, `,"fingerprint":`...)
	dst = appendString(dst, s.Fingerprint)
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, string(s.Status))
	dst = append(dst, `,"labels":`...)
	dst = s.Labels.AppendJSON(dst)
	if !s.Annotations.IsZero() {
		dst = append(dst, `,"annotations":`...)
		dst = s.Annotations.AppendJSON(dst)
	}
	if r := s.Report; r != nil {
		dst = appendOptional(dst, `,"text":`, r.Text)
		dst = appendOptional(dst, `,"customer":`, r.Customer)
		if r.Reach != 0 {
			dst = append(dst, `,"reach":`...)
			dst = strconv.AppendInt(dst, r.Reach, 10)
		}
		dst = appendOptional(dst, `,"repostOf":`, r.RepostOf)
	}
	dst = append(dst, `,"startsAt":`...)
	if dst, ok = appendTime(dst, s.StartsAt); !ok {
		return nil, false
	}
	if !s.EndsAt.IsZero() {
		dst = append(dst, `,"endsAt":`...)
		if dst, ok = appendTime(dst, s.EndsAt); !ok {
			return nil, false
		}
	}
	dst = appendOptional(dst, `,"link":`, s.Link)
	if s.Ack {
		dst = append(dst, `,"ack":true`...)
	}
	return append(dst, '}'), true
}

// appendOptional appends key and the string v unless v is empty.
func appendOptional(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return appendString(append(dst, key...), v)
}

// appendTime appends t as time.Time's MarshalJSON does; ok is false where
// that fails.
func appendTime(dst []byte, t time.Time) ([]byte, bool) {
	dst = append(dst, '"')
	dst, err := t.AppendText(dst)
	if err != nil {
		return nil, false
	}
	return append(dst, '"'), true
}

// appendString appends s as a JSON string exactly as encoding/json quotes
// it. Strings of printable ASCII that need no escape, nearly all of them,
// are copied; the rest go through encoding/json.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
