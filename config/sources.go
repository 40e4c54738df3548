package config

import (
	"reflect"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultHeartbeatGrace is how long past its interval a heartbeat may be
// late before it counts as missing, when the file does not say.
const DefaultHeartbeatGrace = time.Minute

// OptionalSource is the access of an ingest source that may be left out:
// open to anyone, or to its tokens, or, left out or with no tokens, to no one.
type OptionalSource Source

// check keeps open and tokens exclusive; no tokens leaves the source shut.
func (s *OptionalSource) check(m *mapping) error {
	if s.Open && len(s.Tokens) > 0 {
		return m.errorf("open", "open: true and tokens exclude each other; keep one")
	}
	return nil
}

// Zendesk configures the Zendesk webhook (POST /ingest/tickets/zendesk),
// which is authenticated by its signature alone.
type Zendesk struct {
	// SigningSecretFile holds the webhook's signing secret, as Zendesk
	// shows it; without it every Zendesk request is refused.
	SigningSecretFile string `yaml:"signing_secret_file"`
	SigningSecret     Secret `yaml:"-"`
}

// check reads the signing secret, which must be at least MinTokenLength bytes.
func (z *Zendesk) check(m *mapping) error {
	if !m.has("signing_secret_file") {
		return nil
	}
	if z.SigningSecretFile == "" {
		return m.errorf("signing_secret_file", "must not be empty")
	}
	z.SigningSecretFile = m.d.resolve(z.SigningSecretFile)
	s, err := readTokenFile(z.SigningSecretFile)
	if err != nil {
		return m.errorf("signing_secret_file", "%w", err)
	}
	if len(s) < MinTokenLength {
		return m.errorf("signing_secret_file", "the secret is %d bytes long, at least %d are required", len(s), MinTokenLength)
	}
	z.SigningSecret = NewSecret(s)
	m.d.warnExample(m.at("signing_secret_file"), "signing secret", z.SigningSecret)
	return nil
}

// Heartbeat is a job that reports in with POST /ingest/heartbeats/{name}:
// when no beat arrives within Interval plus Grace of the last, it is missing.
type Heartbeat struct {
	Name     string        `yaml:"name"`
	Interval time.Duration `yaml:"interval"`
	Grace    time.Duration `yaml:"grace"`
	// Labels are added to every beat (service, team...), for attribution.
	Labels Labels `yaml:"labels"`
}

// heartbeatName is the form of a heartbeat's name, a URL path segment.
var heartbeatName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// check validates the name and durations and defaults the grace.
func (h *Heartbeat) check(m *mapping) error {
	switch {
	case !heartbeatName.MatchString(h.Name):
		return m.errorf("name", "want 1 to 128 letters, digits, '.', '_' or '-', got %q", h.Name)
	case h.Interval <= 0:
		return m.errorf("interval", "must be positive, got %s", h.Interval)
	case !m.has("grace"):
		h.Grace = DefaultHeartbeatGrace
	case h.Grace < 0:
		return m.errorf("grace", "must not be negative, got %s", h.Grace)
	}
	if _, ok := h.Labels["heartbeat"]; ok {
		return m.errorf("labels", "the heartbeat label is the heartbeat's name; it cannot be set")
	}
	return nil
}

// Heartbeats is a list of heartbeats with distinct names.
type Heartbeats []Heartbeat

// Find returns the heartbeat called name.
func (hs Heartbeats) Find(name string) (Heartbeat, bool) {
	for _, h := range hs {
		if h.Name == name {
			return h, true
		}
	}
	return Heartbeat{}, false
}

// unmarshalNode decodes the list and rejects a name given twice.
func (hs *Heartbeats) unmarshalNode(d *decoder, n *yaml.Node, p pos) error {
	list, err := decodeNamed(d, n, p, "heartbeats", func(h *Heartbeat) string { return h.Name }, nil)
	*hs = list
	return err
}

// decodeNamed decodes a sequence of what into a list, element by element,
// and rejects a name given twice; check, if set, vets element i (at ep)
// against those before it.
func decodeNamed[T any](d *decoder, n *yaml.Node, p pos, what string, name func(*T) string,
	check func(list []T, i int, ep pos) error) ([]T, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errorf(p, "want a list of %s", what)
	}
	list := make([]T, len(n.Content))
	names := make(map[string]int, len(list))
	for i, el := range n.Content {
		ep := p.index(i, el.Line)
		if err := d.decode(reflect.ValueOf(&list[i]).Elem(), el, ep); err != nil {
			return nil, err
		}
		if j, dup := names[name(&list[i])]; dup {
			return nil, d.errorf(ep, "name %q is already used by %s[%d]", name(&list[i]), p.path, j)
		}
		names[name(&list[i])] = i
		if check != nil {
			if err := check(list, i, ep); err != nil {
				return nil, err
			}
		}
	}
	return list, nil
}

// labelName is the form of a Prometheus label name.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Labels is a set of label names and non-empty values.
type Labels map[string]string

// unmarshalNode decodes a mapping of valid label names to strings.
func (ls *Labels) unmarshalNode(d *decoder, n *yaml.Node, p pos) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return d.errorf(p, "want a mapping of label names to values, got %s", kindName(n))
	}
	out := make(Labels, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		kp := p.key(k.Value, k.Line)
		if !labelName.MatchString(k.Value) || k.Kind != yaml.ScalarNode {
			return d.errorf(kp, "not a valid label name")
		}
		if _, dup := out[k.Value]; dup {
			return d.errorf(kp, "label repeated")
		}
		val, err := scalar(v)
		if err != nil || val == "" {
			return d.errorf(kp, "want a non-empty string value")
		}
		out[k.Value] = val
	}
	*ls = out
	return nil
}
