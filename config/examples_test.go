package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestExampleSecretsAreTheShippedOnes keeps exampleSecrets in step with the
// files in configs/secrets: every token or key there is known by its hash,
// and every hash is of a file there.
func TestExampleSecretsAreTheShippedOnes(t *testing.T) {
	paths, err := filepath.Glob("../configs/secrets/*")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range paths {
		if filepath.Base(p) == "README" {
			continue
		}
		s, err := readTokenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(s))
		got[hex.EncodeToString(sum[:])] = filepath.Base(p)
	}
	if !reflect.DeepEqual(got, exampleSecrets) {
		t.Errorf("configs/secrets hashes to\n%v\nbut exampleSecrets is\n%v", got, exampleSecrets)
	}
}

// TestShippedConfigWarnsOfExamples loads the example configuration, whose
// every secret is an example.
func TestShippedConfigWarnsOfExamples(t *testing.T) {
	path := "../configs/klaxon.yml"
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	const msg = ": this is the example token shipped in configs/secrets; replace it before exposing Klaxon"
	want := []string{
		path + ":25: notify.ack_key_file: this is the example key shipped in configs/secrets; replace it before exposing Klaxon",
		path + ":52: auth.admin[0].token_file" + msg,
		path + ":61: auth.ingest.alertmanager.tokens[0].token_file" + msg,
		path + ":65: auth.ingest.prometheus.tokens[0].token_file" + msg,
		path + ":70: auth.ingest.tickets.tokens[0].token_file" + msg,
		path + ":75: auth.ingest.mentions.tokens[0].token_file" + msg,
		path + ":80: auth.ingest.heartbeats.tokens[0].token_file" + msg,
		path + ":86: auth.ingest.pagerduty.tokens[0].token_file" + msg,
		path + ":90: auth.ingest.zendesk.signing_secret_file: this is the example signing secret shipped in configs/secrets; replace it before exposing Klaxon",
	}
	if !reflect.DeepEqual(cfg.Warnings, want) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(cfg.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

func TestExampleTokenWarnings(t *testing.T) {
	exampleAdmin, err := os.ReadFile("../configs/secrets/admin.token")
	if err != nil {
		t.Fatal(err)
	}
	example := strings.TrimSpace(string(exampleAdmin))
	secrets, err := filepath.Abs("../configs/secrets")
	if err != nil {
		t.Fatal(err)
	}
	const msg = ": this is the example token shipped in configs/secrets; replace it before exposing Klaxon"
	cases := []struct {
		name, admin, prometheus string
		want                    []string
	}{
		{"no examples", "token: testdata-admin-token-0001", "open: true", nil},
		{"inline example", "token: " + example, "open: true",
			[]string{"c.yml:4: auth.admin[0].token" + msg}},
		{"an example used for another principal", "token: testdata-admin-token-0001",
			"tokens: [{name: p, token_file: " + secrets + "/admin.token}]",
			[]string{"c.yml:9: auth.ingest.prometheus.tokens[0].token_file" + msg}},
		{"an example with a character changed", "token: " + example[:len(example)-1] + "X", "open: true", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := "auth:\n  admin:\n    - name: sre\n      " + c.admin + "\n  ingest:\n    alertmanager:\n      open: true\n    prometheus:\n      " + c.prometheus + "\n"
			cfg, err := Parse([]byte(doc), "c.yml")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Warnings, c.want) {
				t.Errorf("warnings %q, want %q", cfg.Warnings, c.want)
			}
		})
	}
}
