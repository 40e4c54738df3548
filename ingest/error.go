package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// Error is why a payload was rejected, naming the offending field so that
// the sender can find it.
type Error struct {
	// Field is the JSON path of the offending value, such as
	// `alerts[3].labels`; empty when the payload as a whole is bad.
	Field string
	// Msg says what is wrong with it.
	Msg string
	// Alerts is how many alerts the rejected payload held, as far as it
	// could be decoded, for counting them as rejected.
	Alerts int
}

// Error returns the field path and the message, e.g.
// `alerts[3].labels: must not be empty`.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// maxQuoted is how many bytes of a sender's value an error message quotes.
const maxQuoted = 64

// decode unmarshals body into v, turning every failure into an *Error. A is
// the type of one alert in the payload, used to find which alert a wrong
// type is in; inArray says whether the body is a bare array of alerts rather
// than an object with an "alerts" field.
//
// The body must be valid UTF-8: encoding/json would otherwise replace bad
// bytes with U+FFFD and accept them silently. Every string decoded from a
// body that passes this check is therefore valid UTF-8.
func decode[A any](body []byte, v any, inArray bool) error {
	return decodeWith[A](body, v, inArray, nil)
}

// decodeWith is decode trying fast first, if not nil: fast decodes body
// into v as encoding/json would, or reports false, leaving v untouched,
// and the body is decoded the general way.
func decodeWith[A any](body []byte, v any, inArray bool, fast func() bool) error {
	if !utf8.Valid(body) {
		return &Error{Msg: fmt.Sprintf("invalid UTF-8 at byte offset %d", invalidUTF8At(body))}
	}
	if fast != nil && fast() {
		return nil
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &Error{Msg: fmt.Sprintf("malformed JSON after %d bytes: %s", syn.Offset, syn.Error())}
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return locateTypeError[A](body, typ, inArray)
	}
	return &Error{Msg: "malformed JSON: " + err.Error()}
}

// invalidUTF8At returns the offset of the first byte of b that is not part
// of a valid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// locateTypeError turns a wrong-type error into an *Error whose path names
// the alert it is in. encoding/json's field paths leave out array indices,
// so this decodes the alerts one by one to find the first bad one; it runs
// only for rejected payloads.
func locateTypeError[A any](body []byte, typ *json.UnmarshalTypeError, inArray bool) *Error {
	var raws []json.RawMessage
	var err error
	if inArray {
		err = json.Unmarshal(body, &raws)
	} else {
		var top struct {
			Alerts []json.RawMessage `json:"alerts"`
		}
		err = json.Unmarshal(body, &top)
		raws = top.Alerts
	}
	if err == nil {
		for i, raw := range raws {
			var a A
			var sub *json.UnmarshalTypeError
			if errors.As(json.Unmarshal(raw, &a), &sub) {
				return typeError(alertPath(i, sub.Field), sub)
			}
		}
	}
	return typeError(typ.Field, typ)
}

// typeError describes a JSON value of the wrong type at path.
func typeError(path string, typ *json.UnmarshalTypeError) *Error {
	return &Error{Field: path, Msg: fmt.Sprintf("wrong type: got JSON %s, want %s", typ.Value, typeName(typ.Type))}
}

// typeName names the JSON shape a Go type is decoded from.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "non-negative integer"
	default:
		return t.String()
	}
}

// alertPath is the path of field in the i-th alert; field may be empty.
func alertPath(i int, field string) string {
	p := "alerts[" + strconv.Itoa(i) + "]"
	if field != "" {
		p += "." + field
	}
	return p
}

// keyPath is the path of the entry name in the map field of the i-th alert.
func keyPath(i int, field, name string) string {
	return alertPath(i, field) + "[" + quote(name) + "]"
}

// withAlerts records in err, if it is an *Error, that the payload held n
// alerts, and returns it.
func withAlerts(err error, n int) error {
	if e, ok := err.(*Error); ok {
		e.Alerts = n
	}
	return err
}

// Quote quotes a sender's value for an error message, cut to 64 bytes.
func Quote(s string) string { return quote(s) }

// quote quotes s for an error message, cut to maxQuoted bytes.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
