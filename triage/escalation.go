package triage

// escalateAfterDelivery lets the escalation of inc react to a settled page.
func (s *State) escalateAfterDelivery(c *change, inc *Incident, in *Intent, ok bool) {}
