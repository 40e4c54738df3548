package triage

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/signal"
)

// decodeSignalsFast decodes body, the JSON of a current-format entry, when
// it holds only signals in the shape Encode writes: most of the journal,
// and most of the work of recovery. It goes through no reflection and
// decodes exactly what decodeStrict would. ok is false for anything else
// (another entry kind, an unknown, repeated or differently cased field, a
// null, an escaped string outside labels, a malformed value), and the
// caller decodes body the general way: this never decides an error. The
// signals are decoded into room, an all-zero slice, as far as it holds them.
func decodeSignalsFast(room []signal.Signal, body []byte) (sigs []signal.Signal, ok bool) {
	p := fastParser{b: body}
	if !p.byte('{') || !p.key("signals") || !p.byte('[') {
		return nil, false
	}
	// Without room, a hint of the count (a label may hold the text too),
	// so that the slice is allocated once rather than grown through every
	// size. Room handed back by replay is an earlier entry's, most often
	// as large: counting for it took 2% of replay's CPU.
	sigs = room[:0]
	if cap(room) == 0 {
		sigs = make([]signal.Signal, 0, bytes.Count(body, fingerprintKey))
	}
	for {
		sigs = append(sigs, signal.Signal{})
		if !p.signal(&sigs[len(sigs)-1]) {
			return nil, false
		}
		if p.byte(']') {
			break
		}
		if !p.byte(',') {
			return nil, false
		}
	}
	if !p.byte('}') || p.skipSpace() != len(p.b) {
		return nil, false
	}
	return sigs, true
}

// fingerprintKey is in every signal Encode writes, once.
var fingerprintKey = []byte(`"fingerprint":`)

// fastParser reads b from i on; every method returns false, and leaves
// the parse to be abandoned, at anything it does not take.
type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) skipSpace() int {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
	return p.i
}

// byte consumes c after any whitespace.
func (p *fastParser) byte(c byte) bool {
	if p.skipSpace() < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// key consumes the object key name and its colon.
func (p *fastParser) key(name string) bool {
	k, ok := p.rawString()
	return ok && string(k) == name && p.byte(':')
}

// rawString consumes a JSON string without escapes, control characters
// or invalid UTF-8 and returns what is between its quotes.
func (p *fastParser) rawString() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	end := bytes.IndexByte(p.b[start:], '"')
	if end < 0 {
		return nil, false
	}
	s := p.b[start : start+end]
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
	}
	if !utf8.Valid(s) {
		return nil, false
	}
	p.i = start + end + 1
	return s, true
}

// fastField is one member of an object in the JSON, by its exact name, and
// how to read its value into a T.
type fastField[T any] struct {
	name string
	read func(p *fastParser, v *T) bool
}

// signalFields are Signal's fields by their JSON names.
var signalFields = []fastField[signal.Signal]{
	{"source", func(p *fastParser, s *signal.Signal) bool { return p.word((*string)(&s.Source)) }},
	{"kind", func(p *fastParser, s *signal.Signal) bool { return p.word((*string)(&s.Kind)) }},
	{"fingerprint", func(p *fastParser, s *signal.Signal) bool { return p.str(&s.Fingerprint) }},
	{"status", func(p *fastParser, s *signal.Signal) bool { return p.word((*string)(&s.Status)) }},
	{"labels", func(p *fastParser, s *signal.Signal) bool { return p.strings(&s.Labels) }},
	{"annotations", func(p *fastParser, s *signal.Signal) bool { return p.strings(&s.Annotations) }},
	{"text", func(p *fastParser, s *signal.Signal) bool { return p.str(&report(s).Text) }},
	{"startsAt", func(p *fastParser, s *signal.Signal) bool { return p.time(&s.StartsAt) }},
	{"endsAt", func(p *fastParser, s *signal.Signal) bool { return p.time(&s.EndsAt) }},
	{"customer", func(p *fastParser, s *signal.Signal) bool { return p.str(&report(s).Customer) }},
	{"link", func(p *fastParser, s *signal.Signal) bool { return p.str(&s.Link) }},
	{"reach", func(p *fastParser, s *signal.Signal) bool { return p.int(&report(s).Reach) }},
	{"repostOf", func(p *fastParser, s *signal.Signal) bool { return p.str(&report(s).RepostOf) }},
	{"ack", func(p *fastParser, s *signal.Signal) bool { return p.bool(&s.Ack) }},
}

// report is s's Report, made for a field of it to be decoded into, as
// encoding/json makes it.
func report(s *signal.Signal) *signal.Report {
	if s.Report == nil {
		s.Report = new(signal.Report)
	}
	return s.Report
}

// signal consumes one signal object.
func (p *fastParser) signal(s *signal.Signal) bool { return readObject(p, s, signalFields) }

// readObject consumes an object whose members are fields, each at most
// once, into v.
func readObject[T any](p *fastParser, v *T, fields []fastField[T]) bool {
	if !p.byte('{') {
		return false
	}
	if p.byte('}') {
		return true
	}
	var seen uint32
	for {
		name, ok := p.rawString()
		if !ok || !p.byte(':') {
			return false
		}
		f := fieldIndex(fields, name)
		if f < 0 || seen&(1<<f) != 0 || !fields[f].read(p, v) {
			return false
		}
		seen |= 1 << f
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

// fieldIndex returns the index in fields of the field named name exactly,
// or -1.
func fieldIndex[T any](fields []fastField[T], name []byte) int {
	for i, f := range fields {
		if f.name == string(name) {
			return i
		}
	}
	return -1
}

func (p *fastParser) str(dst *string) bool {
	s, ok := p.rawString()
	if ok {
		*dst = string(s)
	}
	return ok
}

// word is str for a field that nearly always holds one of a few
// constants, which every signal then shares rather than holding a copy.
func (p *fastParser) word(dst *string) bool {
	s, ok := p.rawString()
	if !ok {
		return false
	}
	if w, known := words[string(s)]; known {
		*dst = w
	} else {
		*dst = string(s)
	}
	return true
}

// words are the values of signals' source, kind and status.
var words = func() map[string]string {
	m := make(map[string]string)
	for _, w := range []string{
		string(signal.KindAlert), string(signal.KindTicket), string(signal.KindMention), string(signal.KindHeartbeat),
		string(signal.StatusFiring), string(signal.StatusResolved),
		string(signal.SourceAlertmanager), string(signal.SourcePrometheus), string(signal.SourceTicketsGeneric),
		string(signal.SourceZendesk), string(signal.SourceJSM), string(signal.SourceMentionsGeneric),
		string(signal.SourceMastodon), string(signal.SourceX), string(signal.SourceHeartbeat), string(signal.SourcePagerDuty),
	} {
		m[w] = w
	}
	return m
}()

// strings consumes a flat object of strings, which signal.Strings decodes.
func (p *fastParser) strings(dst *signal.Strings) bool {
	if p.skipSpace() >= len(p.b) || p.b[p.i] != '{' {
		return false
	}
	start := p.i
	for p.i++; p.i < len(p.b); p.i++ {
		switch p.b[p.i] {
		case '"':
			if !p.skipString() {
				return false
			}
		case '{', '[':
			return false
		case '}':
			p.i++
			return dst.UnmarshalJSON(p.b[start:p.i]) == nil
		}
	}
	return false
}

// skipString moves past the string whose opening quote is at b[i], to its
// closing quote, refusing control characters; Strings checks the rest.
func (p *fastParser) skipString() bool {
	for p.i++; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '\\':
			p.i++
		case c == '"':
			return true
		case c < 0x20:
			return false
		}
	}
	return false
}

func (p *fastParser) time(dst *time.Time) bool {
	// UnmarshalText parses as UnmarshalJSON does inside the quotes.
	s, ok := p.rawString()
	return ok && dst.UnmarshalText(s) == nil
}

func (p *fastParser) int(dst *int64) bool {
	start := p.skipSpace()
	for p.i < len(p.b) && (p.b[p.i] == '-' || p.b[p.i] >= '0' && p.b[p.i] <= '9') {
		p.i++
	}
	n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	if err != nil || p.i-start > 1 && (p.b[start] == '0' || p.b[start] == '-' && p.b[start+1] == '0') {
		return false
	}
	*dst = n
	return true
}

func (p *fastParser) bool(dst *bool) bool {
	rest := p.b[p.skipSpace():]
	switch {
	case bytes.HasPrefix(rest, []byte("true")):
		*dst, p.i = true, p.i+len("true")
	case bytes.HasPrefix(rest, []byte("false")):
		*dst, p.i = false, p.i+len("false")
	default:
		return false
	}
	return true
}
