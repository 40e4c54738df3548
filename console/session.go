package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errTooManySessions refuses a sign-in while the store is full of live sessions.
var errTooManySessions = errors.New("too many signed-in sessions; try again later")

// session is one signed-in browser: the token it signed in with (checked
// again on every request, so that a reload revoking the token ends it), the
// CSRF token its forms carry, and when it ends.
type session struct {
	token   string
	csrf    string
	expires time.Time
}

// sessions is the server-side session store, in memory: a restart signs
// everyone out. Sessions are found by the SHA-256 digest of their id, so a
// lookup's timing says nothing about the ids held.
type sessions struct {
	mu  sync.Mutex
	m   map[[sha256.Size]byte]*session
	ttl time.Duration
	max int
	now func() time.Time
}

// newSessions is an empty store whose sessions last ttl, holding at most max.
func newSessions(ttl time.Duration, max int, now func() time.Time) *sessions {
	return &sessions{m: map[[sha256.Size]byte]*session{}, ttl: ttl, max: max, now: now}
}

// randomToken is 256 random bits, URL-safe base64.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// create starts a session for token and returns its id.
func (s *sessions) create(token string) (string, *session, error) {
	id, err := randomToken()
	if err != nil {
		return "", nil, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	if len(s.m) >= s.max {
		return "", nil, errTooManySessions
	}
	sess := &session{token: token, csrf: csrf, expires: s.now().Add(s.ttl)}
	s.m[sha256.Sum256([]byte(id))] = sess
	return id, sess, nil
}

// sweep drops expired sessions; s.mu is held.
func (s *sessions) sweep() {
	now := s.now()
	for k, sess := range s.m {
		if !now.Before(sess.expires) {
			delete(s.m, k)
		}
	}
}

// get finds the live session of id; an expired one is dropped.
func (s *sessions) get(id string) (*session, bool) {
	if id == "" {
		return nil, false
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[k]
	if sess == nil {
		return nil, false
	}
	if !s.now().Before(sess.expires) {
		delete(s.m, k)
		return nil, false
	}
	return sess, true
}

// end drops the session of id, if any.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(id)))
}

// count is the number of sessions held, expired or not.
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
