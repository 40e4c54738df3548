package server

// Identify checks a token against the admin and viewer tokens in force, for
// callers that take a token other than in an Authorization header (the
// console's sign-in form). It gives the principal's name and whether it may
// only read; with auth.admin_open every token, even "", names Anonymous
// with full rights. The comparison is that of the bearer-token middleware:
// constant time, every token compared.
func (s *Server) Identify(token string) (name string, readOnly bool, ok bool) {
	p := s.access.Load().admin
	if p.open {
		return Anonymous, false, true
	}
	if token == "" {
		return "", false, false
	}
	name, r, found := p.find(token)
	if !found {
		return "", false, false
	}
	return name, r == roleViewer, true
}
