package server

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/ingest"
	"github.com/klaxonhq/klaxon/signal"
)

// Headers of a Zendesk webhook request that carry its signature.
const (
	zendeskSignatureHeader = "X-Zendesk-Webhook-Signature"
	zendeskTimestampHeader = "X-Zendesk-Webhook-Signature-Timestamp"
)

// formatSources maps each ticket and mention format to the source its
// signals are counted under.
var formatSources = map[string]signal.Source{
	"tickets/generic": signal.SourceTicketsGeneric, "tickets/zendesk": signal.SourceZendesk,
	"tickets/jsm": signal.SourceJSM, "mentions/generic": signal.SourceMentionsGeneric,
	"mentions/mastodon": signal.SourceMastodon, "mentions/x": signal.SourceX,
}

// Receivers serves the ingest endpoints of tickets, mentions, heartbeats
// and PagerDuty events. Each handler authenticates its requests itself,
// since Zendesk and PagerDuty senders carry their credentials in the
// request rather than as a bearer token.
type Receivers struct {
	srv        *Server
	in         *IngestHandler
	heartbeats map[string]config.Heartbeat
	window     time.Duration // how old a Zendesk signature may be
}

// NewReceivers returns the Receivers storing signals through in, with the
// tokens and Zendesk secret in force on srv, for the configured heartbeats.
func NewReceivers(srv *Server, in *IngestHandler, heartbeats config.Heartbeats) *Receivers {
	r := &Receivers{srv: srv, in: in, heartbeats: make(map[string]config.Heartbeat, len(heartbeats)),
		window: ingest.DefaultZendeskWindow}
	for _, h := range heartbeats {
		r.heartbeats[h.Name] = h
	}
	return r
}

// Register adds the routes POST /ingest/tickets/:format,
// /ingest/mentions/:format, /ingest/heartbeats/:name and /v2/enqueue to e.
func (r *Receivers) Register(e gin.IRoutes) {
	e.POST("/ingest/tickets/:format", r.Tickets)
	e.POST("/ingest/mentions/:format", r.Mentions)
	e.POST("/ingest/heartbeats/:name", r.bearer(config.SourceHeartbeats), r.Heartbeat)
	e.POST("/v2/enqueue", r.PagerDuty)
}

// bearer is the Ingest middleware of source.
func (r *Receivers) bearer(source string) gin.HandlerFunc { return r.srv.Ingest(source) }

// Tickets serves POST /ingest/tickets/:format: generic and jsm with the
// tickets tokens, zendesk with its webhook signature instead.
func (r *Receivers) Tickets(c *gin.Context) {
	format := c.Param("format")
	if format == "zendesk" {
		r.zendesk(c)
		return
	}
	if r.bearer(config.SourceTickets)(c); c.IsAborted() {
		return
	}
	r.report(c, "tickets", ingest.TicketParsers, nil)
}

// Mentions serves POST /ingest/mentions/:format with the mentions tokens.
func (r *Receivers) Mentions(c *gin.Context) {
	if r.bearer(config.SourceMentions)(c); c.IsAborted() {
		return
	}
	r.report(c, "mentions", ingest.MentionParsers, nil)
}

// zendesk serves a Zendesk webhook: the signature over the timestamp and
// body, made with the configured signing secret, is its credential.
func (r *Receivers) zendesk(c *gin.Context) {
	sig, ts := c.GetHeader(zendeskSignatureHeader), c.GetHeader(zendeskTimestampHeader)
	secret := r.srv.access.Load().zendesk
	if sig == "" || ts == "" || secret == nil {
		// Refused before reading a body that cannot be authentic.
		r.unauthorized(c, ingest.VerifyZendesk(nil, sig, ts, secret, time.Time{}, 0))
		return
	}
	r.report(c, "tickets", ingest.TicketParsers, func(body []byte) error {
		return ingest.VerifyZendesk(body, sig, ts, secret, r.in.clock(), r.window)
	})
}

// unauthorized answers 401 for a request whose signature failed.
func (r *Receivers) unauthorized(c *gin.Context, err error) {
	r.in.log.Info("refused a Zendesk webhook request", zap.Error(err))
	Fail(c, http.StatusUnauthorized, err.Error())
}

// report parses the body with the parser of the request's format, after
// verify (if set) has accepted it, and stores the signals; an unknown
// format is 404, naming the known ones.
func (r *Receivers) report(c *gin.Context, kind string, parsers map[string]ingest.Parser, verify func([]byte) error) {
	format := c.Param("format")
	parse, ok := parsers[format]
	if !ok {
		Fail(c, http.StatusNotFound, "unknown "+kind+" format "+ingest.Quote(format)+"; want one of "+
			strings.Join(slices.Sorted(maps.Keys(parsers)), ", "))
		return
	}
	src := formatSources[kind+"/"+format]
	m := r.in.others[src]
	buf, ok := r.in.readBody(c, src, m)
	if !ok {
		return
	}
	defer putBuffer(buf)
	if verify != nil {
		if err := verify(buf.Bytes()); err != nil {
			m.rejected.Inc()
			r.unauthorized(c, err)
			return
		}
	}
	sigs, err := parse(buf.Bytes(), r.in.clock(), r.in.lim)
	if err != nil {
		r.in.reject(c, src, m, buf.Bytes(), err)
		return
	}
	r.in.store(c, src, m, sigs)
}

// Heartbeat serves POST /ingest/heartbeats/:name for a configured
// heartbeat. The body is optional (see ingest.ParseHeartbeat), or an
// Alertmanager webhook notification (see alertmanagerBeat). Each beat's
// EndsAt is the deadline for the next, receipt + interval + grace, which
// triage watches; the heartbeat's configured labels are added to it.
func (r *Receivers) Heartbeat(c *gin.Context) {
	const src = signal.SourceHeartbeat
	m := r.in.others[src]
	name := c.Param("name")
	hb, ok := r.heartbeats[name]
	if !ok {
		m.rejected.Inc()
		Fail(c, http.StatusNotFound, "no heartbeat "+ingest.Quote(name)+" is configured")
		return
	}
	var body []byte
	if c.Request.ContentLength != 0 || c.GetHeader("Content-Type") != "" {
		buf, ok := r.in.readBody(c, src, m)
		if !ok {
			return
		}
		defer putBuffer(buf)
		body = buf.Bytes()
	}
	now := r.in.clock()
	sigs, err := ingest.ParseHeartbeat(name, alertmanagerBeat(body, now, r.in.lim), now, r.in.lim)
	if err != nil {
		r.in.reject(c, src, m, body, err)
		return
	}
	for i := range sigs {
		sigs[i].EndsAt = now.UTC().Add(hb.Interval + hb.Grace)
		var labels signal.Builder
		for k, v := range hb.Labels {
			labels.Add(k, v)
		}
		labels.AddAll(sigs[i].Labels) // the signal's own labels win
		sigs[i].Labels = labels.Strings()
	}
	r.in.store(c, src, m, sigs)
}

// Beat bodies standing for an Alertmanager notification.
var (
	beatFiring   = []byte(`{"status":"ok"}`)
	beatResolved = []byte(`{"status":"fail","message":"Alertmanager resolved the alert that stands for this heartbeat"}`)
)

// alertmanagerBeat reads an Alertmanager webhook notification, sent by a
// route of an always-firing alert (Watchdog) to a heartbeat, as a beat:
// firing alerts are the heartbeat, and all of them resolved is a failure.
// Any other body is returned as it is.
func alertmanagerBeat(body []byte, now time.Time, lim ingest.Limits) []byte {
	if len(body) == 0 {
		return body
	}
	_, sigs, err := ingest.ParseWebhook(body, now, lim)
	if err != nil {
		return body
	}
	for _, s := range sigs {
		if s.Status == signal.StatusFiring {
			return beatFiring
		}
	}
	if len(sigs) == 0 {
		return beatFiring
	}
	return beatResolved
}

// PagerDuty serves POST /v2/enqueue, the PagerDuty Events API v2: the
// routing_key in the body is the credential, checked against the
// configured keys before anything is stored. It answers as PagerDuty does:
// 202 with the dedup_key, or 400 "invalid event" with the errors, an
// unknown routing key included.
func (r *Receivers) PagerDuty(c *gin.Context) {
	const src = signal.SourcePagerDuty
	m := r.in.others[src]
	buf, ok := r.in.readBody(c, src, m)
	if !ok {
		return
	}
	defer putBuffer(buf)
	ev, err := ingest.ParsePagerDutyEvent(buf.Bytes(), r.in.clock(), r.in.lim)
	if err != nil {
		m.rejected.Inc()
		r.in.log.Warn("rejected PagerDuty event", zap.Error(err))
		c.AbortWithStatusJSON(http.StatusBadRequest, ingest.PagerDutyRejected(err))
		return
	}
	keys := r.srv.access.Load().ingest[config.SourcePagerDuty]
	if _, _, found := keys.find(ev.RoutingKey); !found && !keys.open {
		m.rejected.Inc()
		r.in.log.Info("refused a PagerDuty event with an unknown routing key")
		c.AbortWithStatusJSON(http.StatusBadRequest, ingest.PagerDutyRejected(errInvalidRoutingKey))
		return
	}
	if _, ok := r.in.submit(c, src, m, []signal.Signal{ev.Signal}); !ok {
		return
	}
	c.JSON(http.StatusAccepted, ingest.PagerDutyAccepted(ev.DedupKey))
}

// errInvalidRoutingKey is PagerDuty's error for a routing key it does not know.
var errInvalidRoutingKey = errors.New("Invalid routing key") //nolint:staticcheck // PagerDuty's own words
