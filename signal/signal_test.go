package signal

import (
	"encoding/json"
	"testing"
	"time"
)

// TestReportJSON checks that a Report's fields are the signal's own in
// JSON, and that a signal reporting nothing more than an alert holds no
// Report once decoded.
func TestReportJSON(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		report *Report
		want   string
	}{
		{"alert", nil, `{"source":"","kind":"alert","fingerprint":"f","status":"firing","labels":{},"startsAt":"2026-03-14T09:00:00Z"}`},
		{"mention", &Report{Text: "down?", Customer: "acme", Reach: 40, RepostOf: "g"},
			`{"source":"","kind":"alert","fingerprint":"f","status":"firing","labels":{},"text":"down?","customer":"acme","reach":40,"repostOf":"g","startsAt":"2026-03-14T09:00:00Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := Signal{Kind: KindAlert, Fingerprint: "f", Status: StatusFiring, Labels: StringsFrom(map[string]string{}), Report: tc.report, StartsAt: t0}
			data, err := json.Marshal(&sig)
			if err != nil || string(data) != tc.want {
				t.Fatalf("JSON %s (%v), want %s", data, err, tc.want)
			}
			var back Signal
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if (back.Report == nil) != (tc.report == nil) || back.Reported() != sig.Reported() {
				t.Errorf("decoded report %+v, want %+v", back.Report, tc.report)
			}
		})
	}
}

// TestReportReads checks that an alert answers the Report's reads with zero
// values, and that SetReport and ClearText leave no empty Report and never
// change one another copy of the signal shares.
func TestReportReads(t *testing.T) {
	var alert Signal
	if alert.Text() != "" || alert.Customer() != "" || alert.Reach() != 0 || alert.RepostOf() != "" {
		t.Errorf("an alert reads %+v", alert.Reported())
	}
	alert.SetReport(Report{})
	if alert.Report != nil {
		t.Error("SetReport of the zero Report left one")
	}

	var ticket Signal
	ticket.SetReport(Report{Text: "cannot pay", Customer: "acme"})
	shared := ticket
	ticket.ClearText()
	if ticket.Text() != "" || ticket.Customer() != "acme" {
		t.Errorf("cleared: %+v", ticket.Reported())
	}
	if shared.Text() != "cannot pay" {
		t.Errorf("ClearText changed a copy: %+v", shared.Reported())
	}
	onlyText := Signal{Report: &Report{Text: "x"}}
	onlyText.ClearText()
	if onlyText.Report != nil {
		t.Error("ClearText left an empty Report")
	}
}
