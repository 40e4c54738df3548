package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Sessions are stateless: the session cookie is the session, sealed
// (AES-256-GCM) under a key, so that any node holding the same key accepts
// it and a failover signs nobody out. The seal keeps the token it signed
// in with secret (it is checked again on every request, so that a reload
// revoking the token ends the session) and makes the cookie tamper-proof.
// Without a configured key each process draws its own, and a restart
// signs everyone out, as a server-side store did.

// sessionKeyContext separates the console's key from other uses of the
// configured secret.
const sessionKeyContext = "klaxon console session v1"

// csrfLen is the CSRF token's length in bytes, before encoding.
const csrfLen = 32

// session is one signed-in browser: the token it signed in with, the CSRF
// token its forms carry, and when it ends.
type session struct {
	token   string
	csrf    string
	expires time.Time
}

// sessions seals and opens session cookies, and remembers, on this node
// until they expire, the ones signed out.
type sessions struct {
	aead cipher.AEAD
	ttl  time.Duration
	max  int // bounds ended
	now  func() time.Time

	mu    sync.Mutex
	ended map[[sha256.Size]byte]time.Time // signed-out cookies' digests → their expiry
}

// newSessions returns sessions lasting ttl, sealed under a key derived from
// secret (a random one if secret is empty), remembering at most max
// signed-out sessions.
func newSessions(secret []byte, ttl time.Duration, max int, now func() time.Time) (*sessions, error) {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("session key: %w", err)
		}
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(sessionKeyContext))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return &sessions{aead: aead, ttl: ttl, max: max, now: now, ended: map[[sha256.Size]byte]time.Time{}}, nil
}

// randomToken is 256 random bits, URL-safe base64.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// create starts a session for token and returns its cookie value.
func (s *sessions) create(token string) (string, *session, error) {
	var csrf [csrfLen]byte
	nonce := make([]byte, s.aead.NonceSize())
	for _, b := range [][]byte{csrf[:], nonce} {
		if _, err := rand.Read(b); err != nil {
			return "", nil, fmt.Errorf("reading random bytes: %w", err)
		}
	}
	expires := s.now().Add(s.ttl)
	plain := binary.BigEndian.AppendUint64(nil, uint64(expires.UnixNano()))
	plain = append(append(plain, csrf[:]...), token...)
	sealed := s.aead.Seal(nonce, nonce, plain, nil)
	sess := &session{token: token, csrf: base64.RawURLEncoding.EncodeToString(csrf[:]), expires: expires}
	return base64.RawURLEncoding.EncodeToString(sealed), sess, nil
}

// errBadSession is any cookie that does not open to a session.
var errBadSession = errors.New("not a session of this console")

// open returns the session sealed in id, expired or not.
func (s *sessions) open(id string) (*session, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(id)
	ns := s.aead.NonceSize()
	if err != nil || len(sealed) < ns {
		return nil, errBadSession
	}
	plain, err := s.aead.Open(nil, sealed[:ns], sealed[ns:], nil)
	if err != nil || len(plain) < 8+csrfLen {
		return nil, errBadSession
	}
	return &session{
		expires: time.Unix(0, int64(binary.BigEndian.Uint64(plain))),
		csrf:    base64.RawURLEncoding.EncodeToString(plain[8 : 8+csrfLen]),
		token:   string(plain[8+csrfLen:]),
	}, nil
}

// get returns the live session of id: sealed under this key, not expired,
// not signed out here.
func (s *sessions) get(id string) (*session, bool) {
	if id == "" {
		return nil, false
	}
	sess, err := s.open(id)
	if err != nil || !s.now().Before(sess.expires) {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, out := s.ended[sha256.Sum256([]byte(id))]; out {
		return nil, false
	}
	return sess, true
}

// end signs the session of id out on this node until it expires; when max
// are remembered, the one expiring first is forgotten.
func (s *sessions) end(id string) {
	sess, err := s.open(id)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, exp := range s.ended {
		if !now.Before(exp) {
			delete(s.ended, k)
		}
	}
	if !now.Before(sess.expires) {
		return // over already
	}
	if len(s.ended) >= s.max {
		var first [sha256.Size]byte
		var firstExp time.Time
		for k, exp := range s.ended {
			if firstExp.IsZero() || exp.Before(firstExp) {
				first, firstExp = k, exp
			}
		}
		delete(s.ended, first)
	}
	s.ended[sha256.Sum256([]byte(id))] = sess.expires
}

// count is the number of signed-out sessions remembered, expired or not.
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ended)
}
