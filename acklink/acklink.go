// Package acklink signs and verifies the tokens in a page's acknowledge
// link: a token names one incident, one person and an expiry, and is useless
// for anything else.
//
// A token is the URL-safe base64 (no padding) of
//
//	version (1 byte) | expiry, Unix seconds (8 bytes, big endian) |
//	length of the incident key (uvarint) | incident key | person |
//	HMAC-SHA256 of everything before it (32 bytes)
//
// under a key from the configuration. Verify checks the MAC in constant time
// before it reads anything else.
package acklink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// MinKeyLen is the shortest signing key accepted, in bytes.
const MinKeyLen = 32

const (
	version   = 1
	headerLen = 1 + 8 // version and expiry
	macLen    = sha256.Size
	maxToken  = 4096 // encoded characters; a longer token is refused before decoding
)

// Errors that Verify wraps.
var (
	ErrMalformed = errors.New("malformed ack token")
	ErrSignature = errors.New("ack token signature does not match")
	ErrExpired   = errors.New("ack token expired")
)

// Claim is what a valid token grants: acknowledging Incident as Person
// until Expires.
type Claim struct {
	Incident string
	Person   string
	Expires  time.Time
}

// Signer signs and verifies ack tokens under one secret key.
type Signer struct {
	key []byte
}

// NewSigner returns a signer for key, which must hold at least MinKeyLen
// bytes; the key is copied and never printed.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("ack link key: %d bytes, need at least %d", len(key), MinKeyLen)
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// String hides the key from fmt.
func (s *Signer) String() string { return "acklink.Signer{key:<secret>}" }

// GoString hides the key from %#v.
func (s *Signer) GoString() string { return s.String() }

// Sign returns a URL-safe token for acknowledging incident as person until
// expires (to the second, rounded down).
func (s *Signer) Sign(incident, person string, expires time.Time) string {
	buf := make([]byte, 0, headerLen+binary.MaxVarintLen64+len(incident)+len(person)+macLen)
	buf = append(buf, version)
	buf = binary.BigEndian.AppendUint64(buf, uint64(expires.Unix()))
	buf = binary.AppendUvarint(buf, uint64(len(incident)))
	buf = append(buf, incident...)
	buf = append(buf, person...)
	buf = append(buf, s.sum(buf)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// Verify returns the claim a token grants at now, or an error wrapping
// ErrMalformed, ErrSignature or ErrExpired.
func (s *Signer) Verify(token string, now time.Time) (Claim, error) {
	if len(token) > maxToken {
		return Claim{}, fmt.Errorf("%w: %d characters", ErrMalformed, len(token))
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Claim{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(raw) < headerLen+1+macLen {
		return Claim{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(raw))
	}
	body, sum := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(sum, s.sum(body)) {
		return Claim{}, ErrSignature
	}
	c, err := parse(body)
	if err != nil {
		return Claim{}, err
	}
	if !now.Before(c.Expires) {
		return Claim{}, fmt.Errorf("%w at %s", ErrExpired, c.Expires.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// sum is the MAC of b under the signer's key.
func (s *Signer) sum(b []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write(b)
	return h.Sum(nil)
}

// parse reads a signed body; the MAC has vouched for it, so a failure here
// means a token from another version of this format.
func parse(body []byte) (Claim, error) {
	if body[0] != version {
		return Claim{}, fmt.Errorf("%w: version %d", ErrMalformed, body[0])
	}
	exp := int64(binary.BigEndian.Uint64(body[1:headerLen]))
	rest := body[headerLen:]
	n, used := binary.Uvarint(rest)
	if used <= 0 || n > uint64(len(rest)-used) {
		return Claim{}, fmt.Errorf("%w: incident length", ErrMalformed)
	}
	rest = rest[used:]
	return Claim{Incident: string(rest[:n]), Person: string(rest[n:]), Expires: time.Unix(exp, 0).UTC()}, nil
}
