package signal

import (
	"testing"
)

func TestStringsOfEncodingTakesBackEncoding(t *testing.T) {
	sets := []Strings{
		{},
		StringsFrom(map[string]string{}),
		StringsFrom(map[string]string{"": ""}),
		StringsFrom(map[string]string{"alertname": "DiskFull", "instance": "db-1:9100", "z": string(make([]byte, 300))}),
	}
	for _, s := range sets {
		got, err := StringsOfEncoding(s.Encoding())
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		if got != s {
			t.Errorf("%q came back as %q", s.Encoding(), got.Encoding())
		}
	}
}

func TestStringsOfEncodingRefuses(t *testing.T) {
	for name, data := range map[string]string{
		"length past the end":  "\x05ab",
		"no value":             "\x01a",
		"value past the end":   "\x01a\x03b",
		"names out of order":   "\x01b\x00\x01a\x00",
		"a name twice":         "\x01a\x00\x01a\x01x",
		"unterminated uvarint": "\x80",
		"huge length":          "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01a",
		"padded length":        "\x81\x00a\x00",
	} {
		if _, err := StringsOfEncoding(data); err == nil {
			t.Errorf("%s: %q accepted", name, data)
		}
	}
}

// FuzzStringsOfEncoding checks that whatever StringsOfEncoding accepts
// behaves as a set: it reads without panicking and rebuilds to the same
// encoding.
func FuzzStringsOfEncoding(f *testing.F) {
	f.Add(StringsFrom(map[string]string{"a": "1", "b": "2"}).Encoding())
	f.Add("\x00")
	f.Add("\x01a\x00")
	f.Fuzz(func(t *testing.T, data string) {
		s, err := StringsOfEncoding(data)
		if err != nil {
			return
		}
		var b Builder
		for k, v := range s.All() {
			b.Add(k, v)
		}
		if s.IsNull() {
			return
		}
		if again := b.Strings(); again.Encoding() != data {
			t.Errorf("%q rebuilt as %q", data, again.Encoding())
		}
	})
}
