package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestSecretsNeverPrinted prints and encodes a loaded configuration every
// way a caller might and looks for the tokens in the output.
func TestSecretsNeverPrinted(t *testing.T) {
	cfg, err := Load("testdata/valid/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	tokens := allSecrets(cfg)
	if len(tokens) == 0 {
		t.Fatal("no secrets in the test configuration")
	}
	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outputs[verb+" config"] = fmt.Sprintf(verb, cfg)
		outputs[verb+" *config"] = fmt.Sprintf(verb, *cfg)
		outputs[verb+" token"] = fmt.Sprintf(verb, cfg.Auth.Admin[0])
		outputs[verb+" secret"] = fmt.Sprintf(verb, cfg.Auth.Admin[0].Token)
		outputs[verb+" *secret"] = fmt.Sprintf(verb, &cfg.Auth.Admin[0].Token)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(j)
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs["yaml"] = string(y)
	for name, out := range outputs {
		for _, tok := range tokens {
			if strings.Contains(out, tok) || strings.Contains(out, fmt.Sprintf("%x", tok)) {
				t.Errorf("%s reveals a token: %s", name, out)
			}
		}
	}
	if !strings.Contains(outputs["%+v secret"], "<secret>") || !strings.Contains(outputs["json"], `"Token":"\u003csecret\u003e"`) {
		t.Errorf("secrets do not print as <secret>: %s / %s", outputs["%+v secret"], outputs["json"])
	}
}

// TestSecretsNotInErrors checks that a rejected token is not echoed.
func TestSecretsNotInErrors(t *testing.T) {
	for _, tok := range []string{"tooshort-s3cret", "testdata s3cret token"} {
		data := fmt.Sprintf("auth:\n  admin:\n    - name: sre\n      token: %q\n", tok)
		_, err := Parse([]byte(data), "klaxon.yml")
		if err == nil {
			t.Fatalf("token %q accepted", tok)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error reveals the token: %v", err)
		}
	}
}

func TestSecretReveal(t *testing.T) {
	s := NewSecret("abc")
	if s.Reveal() != "abc" || s.IsZero() || !(Secret{}).IsZero() {
		t.Errorf("Reveal/IsZero wrong for %q", s.Reveal())
	}
}
