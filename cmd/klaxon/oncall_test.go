package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/rules"
)

func TestOncallCommands(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.yml")
	if err := os.WriteFile(broken, []byte("teams:\n  t: {members: [nobody]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		code     int
		out, err string // substrings of stdout and stderr
	}{
		{[]string{"oncall", "--config-dir", "../../configs/oncall", "--schedule", "checkout-primary", "--at", "2026-12-01T10:00:00Z"}, 0,
			`checkout-primary at 2026-12-01T10:00:00Z: ben (Ben Okafor), on call 2026-11-30T09:00:00Z to 2026-12-07T09:00:00Z (1w): layer "weekly", rotation turn 4`, ""},
		{[]string{"oncall", "--config-dir", "../../configs/oncall", "--schedule", "storefront-primary", "--at", "2026-12-01T10:00:00Z"}, 0,
			`hugo (Hugo Weber), on call 2026-12-01T08:00:00Z to 2026-12-01T16:00:00Z (8h): layer "office"`, ""},
		{[]string{"oncall", "--config-dir", "../../configs/oncall", "--schedule", "internal-tools-office", "--at", "2026-12-05T10:00:00Z"}, 0,
			"internal-tools-office at 2026-12-05T10:00:00Z: nobody on call until 2026-12-07T08:00:00Z", ""},
		{[]string{"oncall", "--config-dir", "../../configs/oncall", "--schedule", "identity-primary", "--at", "now"}, 0, "identity-primary at ", ""},
		{[]string{"oncall", "--config-dir", "../../configs/oncall", "--policy", "internal-tools-oncall", "--at", "2026-12-05T10:00:00Z"}, 0,
			"2026-12-05T10:00:00Z round 1 step 1: nobody on call, moved on\n" +
				"  2026-12-05T10:00:00Z round 1 step 2: jonas via team team-internal-tools through [jonas-push]\n" +
				"  2026-12-05T10:00:00Z round 1 step 2: ben via team team-internal-tools through [ben-push]\n" +
				"  2026-12-05T11:00:00Z fallback receiver noc\n", ""},
		{[]string{"oncall", "--config-dir", "../../configs/oncall", "--schedule", "nope"}, 1, "", `unknown schedule "nope"`},
		{[]string{"oncall", "--config-dir", "../../configs/oncall", "--schedule", "x", "--at", "tomorrow"}, 2, "", "--at"},
		{[]string{"oncall", "--config-dir", "../../configs/oncall"}, 2, "", "usage: klaxon oncall"},
		{[]string{"oncall", "--config-dir", t.TempDir(), "--schedule", "x"}, 1, "", "no on-call files matched"},
		{[]string{"check", "oncall", "--from", "2026-12-01T00:00:00Z", "../../configs/oncall/*.yml"}, 0,
			"SUCCESS: 3 files, 10 people, 7 teams, 6 schedules, 6 escalation policies\n" +
				"GAP: ../../configs/oncall/schedules.yml:62: schedule internal-tools-office has nobody on call from 2026-12-01T00:00:00Z to 2026-12-01T08:00:00Z (8h)\n", ""},
		{[]string{"check", "oncall", "--from", "2026-12-01T00:00:00Z", "--weeks", "1", "../../configs/oncall/*.yml"}, 0,
			"from 2026-12-04T17:00:00Z to 2026-12-07T08:00:00Z (2d15h)\n" +
				"GAP: ../../configs/oncall/schedules.yml:62: schedule internal-tools-office has nobody on call from 2026-12-07T17:00:00Z to 2026-12-08T00:00:00Z (7h)\n", ""},
		{[]string{"check", "oncall", broken}, 1, "", `broken.yml:2: unknown person "nobody" (defined: none)`},
		{[]string{"check", "oncall", "../../oncall/testdata/bad/secrets.yml"}, 1, "", `secrets.yml:6: person "frank": contact method: invalid URL`},
		{[]string{"check", "oncall"}, 2, "", "usage: klaxon check oncall"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := dispatch(tt.args, &out, &errOut)
		if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.err) {
			t.Errorf("klaxon %s = %d\nstdout: %s\nstderr: %s\nwant %d, stdout ~ %q, stderr ~ %q",
				strings.Join(tt.args, " "), code, out.String(), errOut.String(), tt.code, tt.out, tt.err)
		}
		if strings.Contains(out.String()+errOut.String(), "hunter2") {
			t.Errorf("klaxon %s printed a secret", strings.Join(tt.args, " "))
		}
	}
}

// TestExampleOncallCoversEveryService: each escalation policy and team that
// the example service catalogue names is defined in configs/oncall.
func TestExampleOncallCoversEveryService(t *testing.T) {
	cfg, _, err := loadOncall([]string{"../../configs/oncall/*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	files, err := rules.Load("", []string{"../../configs/rules/*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Compile(files)
	if err != nil {
		t.Fatal(err)
	}
	names := 0
	for _, svc := range rs.Services() {
		if _, ok := cfg.Policies[svc.EscalationPolicy]; !ok {
			t.Errorf("service %s: escalation policy %q is not defined", svc.Name, svc.EscalationPolicy)
		}
		if _, ok := cfg.Teams[svc.Team]; !ok {
			t.Errorf("service %s: team %q is not defined", svc.Name, svc.Team)
		}
		names++
	}
	if names == 0 {
		t.Error("the catalogue names no escalation policy")
	}
}

func TestPagePrinter(t *testing.T) {
	var out strings.Builder
	h := pagePrinter(&out)
	body := `{"version":"4","groupKey":"INC-1/page/0/0/ben/0/ben-push","alerts":[{"status":"firing",
		"labels":{"incident":"INC-1","person":"ben","severity":"SEV1"},
		"annotations":{"summary":"Checkout returns 500s","ack_url":"http://127.0.0.1:9095/ack/x"}}]}`
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/page", strings.NewReader(body)))
	if rec.Code != 200 || !strings.Contains(out.String(), "page INC-1 to ben (/page): Checkout returns 500s [SEV1]\n  ack: http://127.0.0.1:9095/ack/x") {
		t.Fatalf("%d %q", rec.Code, out.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/page", strings.NewReader("{")))
	if rec.Code != 400 {
		t.Errorf("bad body: %d", rec.Code)
	}
}
