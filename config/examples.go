package config

import (
	"crypto/sha256"
	"encoding/hex"
)

// exampleSecrets are the SHA-256 hashes of the example tokens and key
// shipped in configs/secrets (their values as a token_file or ack_key_file
// reads them), so that Klaxon can tell they are in use without carrying
// the values themselves.
var exampleSecrets = map[string]string{
	"2ceb1727a7e1eee0a9652a733c3f19997d47b65b2ce7bdaec8dbc8ad2b1202cb": "admin.token",
	"dd59f1e4b65f6c40be724f833683ee1b8b1ae9d92f40f80ee1a757c341cf57dd": "alertmanager.token",
	"a0622da9a6b5cf75fcd51844a919509b7507c4efa18bc5a9bd1566709e107465": "prometheus.token",
	"03c5db02c1db898dd85d80541e400bb30d205c4dd6df0597490a727251ec8edf": "ack.key",
	"5c5fd87f541ec0e97983308669a3e82dcf295f20b87ba0d9d75e38a337f17d0a": "tickets.token",
	"96f9634fe9e11d840124320178782c2146897d2ba57be8d0b31cd71ad94329c3": "mentions.token",
	"e96ee28f626eacf38013773c3a5740ddf51a0b72d1949f8da2ec2003bf192ed2": "heartbeats.token",
	"d378dbd7abf8698ffbe2a348884b9a0e742f77f58e1a31b2b7faa7745200398a": "pagerduty.key",
	"358a88459afd2e5785506b61251973e96fa43bd87d91a5e49bc570a73091026c": "zendesk.secret",
}

// isExample reports whether s is one of the examples in configs/secrets.
func isExample(s Secret) bool {
	sum := sha256.Sum256([]byte(s.Reveal()))
	_, ok := exampleSecrets[hex.EncodeToString(sum[:])]
	return ok
}

// warnExample warns when the secret at p, a token or key, is one of the
// examples shipped in configs/secrets, which anyone can read.
func (d *decoder) warnExample(p pos, what string, s Secret) {
	if isExample(s) {
		d.warnf(p, "this is the example %s shipped in configs/secrets; replace it before exposing Klaxon", what)
	}
}
