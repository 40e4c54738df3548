package ingest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Alertmanager's webhook payloads and Prometheus' alert pushes are decoded
// here without reflection when they have the shape their senders write:
// encoding/json's reflection was the largest part of the CPU time of
// taking in a batch of alerts. The fast path hands each field's raw value
// to the same UnmarshalJSON methods encoding/json would call, so that
// values decode alike. It gives up (ok false) at anything else: an
// unknown, repeated or differently cased field, a value of another
// type, malformed JSON. A null is taken as encoding/json takes it: handed
// to UnmarshalJSON, or leaving a plain field as it was. The caller then decodes the body the general way,
// which also words every error: the fast path never decides one.

// maxFastDepth is how deeply nested a value the fast path skips.
const maxFastDepth = 32

// jsonScan reads JSON from b at i; every method returns false at anything
// it does not take, and the scan is then abandoned.
type jsonScan struct {
	b []byte
	i int
}

// space skips whitespace and returns the index of the next byte.
func (s *jsonScan) space() int {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
	return s.i
}

// byte consumes c after any whitespace.
func (s *jsonScan) byte(c byte) bool {
	if s.space() < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only whitespace is left.
func (s *jsonScan) end() bool { return s.space() == len(s.b) }

// rawString consumes a valid JSON string and returns it with its quotes;
// escaped says whether it holds escapes. The body's UTF-8 is checked
// before the scan starts.
func (s *jsonScan) rawString() (raw []byte, escaped, ok bool) {
	if s.space() >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	start := s.i
	for j := start + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:s.i], escaped, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			n := escapeLen(s.b[j+1:])
			if n == 0 {
				return nil, false, false
			}
			escaped = true
			j += n
		}
	}
	return nil, false, false
}

// escapeLen is the length of the valid escape whose backslash precedes b,
// or 0 if it is not valid.
func escapeLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1
	case 'u':
		if len(b) < 5 {
			return 0
		}
		for _, c := range b[1:5] {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return 0
			}
		}
		return 5
	}
	return 0
}

// null consumes a JSON null.
func (s *jsonScan) null() bool {
	if s.space() < len(s.b) && bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += len("null")
		return true
	}
	return false
}

// str consumes a JSON string and decodes it as encoding/json does; a null
// leaves dst as it was.
func (s *jsonScan) str(dst *string) bool {
	if s.null() {
		return true
	}
	raw, escaped, ok := s.rawString()
	if !ok {
		return false
	}
	if escaped {
		*dst = unescape(raw[1 : len(raw)-1])
		return true
	}
	*dst = string(raw[1 : len(raw)-1])
	return true
}

// unescape decodes the inside of a JSON string whose escapes rawString
// found valid, as encoding/json does: a \u escape of a lone surrogate
// becomes U+FFFD. Senders escape more than one would think: encoding/json
// writes every '&', '<' and '>' as \u0026, \u003c and \u003e, and
// Prometheus' generator URLs are full of '&'.
func unescape(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(b[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					if pair := utf16.DecodeRune(r, hex4(b[i+3:i+7])); pair != utf8.RuneError {
						out = utf8.AppendRune(out, pair)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, b[i])
		}
	}
	return string(out)
}

// hex4 is the value of four hex digits.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// uint consumes a non-negative integer that fits in 64 bits; a null
// leaves dst as it was.
func (s *jsonScan) uint(dst *uint64) bool {
	if s.null() {
		return true
	}
	start := s.space()
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	digits := s.b[start:s.i]
	if len(digits) == 0 || len(digits) > 1 && digits[0] == '0' || s.i < len(s.b) && isNumberTail(s.b[s.i]) {
		return false
	}
	n, err := strconv.ParseUint(string(digits), 10, 64)
	*dst = n
	return err == nil
}

// isNumberTail reports whether c would continue a JSON number past its
// integer digits (a fraction or an exponent), which uint does not take.
func isNumberTail(c byte) bool { return c == '.' || c == 'e' || c == 'E' }

// value consumes any valid JSON value and returns its bytes.
func (s *jsonScan) value() ([]byte, bool) {
	start := s.space()
	if !s.skip(0) {
		return nil, false
	}
	return s.b[start:s.i], true
}

// skip consumes one valid JSON value at nesting depth.
func (s *jsonScan) skip(depth int) bool {
	if s.space() >= len(s.b) || depth > maxFastDepth {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, ok := s.rawString()
		return ok
	case c == '{':
		s.i++
		return s.members(func([]byte, bool) bool { return s.skip(depth + 1) })
	case c == '[':
		s.i++
		return s.elements(func() bool { return s.skip(depth + 1) })
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			return true
		}
	}
	return false
}

// number consumes a JSON number.
func (s *jsonScan) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return false
		}
		i = j
	}
	s.i = i
	return true
}

// digits returns the index after the decimal digits of b from i.
func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// members consumes the members of an object whose '{' is consumed,
// calling member with each key (as in the JSON, with its quotes) to
// consume its value; escaped says whether the key holds escapes.
func (s *jsonScan) members(member func(key []byte, escaped bool) bool) bool {
	if s.byte('}') {
		return true
	}
	for {
		key, escaped, ok := s.rawString()
		if !ok || !s.byte(':') || !member(key, escaped) {
			return false
		}
		if s.byte('}') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

// elements consumes the elements of an array whose '[' is consumed,
// calling element to consume each.
func (s *jsonScan) elements(element func() bool) bool {
	if s.byte(']') {
		return true
	}
	for {
		if !element() {
			return false
		}
		if s.byte(']') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

// field is a known field of an object: its exact JSON name and how to
// consume its value.
type field struct {
	name string
	read func(s *jsonScan) bool
}

// object consumes an object whose members are all among fields, each at
// most once, named exactly, without escapes.
func (s *jsonScan) object(fields []field) bool {
	if !s.byte('{') {
		return false
	}
	var seen uint64
	return s.members(func(key []byte, escaped bool) bool {
		if escaped {
			return false
		}
		key = key[1 : len(key)-1]
		for i := range fields {
			if fields[i].name == string(key) {
				if seen&(1<<i) != 0 {
					return false
				}
				seen |= 1 << i
				return fields[i].read(s)
			}
		}
		return false
	})
}

// unmarshaler consumes a value and hands its bytes to u, as
// encoding/json would.
func (s *jsonScan) unmarshaler(u json.Unmarshaler) bool {
	raw, ok := s.value()
	return ok && u.UnmarshalJSON(raw) == nil
}

// decodeAlertsV2Fast decodes the body of an alerts push, which must be
// valid UTF-8, as encoding/json decodes it into alerts, when the fast path
// takes it.
func decodeAlertsV2Fast(body []byte) ([]postableAlert, bool) {
	s := jsonScan{b: body}
	if !s.byte('[') {
		return nil, false
	}
	alerts := postables.get(bytes.Count(body, []byte(`"labels"`)))
	var a *postableAlert
	fields := []field{
		{"labels", func(s *jsonScan) bool { return s.unmarshaler(&a.Labels) }},
		{"annotations", func(s *jsonScan) bool { return s.unmarshaler(&a.Annotations) }},
		{"startsAt", func(s *jsonScan) bool { return s.unmarshaler(&a.StartsAt) }},
		{"endsAt", func(s *jsonScan) bool { return s.unmarshaler(&a.EndsAt) }},
		{"generatorURL", func(s *jsonScan) bool { return s.str(&a.GeneratorURL) }},
	}
	ok := s.elements(func() bool {
		alerts = append(alerts, postableAlert{})
		a = &alerts[len(alerts)-1]
		return s.object(fields)
	})
	return alerts, ok && s.end()
}

// decodeWebhookFast decodes a webhook payload, which must be valid UTF-8,
// as encoding/json decodes it into w, when the fast path takes it.
func decodeWebhookFast(body []byte, w *wireWebhook) bool {
	s := jsonScan{b: body}
	var a *webhookAlert
	alertFields := []field{
		{"status", func(s *jsonScan) bool { return s.unmarshaler(&a.Status) }},
		{"labels", func(s *jsonScan) bool { return s.unmarshaler(&a.Labels) }},
		{"annotations", func(s *jsonScan) bool { return s.unmarshaler(&a.Annotations) }},
		{"startsAt", func(s *jsonScan) bool { return s.unmarshaler(&a.StartsAt) }},
		{"endsAt", func(s *jsonScan) bool { return s.unmarshaler(&a.EndsAt) }},
		{"generatorURL", func(s *jsonScan) bool { return s.str(&a.GeneratorURL) }},
		{"fingerprint", func(s *jsonScan) bool { return s.unmarshaler(&a.Fingerprint) }},
	}
	alerts := func(s *jsonScan) bool {
		if !s.byte('[') {
			return false
		}
		w.Alerts = webhookAlerts.get(bytes.Count(body, []byte(`"labels"`)))
		return s.elements(func() bool {
			w.Alerts = append(w.Alerts, webhookAlert{})
			a = &w.Alerts[len(w.Alerts)-1]
			return s.object(alertFields)
		})
	}
	return s.object([]field{
		{"version", func(s *jsonScan) bool { return s.str(&w.Version) }},
		{"groupKey", func(s *jsonScan) bool { return s.str(&w.GroupKey) }},
		{"truncatedAlerts", func(s *jsonScan) bool { return s.uint(&w.TruncatedAlerts) }},
		{"status", func(s *jsonScan) bool { return s.unmarshaler(&w.Status) }},
		{"receiver", func(s *jsonScan) bool { return s.str(&w.Receiver) }},
		{"groupLabels", func(s *jsonScan) bool { return s.unmarshaler(&w.GroupLabels) }},
		{"commonLabels", func(s *jsonScan) bool { return s.unmarshaler(&w.CommonLabels) }},
		{"commonAnnotations", func(s *jsonScan) bool { return s.unmarshaler(&w.CommonAnnotations) }},
		{"routeLabels", func(s *jsonScan) bool { return s.unmarshaler(&w.RouteLabels) }},
		{"notification_reason", func(s *jsonScan) bool { return s.str(&w.NotificationReason) }},
		{"externalURL", func(s *jsonScan) bool { return s.str(&w.ExternalURL) }},
		{"alerts", alerts},
	}) && s.end()
}
