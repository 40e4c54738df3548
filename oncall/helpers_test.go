package oncall

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones below exist even on a host without zone files
)

// load parses one on-call file named f.yml with the host's zone loader.
func load(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := Loader{Zone: time.LoadLocation}.Load([]File{{Name: "f.yml", Data: []byte(src)}})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg
}

// at parses an RFC 3339 instant.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// people is a people section for participants a, b, c, d with a webhook each.
const people = `
people:
  a: {name: A, time_zone: UTC, contact_methods: [{name: a-hook, webhook_configs: [{url: "http://127.0.0.1:9099/a"}]}]}
  b: {name: B, time_zone: UTC, contact_methods: [{name: b-hook, webhook_configs: [{url: "http://127.0.0.1:9099/b"}]}]}
  c: {name: C, time_zone: UTC, contact_methods: [{name: c-hook, webhook_configs: [{url: "http://127.0.0.1:9099/c"}]}]}
  d: {name: D, time_zone: UTC, contact_methods: [{name: d-hook, webhook_configs: [{url: "http://127.0.0.1:9099/d"}]}]}
`

// oneRotation is an on-call file with one schedule "s" of one layer.
func oneRotation(zone, length, handOff string) string {
	return people + `
schedules:
  s:
    time_zone: ` + zone + `
    layers:
      - name: main
        precedence: 1
        rotation: {length: ` + length + `, hand_off: "` + handOff + `", participants: [a, b, c, d]}
`
}
