package signal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"unicode/utf8"
)

// errBadObject is returned for input that is not a JSON object, which valid
// JSON passed by encoding/json never is.
var errBadObject = errors.New("malformed JSON object")

// The types named in wrong-type errors.
var (
	kvType     = reflect.TypeFor[map[string]string]()
	stringType = reflect.TypeFor[string]()
)

// MarshalJSON writes the set as encoding/json writes the equivalent map.
// It leaves <, > and & unescaped, as encoding/json does for a map when
// told not to escape HTML; when it does escape HTML, encoding/json escapes
// them in what MarshalJSON returns.
func (s Strings) MarshalJSON() ([]byte, error) {
	return s.appendJSON(nil, false), nil
}

// AppendJSON appends the set's JSON exactly as json.Marshal writes the
// equivalent map, HTML escaped.
func (s Strings) AppendJSON(dst []byte) []byte {
	return s.appendJSON(dst, true)
}

func (s Strings) appendJSON(dst []byte, escapeHTML bool) []byte {
	if s.IsNull() {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	for k, v := range s.All() {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k, escapeHTML)
		dst = append(dst, ':')
		dst = appendString(dst, v, escapeHTML)
	}
	return append(dst, '}')
}

// UnmarshalJSON decodes a JSON object of strings without reflection and
// with one allocation, the set's. Like encoding/json into a map it keeps
// the last of duplicate names, takes a null value as the empty string and
// replaces invalid UTF-8 with U+FFFD; null gives the null set. It relies on
// the JSON being valid, which encoding/json checks before it calls
// UnmarshalJSON.
func (s *Strings) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return errBadObject
	case b[0] == 'n':
		*s = Strings{}
		return nil
	case b[0] != '{':
		return &json.UnmarshalTypeError{Value: JSONKind(b), Type: kvType}
	}
	var arr [256]byte
	buf := arr[:0]
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		*s = Strings{emptySet}
		return nil
	}
	for {
		raw, key, next, err := readString(b, i)
		if err != nil {
			return err
		}
		buf = appendField(buf, raw, key)
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return errBadObject
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return errBadObject
		}
		switch b[i] {
		case '"':
			var value string
			raw, value, next, err = readString(b, i)
			if err != nil {
				return err
			}
			buf = appendField(buf, raw, value)
			i = next
		case 'n':
			if !bytes.HasPrefix(b[i:], []byte("null")) {
				return errBadObject
			}
			buf = append(buf, 0)
			i += len("null")
		default:
			return &json.UnmarshalTypeError{Value: JSONKind(b[i:]), Type: stringType}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return errBadObject
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			*s = sorted(string(buf))
			return nil
		default:
			return errBadObject
		}
	}
}

// appendField appends a name or value, raw if not nil or else s, after its
// length.
func appendField(buf, raw []byte, s string) []byte {
	if raw != nil {
		buf = binary.AppendUvarint(buf, uint64(len(raw)))
		return append(buf, raw...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// sorted returns the set of the encoded pairs in data, which hold its
// names in the order a payload gave them: data itself when that is sorted
// without duplicates, as it nearly always is.
func sorted(data string) Strings {
	prev, first := "", true
	for rest := data; rest != ""; first = false {
		var name string
		name, _, rest = next(rest)
		if !first && name <= prev {
			var arr [16]pair
			pairs := arr[:0]
			for rest := data; rest != ""; {
				var p pair
				p.name, p.value, rest = next(rest)
				pairs = append(pairs, p)
			}
			return fromPairs(pairs)
		}
		prev = name
	}
	return Strings{data}
}

// readString reads the JSON string starting at b[i]. Without escapes or
// invalid UTF-8 it returns the raw bytes between the quotes, so that the
// caller can copy them; otherwise it returns the string as encoding/json
// decodes it, and nil raw. next is the index after the closing quote.
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

// appendString appends s as a JSON string exactly as encoding/json quotes
// it, escaping <, > and & if escapeHTML.
func appendString(dst []byte, s string, escapeHTML bool) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!escapeHTML || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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
