package statuspage

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/triage"
)

// TestPageShowsPublishedExternalUpdatesOnly: INC-4 (Reports, SEV3) needs
// approval; what the page shows of it follows the decisions taken.
func TestPageShowsPublishedExternalUpdatesOnly(t *testing.T) {
	tests := []struct {
		name   string
		decide func(f *fixture)
		want   []string // in the Reports incident's updates, newest first
		absent []string
	}{
		{"held", func(*fixture) {}, nil, []string{"issues with Reports"}},
		{"approved", func(f *fixture) { f.decide(triage.UpdateApprove, "INC-4", 2) },
			[]string{"We are currently investigating issues with Reports."}, nil},
		{"withdrawn", func(f *fixture) { f.decide(triage.UpdateWithdraw, "INC-4", 2) }, nil, []string{"issues with Reports"}},
		{"human external text", func(f *fixture) {
			f.post("INC-4", triage.AudienceExternal, triage.StateIdentified, "Reports are late; a fix is on its way.")
		}, []string{"Reports are late; a fix is on its way."}, []string{"We are currently investigating issues with Reports"}},
		{"internal text never", func(f *fixture) {
			f.decide(triage.UpdateApprove, "INC-4", 2)
			f.post("INC-4", triage.AudienceInternal, triage.StateIdentified, "CANARY: the reports database is full")
		}, []string{"We are currently investigating issues with Reports."}, []string{"CANARY"}},
		{"edited held text shows once approved", func(f *fixture) {
			f.apply(&triage.Entry{Update: &triage.UpdateChange{Op: triage.UpdateEdit, Incident: "INC-4", Update: 2,
				Text: "Some reports are delayed.", By: "comms"}})
			f.decide(triage.UpdateApprove, "INC-4", 2)
		}, []string{"Some reports are delayed."}, []string{"We are currently investigating issues with Reports"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := standard(t)
			tt.decide(f)
			f.later(time.Minute)
			body := string(f.site("en", false).Files["api/v2/incidents.json"].Body)
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("incidents.json lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(body, a) {
					t.Errorf("incidents.json shows %q", a)
				}
			}
		})
	}
}
