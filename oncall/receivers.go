package oncall

import amconfig "github.com/prometheus/alertmanager/config"

// MethodKey names a person's contact method among every receiver the
// on-call files define: what an intent to page names, and what the delivery
// workers look up.
func MethodKey(person, method string) string { return "person/" + person + "/" + method }

// FallbackKey names a policy's fallback receiver among every receiver the
// on-call files define.
func FallbackKey(policy string) string { return "policy/" + policy + "/fallback" }

// Receivers returns every contact method and fallback receiver, keyed by
// MethodKey and FallbackKey, for the delivery workers. The receivers hold
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
	return out
}
