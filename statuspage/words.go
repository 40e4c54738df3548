package statuspage

import "time"

// vocabulary is the page's fixed wording in one language.
type vocabulary struct {
	TimeFormat     string
	DayFormat      string
	States         map[IncidentStatus]string
	Components     map[ComponentStatus]string
	Headline       map[ComponentStatus]string
	Active         string
	Past           string
	NoPast         string
	ComponentsHead string
	Uptime         string
	DaysAgo        string
	Today          string
	Started        string
	Feeds          string
	Updated        string
	Affected       string
	NotFound       string
	// Maintenance heads the scheduled maintenance windows.
	Maintenance       string
	MaintenanceStates map[MaintenanceStatus]string
}

var vocabularies = map[string]*vocabulary{
	"en": {
		TimeFormat: "2 Jan 2006 15:04 MST", DayFormat: "2 Jan 2006",
		States: map[IncidentStatus]string{Investigating: "Investigating", Identified: "Identified",
			Monitoring: "Monitoring", Resolved: "Resolved"},
		Components: map[ComponentStatus]string{Operational: "Operational", UnderMaintenance: "Under maintenance",
			DegradedPerformance: "Degraded performance", PartialOutage: "Partial outage", MajorOutage: "Major outage"},
		Headline: map[ComponentStatus]string{Operational: "All systems operational", UnderMaintenance: "Service under maintenance",
			DegradedPerformance: "Minor service outage", PartialOutage: "Partial system outage", MajorOutage: "Major system outage"},
		Active: "Active incidents", Past: "Past incidents", NoPast: "No incidents in this period.",
		ComponentsHead: "Components", Uptime: "uptime", DaysAgo: "days ago", Today: "Today",
		Started: "Started", Feeds: "Subscribe", Updated: "Last updated", Affected: "Affects",
		NotFound: "Not found", Maintenance: "Scheduled maintenance",
		MaintenanceStates: map[MaintenanceStatus]string{MaintenanceScheduled: "Scheduled", MaintenanceInProgress: "In progress",
			MaintenanceCompleted: "Completed"},
	},
	"de": {
		TimeFormat: "02.01.2006 15:04 MST", DayFormat: "02.01.2006",
		States: map[IncidentStatus]string{Investigating: "Untersuchung", Identified: "Erkannt",
			Monitoring: "Beobachtung", Resolved: "Behoben"},
		Components: map[ComponentStatus]string{Operational: "Betriebsbereit", UnderMaintenance: "Wartung",
			DegradedPerformance: "Eingeschränkte Leistung", PartialOutage: "Teilausfall", MajorOutage: "Schwerer Ausfall"},
		Headline: map[ComponentStatus]string{Operational: "Alle Systeme betriebsbereit", UnderMaintenance: "Wartungsarbeiten",
			DegradedPerformance: "Geringfügige Störung", PartialOutage: "Teilweiser Systemausfall", MajorOutage: "Schwerer Systemausfall"},
		Active: "Aktuelle Vorfälle", Past: "Frühere Vorfälle", NoPast: "Keine Vorfälle in diesem Zeitraum.",
		ComponentsHead: "Komponenten", Uptime: "Verfügbarkeit", DaysAgo: "Tage zuvor", Today: "Heute",
		Started: "Beginn", Feeds: "Abonnieren", Updated: "Zuletzt aktualisiert", Affected: "Betrifft",
		NotFound: "Nicht gefunden", Maintenance: "Geplante Wartungsarbeiten",
		MaintenanceStates: map[MaintenanceStatus]string{MaintenanceScheduled: "Geplant", MaintenanceInProgress: "Laufend",
			MaintenanceCompleted: "Abgeschlossen"},
	},
}

// words is the vocabulary of lang, English when unknown.
func words(lang string) *vocabulary {
	if v, ok := vocabularies[lang]; ok {
		return v
	}
	return vocabularies["en"]
}

// FormatTime formats t in loc as the page does in lang (English when
// unknown): how the final message words its times.
func FormatTime(t time.Time, lang string, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(words(lang).TimeFormat)
}
