package signal

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"unicode/utf8"
)

// Strings is a JSON object of strings: a signal's labels or annotations, as
// a payload carries them and as the journal stores them. It is a plain map
// that decodes itself, because encoding/json allocates a holder for every
// map key and goes through reflection for every entry; this does neither,
// and shares the strings of common names across signals. Decoding labels
// is most of the work of taking in a payload and of replaying the journal.
//
// Like encoding/json it keeps the last of duplicate keys, takes a null
// value as the empty string and replaces invalid UTF-8 with U+FFFD. It
// relies on the JSON being valid, which encoding/json checks before it
// calls UnmarshalJSON.
type Strings map[string]string

// errBadObject is returned for input that is not a JSON object, which valid
// JSON passed by encoding/json never is.
var errBadObject = errors.New("malformed JSON object")

// The types named in wrong-type errors.
var (
	kvType     = reflect.TypeFor[map[string]string]()
	stringType = reflect.TypeFor[string]()
)

// UnmarshalJSON decodes a JSON object of strings; null leaves the map nil.
func (kv *Strings) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return errBadObject
	case b[0] == 'n':
		*kv = nil
		return nil
	case b[0] != '{':
		return &json.UnmarshalTypeError{Value: JSONKind(b), Type: kvType}
	}
	m := make(map[string]string)
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		*kv = m
		return nil
	}
	for {
		raw, key, next, err := readString(b, i)
		if err != nil {
			return err
		}
		if raw != nil {
			key = internName(raw)
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return errBadObject
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return errBadObject
		}
		var value string
		switch b[i] {
		case '"':
			raw, value, next, err = readString(b, i)
			if err != nil {
				return err
			}
			if raw != nil {
				value = string(raw)
			}
			i = next
		case 'n':
			if !bytes.HasPrefix(b[i:], []byte("null")) {
				return errBadObject
			}
			i += len("null")
		default:
			return &json.UnmarshalTypeError{Value: JSONKind(b[i:]), Type: stringType}
		}
		m[key] = value
		i = skipSpace(b, i)
		if i >= len(b) {
			return errBadObject
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			*kv = m
			return nil
		default:
			return errBadObject
		}
	}
}

// readString reads the JSON string starting at b[i]. Without escapes or
// invalid UTF-8 it returns the raw bytes between the quotes, so that the
// caller can share or copy them; otherwise it returns the string as
// encoding/json decodes it, and nil raw. next is the index after the
// closing quote.
func readString(b []byte, i int) (raw []byte, s string, next int, err error) {
	if i >= len(b) || b[i] != '"' {
		return nil, "", 0, errBadObject
	}
	end := bytes.IndexByte(b[i+1:], '"')
	if end < 0 {
		return nil, "", 0, errBadObject
	}
	end += i + 1
	if bytes.IndexByte(b[i+1:end], '\\') < 0 && utf8.Valid(b[i+1:end]) {
		return b[i+1 : end], "", end + 1, nil
	}
	// Escapes or invalid UTF-8: find the quote that ends the string, then
	// let encoding/json decode it (rare, so not worth doing here).
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			var unescaped string
			if err := json.Unmarshal(b[i:j+1], &unescaped); err != nil {
				return nil, "", 0, err
			}
			return nil, unescaped, j + 1, nil
		}
	}
	return nil, "", 0, errBadObject
}

// skipSpace returns the index of the first non-whitespace byte of b at or
// after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// commonNames holds label and annotation names that most alerts carry, so
// that every signal's map shares one copy of each.
var commonNames = func() map[string]string {
	names := []string{
		"alertname", "severity", "instance", "job", "service", "namespace",
		"cluster", "team", "env", "environment", "region", "zone", "pod",
		"container", "node", "deployment", "endpoint", "prometheus",
		"customer", "component", "priority",
		"summary", "description", "runbook_url", "runbook", "dashboard",
		"message", "value",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = n
	}
	return m
}()

// internName returns raw as a string, sharing the copy of a common name.
func internName(raw []byte) string {
	if s, ok := commonNames[string(raw)]; ok {
		return s
	}
	return string(raw)
}

// JSONKind names the kind of the JSON value b, which must be valid JSON,
// as encoding/json names it in a wrong-type error.
func JSONKind(b []byte) string {
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
