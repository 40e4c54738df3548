package acklink

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	key   = []byte("0123456789abcdef0123456789abcdef")
	other = []byte("fedcba9876543210fedcba9876543210")
	t0    = time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
)

func mustSigner(t testing.TB, k []byte) *Signer {
	t.Helper()
	s, err := NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSignerRefusesShortKey(t *testing.T) {
	if _, err := NewSigner(key[:MinKeyLen-1]); err == nil {
		t.Fatal("a 31-byte key was accepted")
	}
}

func TestVerify(t *testing.T) {
	s := mustSigner(t, key)
	good := s.Sign("INC-42", "alice", t0.Add(time.Hour))
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tests := []struct {
		name  string
		token string
		now   time.Time
		want  Claim
		err   error
	}{
		{"valid", good, t0, Claim{"INC-42", "alice", t0.Add(time.Hour)}, nil},
		{"valid one second before expiry", good, t0.Add(time.Hour - time.Second), Claim{"INC-42", "alice", t0.Add(time.Hour)}, nil},
		{"empty person", s.Sign("INC-1", "", t0.Add(time.Minute)), t0, Claim{"INC-1", "", t0.Add(time.Minute)}, nil},
		{"at expiry", good, t0.Add(time.Hour), Claim{}, ErrExpired},
		{"after expiry", good, t0.Add(48 * time.Hour), Claim{}, ErrExpired},
		{"other key", mustSigner(t, other).Sign("INC-42", "alice", t0.Add(time.Hour)), t0, Claim{}, ErrSignature},
		{"expiry tampered", flip(8), t0, Claim{}, ErrSignature},
		{"incident tampered", flip(10), t0, Claim{}, ErrSignature},
		{"person tampered", flip(len(raw) - macLen - 1), t0, Claim{}, ErrSignature},
		{"mac tampered", flip(len(raw) - 1), t0, Claim{}, ErrSignature},
		{"truncated", good[:len(good)-4], t0, Claim{}, ErrSignature},
		{"too short", "AAAA", t0, Claim{}, ErrMalformed},
		{"not base64", "!!not-a-token!!", t0, Claim{}, ErrMalformed},
		{"padded base64", base64.URLEncoding.EncodeToString(raw), t0, Claim{}, ErrMalformed},
		{"empty", "", t0, Claim{}, ErrMalformed},
		{"huge", strings.Repeat("A", maxToken+1), t0, Claim{}, ErrMalformed},
		{"wrong version", resign(s, raw, 0, 2), t0, Claim{}, ErrMalformed},
		{"bad incident length", resign(s, raw, headerLen, 0x7f), t0, Claim{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Verify(tt.token, tt.now)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			if !got.Expires.Equal(tt.want.Expires) || got.Incident != tt.want.Incident || got.Person != tt.want.Person {
				t.Fatalf("claim = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// resign sets body byte i to v and signs the result properly, for bodies
// that only a key holder could make.
func resign(s *Signer, raw []byte, i int, v byte) string {
	body := append([]byte(nil), raw[:len(raw)-macLen]...)
	body[i] = v
	return base64.RawURLEncoding.EncodeToString(append(body, s.sum(body)...))
}

func TestTokenBindsIncidentAndPerson(t *testing.T) {
	s := mustSigner(t, key)
	// Keys and names whose concatenation is the same string must not collide.
	a := s.Sign("INC-4", "2alice", t0.Add(time.Hour))
	b := s.Sign("INC-42", "alice", t0.Add(time.Hour))
	if a == b {
		t.Fatal("two different claims gave one token")
	}
	c, err := s.Verify(a, t0)
	if err != nil || c.Incident != "INC-4" || c.Person != "2alice" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
}

func TestTokenIsURLSafe(t *testing.T) {
	s := mustSigner(t, key)
	tok := s.Sign("INC-42/../?#&", "bob smith+ü", t0)
	if strings.ContainsAny(tok, "/+=?#&% ") {
		t.Fatalf("token %q is not URL-safe", tok)
	}
}

func TestSignerNeverPrintsKey(t *testing.T) {
	s := mustSigner(t, key)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, s); strings.Contains(out, string(key)) || strings.Contains(out, "48 49 50") {
			t.Fatalf("%s printed the key: %s", format, out)
		}
	}
}

func FuzzVerify(f *testing.F) {
	s := mustSigner(f, key)
	f.Add(s.Sign("INC-42", "alice", t0.Add(time.Hour)))
	f.Add(s.Sign("", "", t0))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Verify(token, t0)
		if err != nil {
			return
		}
		// Anything that verifies was signed with the key: signing its claim
		// again gives the same token.
		if again := s.Sign(c.Incident, c.Person, c.Expires); again != token {
			t.Fatalf("token %q verified as %+v, which signs as %q", token, c, again)
		}
	})
}
