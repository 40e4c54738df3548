package oncall

import (
	"maps"
	"slices"
	"testing"
	"time"
)

func TestRoles(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want map[string]Role
	}{{
		name: "the three defaults without a roles section",
		src:  people,
		want: map[string]Role{
			"incident_manager":       *DefaultRoles()["incident_manager"],
			"technical_lead":         *DefaultRoles()["technical_lead"],
			"communications_manager": *DefaultRoles()["communications_manager"],
		},
	}, {
		name: "a roles section replaces them",
		src: oneRotation("UTC", "weekly", "2026-11-02T09:00") + `
roles:
  im: {name: Incident manager, instructions: Hold command., schedule: s, from_severity: SEV2, remind_after: 15m}
  scribe: {name: Scribe}
`,
		want: map[string]Role{
			"im":     {ID: "im", Name: "Incident manager", Instructions: "Hold command.", Schedule: "s", FromSeverity: "SEV2", RemindAfter: 15 * time.Minute},
			"scribe": {ID: "scribe", Name: "Scribe"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := load(t, tt.src)
			if got := slices.Sorted(maps.Keys(cfg.Roles)); !slices.Equal(got, slices.Sorted(maps.Keys(tt.want))) {
				t.Fatalf("roles %v, want %v", got, slices.Sorted(maps.Keys(tt.want)))
			}
			for id, want := range tt.want {
				if *cfg.Roles[id] != want {
					t.Errorf("%s: %+v, want %+v", id, *cfg.Roles[id], want)
				}
			}
		})
	}
}
