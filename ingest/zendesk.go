package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// ErrBadSignature is wrapped by every error of VerifyZendesk: the request
// is not authentic (answer 401) and must be stored nowhere.
var ErrBadSignature = errors.New("bad webhook signature")

// DefaultZendeskWindow is how far a Zendesk signature timestamp may be from
// the receipt time before the request is refused as a replay.
const DefaultZendeskWindow = 5 * time.Minute

// VerifyZendesk checks a Zendesk webhook request: signature is its
// X-Zendesk-Webhook-Signature header, timestamp its
// X-Zendesk-Webhook-Signature-Timestamp header (RFC 3339), secret the
// webhook's signing secret. The signature must be
// base64(HMAC-SHA256(secret, timestamp + body)), compared in constant time,
// and the timestamp within window of now either way, so that a recorded
// request cannot be replayed later. Errors wrap ErrBadSignature and never
// quote the secret or the expected signature.
func VerifyZendesk(body []byte, signature, timestamp string, secret []byte, now time.Time, window time.Duration) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no signing secret is configured", ErrBadSignature)
	}
	if signature == "" || timestamp == "" {
		return fmt.Errorf("%w: X-Zendesk-Webhook-Signature and X-Zendesk-Webhook-Signature-Timestamp are required", ErrBadSignature)
	}
	at, err := time.Parse(time.RFC3339, timestamp)
	if err != nil {
		return fmt.Errorf("%w: timestamp %s is not RFC 3339", ErrBadSignature, quote(timestamp))
	}
	if skew := now.Sub(at); skew > window || skew < -window {
		return fmt.Errorf("%w: timestamp %s is %s from receipt, outside the %s window", ErrBadSignature, timestamp, skew.Round(time.Second), window)
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrBadSignature)
	}
	if !hmac.Equal(got, zendeskMAC(body, timestamp, secret)) {
		return fmt.Errorf("%w: signature does not match the body", ErrBadSignature)
	}
	return nil
}

// SignZendesk returns the signature Zendesk would send for body at
// timestamp: for tests and for replaying recorded requests.
func SignZendesk(body []byte, timestamp string, secret []byte) string {
	return base64.StdEncoding.EncodeToString(zendeskMAC(body, timestamp, secret))
}

// zendeskMAC is HMAC-SHA256(secret, timestamp + body).
func zendeskMAC(body []byte, timestamp string, secret []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write(body)
	return mac.Sum(nil)
}
