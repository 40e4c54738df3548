package signal

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

// stringsCases are JSON values Strings must decode exactly as encoding/json
// decodes them into a map[string]string, errors included.
var stringsCases = []string{
	`{}`, `null`, `{"a":"b"}`, " { \"a\" : \"b\" ,\n\t\"c\":\"d\" } ", `{"a":null}`, `{"a":"b","a":"c"}`,
	`{"esc\"aped":"v\\al\u00fc\ud83d\udea8"}`, `{"lone":"\udc00"}`, `{"a":1}`, `{"a":{}}`, `[]`, `"x"`, `true`,
	`{"alertname":"HighErrorRate","severity":"critical"}`, `{"z":"1","a":"2","m":"3","a":"4"}`, `{"":""}`,
	`{"html":"<a href=\"x\">&amp;</a>","ls":"\u2028\u2029","ctl":"\u0000\b\f\n\r\t\u001f\u007f"}`,
	"{\"bad\xffkey\":\"v\"}", "{\"k\":\"bad\xc3value\"}", "{\"k\":\"\xed\xa0\x80surrogate\"}",
	`{"long":"` + string(bytes.Repeat([]byte("x"), 300)) + `"}`,
}

func TestStringsDecodesAsEncodingJSON(t *testing.T) {
	for _, in := range stringsCases {
		t.Run(in, func(t *testing.T) { compareWithEncodingJSON(t, []byte(in)) })
	}
}

func TestStringsWrongTypeError(t *testing.T) {
	in := []byte(`{"labels":{"a":7}}`)
	var plain struct {
		Labels map[string]string `json:"labels"`
	}
	want := json.Unmarshal(in, &plain)
	var s struct {
		Labels Strings `json:"labels"`
	}
	got := json.Unmarshal(in, &s)
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Fatalf("error %v, want encoding/json's %v", got, want)
	}
}

func TestStringsReaders(t *testing.T) {
	m := map[string]string{"service": "api", "alertname": "Down", "": "empty name", "zone": ""}
	s := StringsFrom(m)
	if s.Len() != len(m) || s.IsZero() || s.IsNull() {
		t.Fatalf("Len %d, IsZero %v, IsNull %v of %v", s.Len(), s.IsZero(), s.IsNull(), m)
	}
	for k, v := range m {
		if got, ok := s.Lookup(k); !ok || got != v || s.Get(k) != v {
			t.Errorf("Lookup(%q) = %q, %v; want %q", k, got, ok, v)
		}
	}
	if got, ok := s.Lookup("team"); ok || got != "" {
		t.Errorf("Lookup(team) = %q, %v", got, ok)
	}
	var names []string
	for k := range s.All() {
		names = append(names, k)
	}
	if want := []string{"", "alertname", "service", "zone"}; !slices.Equal(names, want) {
		t.Errorf("All gave names %q, want %q", names, want)
	}
	if !maps.Equal(s.Map(), m) || !s.Equal(StringsFrom(maps.Clone(m))) || s.Equal(StringsFrom(nil)) {
		t.Errorf("Map %v or Equal disagree with %v", s.Map(), m)
	}
}

func TestStringsNullAndEmpty(t *testing.T) {
	for _, tc := range []struct {
		name       string
		s          Strings
		json       string
		null, zero bool
	}{
		{"zero value", Strings{}, "null", true, true},
		{"nil map", StringsFrom(nil), "null", true, true},
		{"empty map", StringsFrom(map[string]string{}), "{}", false, true},
		{"empty builder", new(Builder).Strings(), "{}", false, true},
		{"one pair", StringsFrom(map[string]string{"a": ""}), `{"a":""}`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.s)
			if err != nil || string(b) != tc.json || tc.s.IsNull() != tc.null || tc.s.IsZero() != tc.zero {
				t.Errorf("JSON %s, %v, IsNull %v, IsZero %v; want %s, IsNull %v, IsZero %v",
					b, err, tc.s.IsNull(), tc.s.IsZero(), tc.json, tc.null, tc.zero)
			}
			if (tc.s.Map() == nil) != tc.null {
				t.Errorf("Map() = %#v", tc.s.Map())
			}
		})
	}
}

func TestBuilderLastDuplicateWins(t *testing.T) {
	var b Builder
	for _, p := range [][2]string{{"b", "1"}, {"a", "2"}, {"b", "3"}, {"c", "4"}, {"a", "5"}} {
		b.Add(p[0], p[1])
	}
	got := b.Strings()
	if want := (map[string]string{"a": "5", "b": "3", "c": "4"}); !maps.Equal(got.Map(), want) {
		t.Errorf("built %v, want %v", got, want)
	}
	if again := b.Strings(); again.Len() != 0 {
		t.Errorf("builder not emptied: %v", again)
	}
}

func FuzzStrings(f *testing.F) {
	for _, in := range stringsCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if json.Valid(b) {
			compareWithEncodingJSON(t, b)
		}
	})
}

// compareWithEncodingJSON fails t unless b decodes into Strings as it does
// into a map[string]string, and the set encodes as the map does, with and
// without HTML escaping.
func compareWithEncodingJSON(t *testing.T, b []byte) {
	t.Helper()
	var want map[string]string
	wantErr := json.Unmarshal(b, &want)
	var got Strings
	gotErr := json.Unmarshal(b, &got)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("encoding/json error %v, Strings error %v", wantErr, gotErr)
	}
	if wantErr != nil {
		return
	}
	if !maps.Equal(want, got.Map()) || (want == nil) != got.IsNull() {
		t.Fatalf("encoding/json decoded %q, Strings %v", want, got)
	}
	if from := StringsFrom(want); from != got {
		t.Fatalf("StringsFrom(%q) = %q, decoding gave %q", want, from.data, got.data)
	}
	for _, html := range []bool{true, false} {
		if w, g := encode(t, want, html), encode(t, got, html); !bytes.Equal(w, g) {
			t.Fatalf("escapeHTML %v: encoding/json encodes the map as %s, the set as %s", html, w, g)
		}
	}
	if w, g := encode(t, want, true), got.AppendJSON(nil); !bytes.Equal(w, g) {
		t.Fatalf("AppendJSON gave %s, json.Marshal of the map %s", g, w)
	}
	var back Strings
	if err := json.Unmarshal(got.AppendJSON(nil), &back); err != nil || back != got {
		t.Fatalf("%s decodes back as %q, %v; want %q", got.AppendJSON(nil), back.data, err, got.data)
	}
}

// encode encodes v with encoding/json, escaping HTML or not.
func encode(t *testing.T, v any, escapeHTML bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
