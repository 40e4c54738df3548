package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/triage"
)

// Silencer journals silence changes, durably (engine.Engine).
type Silencer interface {
	Silence(ctx context.Context, sc *triage.SilenceChange) (string, error)
}

// Silences serves Alertmanager's API v2 silence endpoints, with its JSON
// shapes and status codes, so that `amtool silence` and other Alertmanager
// clients manage Klaxon's silences. Errors are a JSON string, as
// Alertmanager answers them, not Klaxon's {"error": …}.
type Silences struct {
	state     *triage.State
	silencer  Silencer
	principal func(*gin.Context) string
	clock     func() time.Time
}

// NewSilences returns the handlers; principal names the authenticated
// caller, and clock gives the time silences' states are shown at.
func NewSilences(state *triage.State, silencer Silencer, principal func(*gin.Context) string, clock func() time.Time) *Silences {
	return &Silences{state: state, silencer: silencer, principal: principal, clock: clock}
}

// Register adds the routes to g, which must already require credentials.
func (h *Silences) Register(g gin.IRoutes) {
	g.GET("/api/v2/silences", h.list)
	g.POST("/api/v2/silences", h.post)
	g.GET("/api/v2/silence/:id", h.get)
	g.DELETE("/api/v2/silence/:id", h.expire)
}

// list answers GET /api/v2/silences?filter=…&active=…&pending=…&expired=….
func (h *Silences) list(c *gin.Context) {
	var filter []*labels.Matcher
	for _, text := range c.QueryArray("filter") {
		m, err := labels.ParseMatcher(text)
		if err != nil {
			amFail(c, http.StatusBadRequest, fmt.Sprintf("filter %q: %v", text, err))
			return
		}
		filter = append(filter, m)
	}
	want := map[triage.SilenceState]bool{}
	for _, st := range []triage.SilenceState{triage.SilenceActive, triage.SilencePending, triage.SilenceExpired} {
		on, err := boolParam(c, string(st))
		if err != nil {
			amFail(c, http.StatusBadRequest, err.Error())
			return
		}
		want[st] = on
	}
	out := models.GettableSilences{}
	for _, v := range h.state.Silences(h.clock(), filter) {
		if want[v.State] {
			out = append(out, gettable(v))
		}
	}
	c.JSON(http.StatusOK, out)
}

// boolParam reads an optional boolean query parameter, true by default.
func boolParam(c *gin.Context, name string) (bool, error) {
	v, ok := c.GetQuery(name)
	if !ok {
		return true, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: must be true or false", name)
	}
	return on, nil
}

func (h *Silences) get(c *gin.Context) {
	v, ok := h.state.SilenceByID(c.Param("id"), h.clock())
	if !ok {
		amFail(c, http.StatusNotFound, triage.ErrNoSilence.Error())
		return
	}
	c.JSON(http.StatusOK, gettable(v))
}

// expire answers DELETE /api/v2/silence/{id}: 200 and no body, also for a
// silence that had expired already, as Alertmanager answers.
func (h *Silences) expire(c *gin.Context) {
	if _, ok := h.state.SilenceByID(c.Param("id"), h.clock()); !ok {
		amFail(c, http.StatusNotFound, triage.ErrNoSilence.Error())
		return
	}
	sc, err := triage.NewSilenceChange(triage.SilenceChange{ID: c.Param("id"), Expire: true, By: h.principal(c)})
	if err == nil {
		_, err = h.silencer.Silence(c.Request.Context(), sc)
	}
	if h.failed(c, err) {
		return
	}
	c.Status(http.StatusOK)
}

// post answers POST /api/v2/silences with {"silenceID": …}: a new silence,
// or an update of the one the body's id names.
func (h *Silences) post(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
		amFail(c, http.StatusRequestEntityTooLarge, "body: "+err.Error())
		return
	}
	var ps models.PostableSilence
	if err == nil {
		err = json.Unmarshal(body, &ps)
	}
	if err == nil {
		err = ps.Validate(strfmt.Default)
	}
	if err != nil {
		amFail(c, http.StatusBadRequest, "parsing silence body: "+err.Error())
		return
	}
	sc, msg := h.change(c, &ps)
	if msg != "" {
		amFail(c, http.StatusBadRequest, msg)
		return
	}
	if sc.ID != "" {
		if _, ok := h.state.SilenceByID(sc.ID, h.clock()); !ok {
			amFail(c, http.StatusNotFound, triage.ErrNoSilence.Error())
			return
		}
	}
	id, err := h.silencer.Silence(c.Request.Context(), sc)
	if h.failed(c, err) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"silenceID": id})
}

// change turns a validated PostableSilence into a silence change, or says
// what is wrong with it in Alertmanager's words.
func (h *Silences) change(c *gin.Context, ps *models.PostableSilence) (*triage.SilenceChange, string) {
	start, end := time.Time(*ps.StartsAt), time.Time(*ps.EndsAt)
	if !start.Before(end) {
		return nil, "Failed to create silence: start time must be before end time"
	}
	if end.Before(h.clock()) {
		return nil, "Failed to create silence: end time can't be in the past"
	}
	sc := triage.SilenceChange{ID: ps.ID, StartsAt: start, EndsAt: end, CreatedBy: *ps.CreatedBy,
		Comment: *ps.Comment, Annotations: ps.Annotations, By: h.principal(c)}
	for i, m := range ps.Matchers {
		lm, err := labels.NewMatcher(matchType(m), *m.Name, *m.Value)
		if err != nil {
			return nil, fmt.Sprintf("invalid silence: matcher %d (%s): %v", i, *m.Name, err)
		}
		sc.Matchers = append(sc.Matchers, lm.String())
	}
	checked, err := triage.NewSilenceChange(sc)
	if err != nil {
		return nil, "invalid silence: " + strings.TrimPrefix(err.Error(), triage.ErrInvalid.Error()+": ")
	}
	return checked, ""
}

// matchType reads a matcher's operator from isEqual (true when absent) and
// isRegex (false when absent), as Alertmanager does.
func matchType(m *models.Matcher) labels.MatchType {
	eq := m.IsEqual == nil || *m.IsEqual
	re := m.IsRegex != nil && *m.IsRegex
	switch {
	case eq && re:
		return labels.MatchRegexp
	case re:
		return labels.MatchNotRegexp
	case eq:
		return labels.MatchEqual
	}
	return labels.MatchNotEqual
}

// gettable is a silence in Alertmanager's GettableSilence shape.
func gettable(v triage.SilenceView) *models.GettableSilence {
	start, end, updated := strfmt.DateTime(v.StartsAt), strfmt.DateTime(v.EndsAt), strfmt.DateTime(v.UpdatedAt)
	state := string(v.State)
	gs := &models.GettableSilence{
		ID: &v.ID, UpdatedAt: &updated, Status: &models.SilenceStatus{State: &state},
		Silence: models.Silence{StartsAt: &start, EndsAt: &end, CreatedBy: &v.CreatedBy, Comment: &v.Comment,
			Annotations: v.Annotations, Matchers: models.Matchers{}},
	}
	for _, text := range v.Matchers {
		m, err := labels.ParseMatcher(text) // stored canonical: it parses
		if err != nil {
			continue
		}
		isEqual := m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp
		isRegex := m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp
		gs.Matchers = append(gs.Matchers, &models.Matcher{Name: &m.Name, Value: &m.Value, IsEqual: &isEqual, IsRegex: &isRegex})
	}
	return gs
}

// failed answers for a change the journal or the state refused, and
// reports whether it did.
func (h *Silences) failed(c *gin.Context, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, triage.ErrNoSilence):
		amFail(c, http.StatusNotFound, err.Error())
	case errors.Is(err, triage.ErrInvalid):
		amFail(c, http.StatusBadRequest, "invalid silence: "+strings.TrimPrefix(err.Error(), triage.ErrInvalid.Error()+": "))
	case errors.Is(err, journal.ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		c.Header("Retry-After", "1")
		amFail(c, http.StatusServiceUnavailable, "store unavailable, retry later")
	default:
		_ = c.Error(err)
		amFail(c, http.StatusInternalServerError, "internal error")
	}
	return true
}

// amFail answers with an error as Alertmanager's API v2 does: the message
// as a JSON string.
func amFail(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, msg)
}

// Status answers GET /api/v2/status, which amtool asks for to compare its
// version with the server's: Klaxon's version (as semver, which amtool
// requires), no cluster and no Alertmanager configuration.
func Status(version string, started time.Time) gin.HandlerFunc {
	return func(c *gin.Context) {
		v, goVersion, revision := semver(version), runtime.Version(), buildRevision()
		uptime := strfmt.DateTime(started)
		none, disabled := "", models.ClusterStatusStatusDisabled
		c.JSON(http.StatusOK, models.AlertmanagerStatus{
			Cluster: &models.ClusterStatus{Status: &disabled, Peers: []*models.PeerStatus{}},
			Config:  &models.AlertmanagerConfig{Original: &none},
			Uptime:  &uptime,
			VersionInfo: &models.VersionInfo{Version: &v, GoVersion: &goVersion, Revision: &revision,
				Branch: &none, BuildDate: &none, BuildUser: &none},
		})
	}
}

var (
	semverRE    = regexp.MustCompile(`^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$`)
	notSemverRE = regexp.MustCompile(`[^0-9A-Za-z-]+`)
)

// semver is version as a semantic version: itself if it is one (without a
// leading v), else a pre-release of 0.0.0 named after it ("dev" →
// "0.0.0-dev").
func semver(version string) string {
	if m := semverRE.FindStringSubmatch(version); m != nil {
		return m[1]
	}
	name := strings.Trim(notSemverRE.ReplaceAllString(version, "-"), "-")
	if name == "" {
		name = "unknown"
	}
	return "0.0.0-" + name
}

// buildRevision is the VCS revision the binary was built from, if known.
func buildRevision() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
