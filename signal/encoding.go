package signal

import (
	"encoding/binary"
	"errors"
	"strings"
)

// Encoding returns the set's compact form: "" for the null set, a single
// zero byte for the empty set, otherwise each name and value behind its
// length as a uvarint, in name order. StringsOfEncoding takes it back.
func (s Strings) Encoding() string { return s.data }

var errEncoding = errors.New("malformed label set encoding")

// StringsOfEncoding returns the set whose compact form (Encoding) is data.
// It checks what the set's methods rely on: every length within data, in
// its shortest form, and names in strictly increasing order.
func StringsOfEncoding(data string) (Strings, error) {
	if data == "" || data == emptySet {
		return Strings{data}, nil
	}
	prev, first := "", true
	for rest := data; rest != ""; {
		name, r, ok := readField(rest)
		if !ok {
			return Strings{}, errEncoding
		}
		if _, r, ok = readField(r); !ok {
			return Strings{}, errEncoding
		}
		if !first && strings.Compare(name, prev) <= 0 {
			return Strings{}, errEncoding
		}
		prev, first, rest = name, false, r
	}
	return Strings{data}, nil
}

// readField reads a length-prefixed string from the start of data and
// returns it and the rest; ok is false if data does not hold one.
func readField(data string) (field, rest string, ok bool) {
	var head [binary.MaxVarintLen64]byte
	n, size := binary.Uvarint(head[:copy(head[:], data)])
	if size <= 0 || size != uvarintLen(int(n)) || n > uint64(len(data)-size) { // one encoding per set: no padded lengths
		return "", "", false
	}
	return data[size : size+int(n)], data[size+int(n):], true
}
