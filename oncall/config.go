// Package oncall holds Klaxon's people, teams, on-call schedules and
// escalation policies, loaded strictly from YAML files, and the pure
// calculators over them: who is on call at an instant and why, where a
// schedule leaves nobody on call, and which notifications an escalation
// sends when. Nothing here reads a clock or the host's time-zone files.
package oncall

import (
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
)

// File is one on-call file's name and contents, the shape rule files have,
// so that a set of them can be journaled as it was loaded.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// ZoneLoader returns the rules of the named IANA time zone; it is the one
// seam through which this package learns about zones.
type ZoneLoader func(name string) (*time.Location, error)

// Config is a loaded, cross-checked set of on-call files.
type Config struct {
	// SlackUsers maps each Slack user ID given in a person's slack field to
	// the person (nil when nobody has one).
	SlackUsers map[string]string

	People    map[string]*Person
	Teams     map[string]*Team
	Schedules map[string]*Schedule
	Policies  map[string]*Policy
	Roles     map[string]*Role // incident roles (roles.go); the defaults when no file names any
	// Named are the receivers of the receivers section, by name: not a
	// person's, told about incidents (the final message on resolution).
	Named map[string]*amconfig.Receiver
}

// Person is someone who can be paged.
type Person struct {
	ID      string
	Name    string
	Zone    *time.Location
	Methods []amconfig.Receiver // each written as an Alertmanager receiver
	Rules   []NotificationRule  // in order of After
	Slack   string              // Slack user ID (U…), for chat rooms; "" for none
}

// NotificationRule says which of a person's contact methods are notified
// how long after a page reaches them without an acknowledgement.
type NotificationRule struct {
	After   time.Duration
	Methods []string // contact method (receiver) names
}

// Team is a named list of people that a policy step can page at once.
type Team struct {
	ID      string
	Members []string
}

// Schedule says who is on call when: layers of rotations, the
// highest-precedence layer with someone on call wins.
type Schedule struct {
	ID     string
	Zone   *time.Location
	Layers []*Layer // highest precedence first
	Loc    Loc      // where it is defined
}

// Layer is one rotation, optionally restricted to some hours of some days.
type Layer struct {
	Name         string
	Precedence   int
	Zone         *time.Location
	HandOff      civil         // wall-clock time of the first hand-off, in Zone
	Length       civil         // wall-clock seconds between hand-offs
	LengthName   string        // hourly, daily, weekly or the custom duration as written
	Participants []string      // person ids, in turn order
	Restrictions []Restriction // empty: the whole rotation
}

// Restriction is a window in the layer's zone during which the layer has
// someone on call: on the listed weekdays, from From to To (the next day
// when To is not after From).
type Restriction struct {
	Days     [7]bool // indexed by time.Weekday
	From, To int     // minutes since midnight; To may be 1440
}

// Policy is an escalation policy: steps in order, repeated, then a fallback
// receiver, so that an escalation never ends with nobody paged.
type Policy struct {
	ID     string
	Steps  []Step
	Repeat int // how many more times the steps run after the first pass
	// AckTimeout, if set, pages again from the first step when an
	// acknowledged incident is not resolved that long after the ack.
	AckTimeout time.Duration
	Fallback   amconfig.Receiver
}

// Step notifies its targets, then waits EscalateAfter before the next step
// (or the next round, or the fallback) unless acknowledged.
type Step struct {
	EscalateAfter time.Duration
	Schedules     []string
	People        []string
	Teams         []string
}

// Override puts Person on call in Schedule from Start to End: in place of
// Replaces where that person is on call, or over everyone when Replaces is
// empty. Later overrides in a list win over earlier ones.
type Override struct {
	ID       string    `json:"id"`
	Schedule string    `json:"schedule"`
	Person   string    `json:"person"`
	Replaces string    `json:"replaces,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// Loc is where a definition was written, for messages about it.
type Loc struct {
	File string
	Line int
}
