package signal

import (
	"encoding/json"
	"maps"
	"testing"
)

// stringsCases are JSON values Strings must decode exactly as encoding/json
// decodes them into a map[string]string, errors included.
var stringsCases = []string{
	`{}`, `null`, `{"a":"b"}`, " { \"a\" : \"b\" ,\n\t\"c\":\"d\" } ", `{"a":null}`, `{"a":"b","a":"c"}`,
	`{"esc\"aped":"v\\al\u00fc\ud83d\udea8"}`, `{"lone":"\udc00"}`, `{"a":1}`, `{"a":{}}`, `[]`, `"x"`, `true`,
	`{"alertname":"HighErrorRate","severity":"critical"}`,
	"{\"bad\xffkey\":\"v\"}", "{\"k\":\"bad\xc3value\"}", "{\"k\":\"\xed\xa0\x80surrogate\"}",
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
// into a map[string]string.
func compareWithEncodingJSON(t *testing.T, b []byte) {
	t.Helper()
	var want map[string]string
	wantErr := json.Unmarshal(b, &want)
	var got Strings
	gotErr := json.Unmarshal(b, &got)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("encoding/json error %v, Strings error %v", wantErr, gotErr)
	}
	if wantErr == nil && (!maps.Equal(want, map[string]string(got)) || (want == nil) != (got == nil)) {
		t.Fatalf("encoding/json decoded %q, Strings %q", want, got)
	}
}
