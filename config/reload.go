package config

import (
	"reflect"
	"slices"
	"strings"
)

// liveKeys are the top-level keys a running Klaxon takes up on reload;
// every other key is read once, at start-up.
var liveKeys = []string{"log_level", "rule_files", "oncall_files", "auth"}

// derivedKeys names the key a field without a key of its own is read from.
var derivedKeys = map[string]string{"AckKey": "ack_key_file", "SessionKey": "session_key_file"}

// secretType is compared as a value, never descended into.
var secretType = reflect.TypeFor[Secret]()

// RestartNeeded lists, in file order, the keys (such as
// "server.read_timeout") whose values differ between old and new but that
// a running Klaxon reads only at start-up, so that a reload can refuse them.
func RestartNeeded(old, new *Config) []string {
	var keys []string
	diffKeys(reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem(), "", &keys)
	return slices.Compact(keys)
}

// diffKeys appends to keys the restart-only keys under prefix whose values
// differ between the structs a and b.
func diffKeys(a, b reflect.Value, prefix string, keys *[]string) {
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			name = derivedKeys[f.Name]
		}
		if name == "" || (prefix == "" && slices.Contains(liveKeys, name)) {
			continue // File, Warnings: not settings
		}
		key := prefix + name
		va, vb := a.Field(i), b.Field(i)
		switch {
		case f.Type.Kind() == reflect.Struct && f.Type != secretType:
			diffKeys(va, vb, key+".", keys)
		case !reflect.DeepEqual(va.Interface(), vb.Interface()):
			*keys = append(*keys, key)
		}
	}
}
