package oncall

import (
	"strings"
	"testing"
)

// policies has a weekday-office schedule "office" (a, b), a person e with
// two notification rules, a team, and policies over them.
const policies = `
people:
  a: {name: A, time_zone: UTC, contact_methods: [{name: a-hook, webhook_configs: [{url: "http://127.0.0.1:9099/a"}]}]}
  b: {name: B, time_zone: UTC, contact_methods: [{name: b-hook, webhook_configs: [{url: "http://127.0.0.1:9099/b"}]}]}
  e:
    name: E
    time_zone: Europe/Berlin
    contact_methods:
      - name: e-hook
        webhook_configs: [{url: "http://127.0.0.1:9099/e"}]
      - name: e-mail
        email_configs: [{to: e@example.com, from: klaxon@example.com, smarthost: "127.0.0.1:25"}]
    notification_rules:
      - {after: 5m, contact_methods: [e-mail]}
      - {after: 0m, contact_methods: [e-hook]}
teams:
  leads: {members: [e, a]}
schedules:
  office:
    time_zone: UTC
    layers:
      - name: office
        precedence: 1
        rotation: {length: daily, hand_off: "2026-11-30T00:00", participants: [a, b]}
        restrictions: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}]
escalation_policies:
  p:
    repeat: 1
    steps:
      - {escalate_after: 10m, schedules: [office]}
      - {escalate_after: 15m, teams: [leads]}
    fallback: {name: noc, webhook_configs: [{url: "http://127.0.0.1:9099/noc"}]}
  lonely:
    steps:
      - {escalate_after: 10m, schedules: [office]}
    fallback: {name: noc, webhook_configs: [{url: "http://127.0.0.1:9099/noc"}]}
`

func TestPlan(t *testing.T) {
	tests := []struct {
		name, policy, start, stop string
		want                      []string
	}{
		{"office hours, never acknowledged", "p", "2026-12-01T10:00:00Z", "", []string{
			"2026-12-01T10:00:00Z round 1 step 1: b via schedule office through [b-hook]",
			"2026-12-01T10:10:00Z round 1 step 2: e via team leads through [e-hook]",
			"2026-12-01T10:10:00Z round 1 step 2: a via team leads through [a-hook]",
			"2026-12-01T10:15:00Z round 1 step 2: e via team leads through [e-mail]",
			"2026-12-01T10:25:00Z round 2 step 1: b via schedule office through [b-hook]",
			"2026-12-01T10:35:00Z round 2 step 2: e via team leads through [e-hook]",
			"2026-12-01T10:35:00Z round 2 step 2: a via team leads through [a-hook]",
			"2026-12-01T10:40:00Z round 2 step 2: e via team leads through [e-mail]",
			"2026-12-01T10:50:00Z fallback receiver noc",
		}},
		{"acknowledged before the e-mail", "p", "2026-12-01T10:00:00Z", "2026-12-01T10:14:00Z", []string{
			"2026-12-01T10:00:00Z round 1 step 1: b via schedule office through [b-hook]",
			"2026-12-01T10:10:00Z round 1 step 2: e via team leads through [e-hook]",
			"2026-12-01T10:10:00Z round 1 step 2: a via team leads through [a-hook]",
		}},
		{"acknowledged at the instant a step is due stops it", "p", "2026-12-01T10:00:00Z", "2026-12-01T10:10:00Z", []string{
			"2026-12-01T10:00:00Z round 1 step 1: b via schedule office through [b-hook]",
		}},
		{"nobody on call moves on at once", "p", "2026-12-05T10:00:00Z", "", []string{
			"2026-12-05T10:00:00Z round 1 step 1: nobody on call, moved on",
			"2026-12-05T10:00:00Z round 1 step 2: e via team leads through [e-hook]",
			"2026-12-05T10:00:00Z round 1 step 2: a via team leads through [a-hook]",
			"2026-12-05T10:05:00Z round 1 step 2: e via team leads through [e-mail]",
			"2026-12-05T10:15:00Z round 2 step 1: nobody on call, moved on",
			"2026-12-05T10:15:00Z round 2 step 2: e via team leads through [e-hook]",
			"2026-12-05T10:15:00Z round 2 step 2: a via team leads through [a-hook]",
			"2026-12-05T10:20:00Z round 2 step 2: e via team leads through [e-mail]",
			"2026-12-05T10:30:00Z fallback receiver noc",
		}},
		{"nobody at all still pages the fallback", "lonely", "2026-12-05T10:00:00Z", "", []string{
			"2026-12-05T10:00:00Z round 1 step 1: nobody on call, moved on",
			"2026-12-05T10:00:00Z fallback receiver noc",
		}},
		{"on call when the step comes due, not when escalation began", "lonely", "2026-12-01T16:55:00Z", "", []string{
			"2026-12-01T16:55:00Z round 1 step 1: b via schedule office through [b-hook]",
			"2026-12-01T17:05:00Z fallback receiver noc",
		}},
	}
	cfg := load(t, policies)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stop = at(t, "0001-01-01T00:00:00Z")
			if tt.stop != "" {
				stop = at(t, tt.stop)
			}
			plan, err := cfg.Plan(tt.policy, at(t, tt.start), stop, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range plan {
				got = append(got, n.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("plan\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestPlanIDsAreUnique(t *testing.T) {
	cfg := load(t, policies)
	plan, err := cfg.Plan("p", at(t, "2026-12-05T10:00:00Z"), at(t, "0001-01-01T00:00:00Z"), nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range plan {
		if seen[n.ID()] {
			t.Errorf("id %s twice", n.ID())
		}
		seen[n.ID()] = true
	}
	if _, err := cfg.Plan("missing", at(t, "2026-12-05T10:00:00Z"), at(t, "0001-01-01T00:00:00Z"), nil); err == nil {
		t.Error("an unknown policy gave no error")
	}
}
