package config

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// redacted is how a Secret prints.
const redacted = "<secret>"

// Secret is a credential from the configuration; every way of printing or
// encoding it gives "<secret>", and only Reveal gives its value.
type Secret struct {
	value string
}

// NewSecret wraps a credential, for callers that build a Config in code.
func NewSecret(value string) Secret { return Secret{value: value} }

// Reveal gives the credential itself, for comparing it with what a client sent.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String prints "<secret>".
func (s Secret) String() string { return redacted }

// GoString prints "<secret>" for %#v.
func (s Secret) GoString() string { return redacted }

// MarshalText encodes "<secret>".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON encodes "<secret>".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(redacted)), nil }

// MarshalYAML encodes "<secret>".
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// unmarshalNode reads the secret from a scalar, never echoing it in errors.
func (s *Secret) unmarshalNode(d *decoder, n *yaml.Node, p pos) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errorf(p, "want a string")
	}
	s.value = n.Value
	return nil
}
