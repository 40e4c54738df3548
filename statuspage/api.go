package statuspage

import "time"

// The JSON documents, in the shape of Statuspage's public API (v2), so
// that its widgets and clients work unchanged.

type apiPage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type apiStatus struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

type apiComponent struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Status             string  `json:"status"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	Position           int     `json:"position"`
	Description        *string `json:"description"`
	Showcase           bool    `json:"showcase"`
	StartDate          *string `json:"start_date"`
	GroupID            *string `json:"group_id"`
	PageID             string  `json:"page_id"`
	Group              bool    `json:"group"`
	OnlyShowIfDegraded bool    `json:"only_show_if_degraded"`
}

type apiAffected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

type apiUpdate struct {
	ID                   string        `json:"id"`
	Status               string        `json:"status"`
	Body                 string        `json:"body"`
	IncidentID           string        `json:"incident_id"`
	CreatedAt            string        `json:"created_at"`
	UpdatedAt            string        `json:"updated_at"`
	DisplayAt            string        `json:"display_at"`
	AffectedComponents   []apiAffected `json:"affected_components"`
	DeliverNotifications bool          `json:"deliver_notifications"`
	CustomTweet          *string       `json:"custom_tweet"`
	TweetID              *string       `json:"tweet_id"`
}

type apiIncident struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Status          string         `json:"status"`
	CreatedAt       string         `json:"created_at"`
	UpdatedAt       string         `json:"updated_at"`
	MonitoringAt    *string        `json:"monitoring_at"`
	ResolvedAt      *string        `json:"resolved_at"`
	Impact          string         `json:"impact"`
	Shortlink       string         `json:"shortlink"`
	StartedAt       string         `json:"started_at"`
	PageID          string         `json:"page_id"`
	IncidentUpdates []apiUpdate    `json:"incident_updates"`
	Components      []apiComponent `json:"components"`
}

// apiMaintenance is a scheduled maintenance: an incident with its window.
type apiMaintenance struct {
	apiIncident
	ScheduledFor   string `json:"scheduled_for"`
	ScheduledUntil string `json:"scheduled_until"`
}

// apiMaintenanceOf is m as Statuspage shows it, with one update: its
// current state, its title as the body.
func apiMaintenanceOf(p *Page, pageID string, m Maintenance, byName map[string]apiComponent) apiMaintenance {
	am := apiMaintenance{apiIncident: apiIncident{ID: m.ID, Name: m.Name, Status: string(m.Status), CreatedAt: stamp(m.CreatedAt),
		UpdatedAt: stamp(m.UpdatedAt), Impact: "maintenance", Shortlink: p.URL + "/#maintenance-" + m.ID,
		StartedAt: stamp(m.ScheduledFor), PageID: pageID, IncidentUpdates: []apiUpdate{}, Components: []apiComponent{}},
		ScheduledFor: stamp(m.ScheduledFor), ScheduledUntil: stamp(m.ScheduledUntil)}
	if m.Status == MaintenanceCompleted {
		am.ResolvedAt = optStamp(m.ScheduledUntil)
	}
	au := apiUpdate{ID: opaqueID("maintenance-update", m.ID+"/"+string(m.Status)), Status: string(m.Status), Body: m.Name,
		IncidentID: m.ID, CreatedAt: stamp(m.UpdatedAt), UpdatedAt: stamp(m.UpdatedAt), DisplayAt: stamp(m.UpdatedAt),
		AffectedComponents: []apiAffected{}, DeliverNotifications: true}
	for _, name := range m.Components {
		if c, ok := byName[name]; ok {
			am.Components = append(am.Components, c)
			au.AffectedComponents = append(au.AffectedComponents, apiAffected{Code: c.ID, Name: name, OldStatus: string(Operational), NewStatus: string(UnderMaintenance)})
		}
	}
	am.IncidentUpdates = append(am.IncidentUpdates, au)
	return am
}

// maxListed is how many incidents incidents.json lists, as Statuspage does.
const maxListed = 50

// apiDocuments are the JSON documents of p by path.
func apiDocuments(p *Page) map[string]any {
	page := apiPage{ID: pageID(p), Name: p.Name, URL: p.URL, TimeZone: p.TimeZone.String(), UpdatedAt: stamp(p.UpdatedAt)}
	comps := make([]apiComponent, 0, len(p.Components))
	byName := map[string]apiComponent{}
	for _, c := range p.Components {
		ac := apiComponent{ID: c.ID, Name: c.Name, Status: string(c.Status), CreatedAt: stamp(p.Components[0].Days[0].Date),
			UpdatedAt: stamp(c.UpdatedAt), Position: c.Position, Showcase: true, PageID: page.ID}
		comps = append(comps, ac)
		byName[c.Name] = ac
	}
	unresolved := make([]apiIncident, 0, len(p.Active))
	for _, inc := range p.Active {
		unresolved = append(unresolved, apiIncidentOf(p, page.ID, inc, byName))
	}
	all := append([]apiIncident{}, unresolved...)
	for _, inc := range p.Past {
		if len(all) == maxListed {
			break
		}
		all = append(all, apiIncidentOf(p, page.ID, inc, byName))
	}
	status := apiStatus{Indicator: p.Status().impact(), Description: statusDescriptions[p.Status()]}
	if status.Indicator == "maintenance" {
		status.Indicator = "none"
	}
	openMaint, allMaint := []apiMaintenance{}, []apiMaintenance{}
	for _, m := range p.Maintenances {
		am := apiMaintenanceOf(p, page.ID, m, byName)
		allMaint = append(allMaint, am)
		if m.Open() {
			openMaint = append(openMaint, am)
		}
	}
	return map[string]any{
		"api/v2/summary.json": struct {
			Page        apiPage          `json:"page"`
			Components  []apiComponent   `json:"components"`
			Incidents   []apiIncident    `json:"incidents"`
			Maintenance []apiMaintenance `json:"scheduled_maintenances"`
			Status      apiStatus        `json:"status"`
		}{page, comps, unresolved, openMaint, status},
		"api/v2/status.json": struct {
			Page   apiPage   `json:"page"`
			Status apiStatus `json:"status"`
		}{page, status},
		"api/v2/components.json": struct {
			Page       apiPage        `json:"page"`
			Components []apiComponent `json:"components"`
		}{page, comps},
		"api/v2/incidents.json":            incidentsDoc{page, all},
		"api/v2/incidents/unresolved.json": incidentsDoc{page, unresolved},
		"api/v2/scheduled-maintenances.json": struct {
			Page        apiPage          `json:"page"`
			Maintenance []apiMaintenance `json:"scheduled_maintenances"`
		}{page, allMaint},
	}
}

type incidentsDoc struct {
	Page      apiPage       `json:"page"`
	Incidents []apiIncident `json:"incidents"`
}

// statusDescriptions are Statuspage's overall status descriptions.
var statusDescriptions = map[ComponentStatus]string{
	Operational: "All Systems Operational", UnderMaintenance: "Service Under Maintenance",
	DegradedPerformance: "Minor Service Outage", PartialOutage: "Partial System Outage", MajorOutage: "Major System Outage",
}

func apiIncidentOf(p *Page, pageID string, inc Incident, byName map[string]apiComponent) apiIncident {
	ai := apiIncident{ID: inc.ID, Name: inc.Name, Status: string(inc.Status), CreatedAt: stamp(inc.StartedAt),
		UpdatedAt: stamp(inc.UpdatedAt), MonitoringAt: optStamp(inc.MonitoringAt), ResolvedAt: optStamp(inc.ResolvedAt),
		Impact: inc.Impact.impact(), Shortlink: p.URL + "/#" + anchor(inc), StartedAt: stamp(inc.StartedAt),
		PageID: pageID, IncidentUpdates: []apiUpdate{}, Components: []apiComponent{}}
	for _, name := range inc.Components {
		if c, ok := byName[name]; ok {
			ai.Components = append(ai.Components, c)
		}
	}
	for i, u := range inc.Updates {
		old, nu := string(inc.Impact), string(inc.Impact)
		if u.Status == Resolved {
			nu = string(Operational)
		}
		if i == len(inc.Updates)-1 {
			old = string(Operational)
		}
		au := apiUpdate{ID: u.ID, Status: string(u.Status), Body: u.Body, IncidentID: inc.ID, CreatedAt: stamp(u.At),
			UpdatedAt: stamp(u.At), DisplayAt: stamp(u.At), AffectedComponents: []apiAffected{}, DeliverNotifications: true}
		for _, name := range u.Components {
			au.AffectedComponents = append(au.AffectedComponents, apiAffected{Code: byName[name].ID, Name: name, OldStatus: old, NewStatus: nu})
		}
		ai.IncidentUpdates = append(ai.IncidentUpdates, au)
	}
	return ai
}

func pageID(p *Page) string { return opaqueID("page", p.Name) }

// anchor is the fragment naming an incident on the page.
func anchor(inc Incident) string { return "incident-" + inc.ID }

// stamp formats t as Statuspage does: ISO 8601 with milliseconds, UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func optStamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := stamp(t)
	return &s
}
