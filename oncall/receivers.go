package oncall

import (
	"regexp"

	amconfig "github.com/prometheus/alertmanager/config"
	"gopkg.in/yaml.v3"
)

// MethodKey names a person's contact method among every receiver the
// on-call files define: what an intent to page names, and what the delivery
// workers look up.
func MethodKey(person, method string) string { return "person/" + person + "/" + method }

// FallbackKey names a policy's fallback receiver among every receiver the
// on-call files define.
func FallbackKey(policy string) string { return "policy/" + policy + "/fallback" }

// NamedKey names a receiver of the receivers section among every receiver
// the on-call files define.
func NamedKey(name string) string { return "receiver/" + name }

// Receivers returns every contact method, fallback receiver and named
// receiver, keyed by MethodKey, FallbackKey and NamedKey, for the delivery workers. The receivers hold
// credentials: never log or journal them.
func (c *Config) Receivers() map[string]*amconfig.Receiver {
	out := make(map[string]*amconfig.Receiver)
	for id, p := range c.People {
		for i := range p.Methods {
			out[MethodKey(id, p.Methods[i].Name)] = &p.Methods[i]
		}
	}
	for id, p := range c.Policies {
		out[FallbackKey(id)] = &p.Fallback
	}
	for name, rc := range c.Named {
		out[NamedKey(name)] = rc
	}
	return out
}

// receiverName is what a named receiver may be called: what a rule file's
// final_message may list.
var receiverName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// namedReceivers decodes a receivers section: a list of Alertmanager
// receivers, as in alertmanager.yml, each with a unique name.
func (b *builder) namedReceivers(n *yaml.Node) {
	for _, item := range b.items(n, "receivers") {
		rc, ok := b.receiver(item, "receiver")
		if !ok {
			continue
		}
		switch at, dup := b.defined["receiver "+rc.Name]; {
		case !receiverName.MatchString(rc.Name):
			b.fail(item.Line, "receiver %q: a name is 1-128 letters, digits, '.', '_' or '-'", rc.Name)
		case dup:
			b.fail(item.Line, "receiver %q is already defined at %s:%d", rc.Name, at.File, at.Line)
		default:
			b.defined["receiver "+rc.Name] = Loc{b.reader.file, item.Line}
			b.cfg.Named[rc.Name] = &rc
		}
	}
}
