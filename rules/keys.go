package rules

import (
	"maps"

	"github.com/klaxonhq/klaxon/rules/severity"
)

// The keys each mapping of a rule file accepts; any other is an error.
// rules/README.md documents every one (TestReferenceIsComplete).
var (
	fileKeys        = []string{"services", "correlation", "severity", "policies", "calendars"}
	serviceKeys     = []string{"display_name", "customer_facing", "tier", "component", "team", "escalation_policy", "matchers", "keywords", "depends_on", "correlation"}
	svcCorrKeys     = []string{"group_by", "window", "quiet_period", "max_services"}
	correlationKeys = []string{"group_by", "fallback_group_by", "window", "quiet_period", "max_services"}
	severityKeys    = []string{"levels", "default", "allow_downgrade", "customers_total", "flags", "rules"}
	levelKeys       = []string{"name", "description"}
	ruleKeys        = []string{"name", "level", "description", "when"}
	policyKeys      = []string{"page", "calendar", "status_page", "chat_room"}
	calendarKeys    = []string{"time_zone", "days", "hours", "holidays"}
)

// referenceKeys gives the accepted keys by the heading that documents them
// in rules/README.md.
func referenceKeys() map[string][]string {
	out := map[string][]string{
		"File":                          fileKeys,
		"`services.<name>`":             serviceKeys,
		"`services.<name>.correlation`": svcCorrKeys,
		"`correlation`":                 correlationKeys,
		"`severity`":                    severityKeys,
		"`severity.levels[]`":           levelKeys,
		"`severity.rules[]`":            ruleKeys,
		"`policies.<level>`":            policyKeys,
		"`calendars.<name>`":            calendarKeys,
	}
	maps.Copy(out, severity.ReferenceKeys())
	return out
}
