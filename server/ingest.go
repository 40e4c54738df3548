package server

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/ingest"
	"github.com/klaxonhq/klaxon/signal"
)

// Sink stores the signals of one request (engine.Engine). Submit returns
// once they are durable; its errors wrap engine.ErrUnavailable ("retry
// later") or engine.ErrOverloaded ("too many active alerts"). Once it has
// returned nil, Submit keeps nothing that points into sigs: the handler
// hands the slice back to ingest for the next request.
type Sink interface {
	Submit(ctx context.Context, sigs []signal.Signal) (engine.Result, error)
}

// IngestHandler serves the ingest endpoints: it reads payloads, has ingest
// parse them, hands their signals to a Sink and answers the sender.
// Authentication is the caller's (Server.Ingest).
type IngestHandler struct {
	sink      Sink
	lim       ingest.Limits
	clock     func() time.Time
	log       *zap.Logger
	am        sourceCounters
	prom      sourceCounters
	others    map[signal.Source]sourceCounters // tickets, mentions, heartbeats, events
	truncated prometheus.Counter
}

// sourceCounters are one source's children of klaxon_signals_received_total.
type sourceCounters struct {
	accepted, duplicate, rejected, throttled prometheus.Counter
}

// NewIngestHandler returns an IngestHandler that stores signals in sink,
// bounds payloads by lim, reads the time from clock (time.Now if nil), logs
// to log (nothing if nil) and registers its metrics with reg (none if nil).
func NewIngestHandler(sink Sink, lim ingest.Limits, clock func() time.Time, log *zap.Logger, reg prometheus.Registerer) *IngestHandler {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = zap.NewNop()
	}
	if lim.MaxBodyBytes <= 0 {
		lim.MaxBodyBytes = ingest.DefaultMaxBodyBytes
	}
	f := promauto.With(reg)
	received := f.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_signals_received_total",
		Help: "Signals received, by source and outcome (accepted, duplicate, rejected, throttled).",
	}, []string{"source", "outcome"})
	counters := func(src signal.Source) sourceCounters {
		return sourceCounters{
			accepted:  received.WithLabelValues(string(src), "accepted"),
			duplicate: received.WithLabelValues(string(src), "duplicate"),
			rejected:  received.WithLabelValues(string(src), "rejected"),
			throttled: received.WithLabelValues(string(src), "throttled"),
		}
	}
	return &IngestHandler{
		sink:  sink,
		lim:   lim,
		clock: clock,
		log:   log,
		am:    counters(signal.SourceAlertmanager),
		prom:  counters(signal.SourcePrometheus),
		others: map[signal.Source]sourceCounters{
			signal.SourceTicketsGeneric: counters(signal.SourceTicketsGeneric), signal.SourceZendesk: counters(signal.SourceZendesk),
			signal.SourceJSM: counters(signal.SourceJSM), signal.SourceMentionsGeneric: counters(signal.SourceMentionsGeneric),
			signal.SourceMastodon: counters(signal.SourceMastodon), signal.SourceX: counters(signal.SourceX),
			signal.SourceHeartbeat: counters(signal.SourceHeartbeat), signal.SourcePagerDuty: counters(signal.SourcePagerDuty),
		},
		truncated: f.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_alertmanager_truncated_alerts_total",
			Help: "Alerts Alertmanager left out of webhook notifications because of max_alerts.",
		}),
	}
}

// Webhook serves POST /ingest/alertmanager: an Alertmanager webhook
// notification. It answers 200 with {"accepted":N,"duplicates":M}.
func (h *IngestHandler) Webhook(c *gin.Context) {
	const src = signal.SourceAlertmanager
	buf, ok := h.readBody(c, src, h.am)
	if !ok {
		return
	}
	defer putBuffer(buf)
	meta, sigs, err := ingest.ParseWebhook(buf.Bytes(), h.clock(), h.lim)
	if err != nil {
		h.reject(c, src, h.am, buf.Bytes(), err)
		return
	}
	if meta.TruncatedAlerts > 0 {
		h.truncated.Add(float64(meta.TruncatedAlerts))
		h.log.Warn("alertmanager left alerts out of a notification; raise max_alerts on its webhook receiver",
			zap.String("group_key", meta.GroupKey), zap.String("receiver", meta.Receiver),
			zap.Uint64("truncated_alerts", meta.TruncatedAlerts))
	}
	h.store(c, src, h.am, sigs)
}

// store submits sigs and answers 200 with {"accepted":N,"duplicates":M}.
func (h *IngestHandler) store(c *gin.Context, src signal.Source, m sourceCounters, sigs []signal.Signal) {
	res, ok := h.submit(c, src, m, sigs)
	if !ok {
		return
	}
	out := make([]byte, 0, 48)
	out = append(out, `{"accepted":`...)
	out = strconv.AppendInt(out, int64(res.Accepted), 10)
	out = append(out, `,"duplicates":`...)
	out = strconv.AppendInt(out, int64(res.Duplicates), 10)
	out = append(out, '}')
	c.Data(http.StatusOK, "application/json; charset=utf-8", out)
}

// AlertsV2 serves POST /api/v2/alerts: alerts pushed by Prometheus to what
// it takes for Alertmanager's API. It answers 200 with an empty body, as
// Alertmanager does.
func (h *IngestHandler) AlertsV2(c *gin.Context) {
	const src = signal.SourcePrometheus
	buf, ok := h.readBody(c, src, h.prom)
	if !ok {
		return
	}
	defer putBuffer(buf)
	sigs, err := ingest.ParseAlertsV2(buf.Bytes(), h.clock(), h.lim)
	if err != nil {
		h.reject(c, src, h.prom, buf.Bytes(), err)
		return
	}
	if _, ok := h.submit(c, src, h.prom, sigs); !ok {
		return
	}
	c.Status(http.StatusOK)
	c.Writer.WriteHeaderNow()
}

// readBody checks the request's content type and encoding and reads its
// body, bounded by MaxBodyBytes, into a pooled buffer. If it cannot, it
// answers the request and returns false.
func (h *IngestHandler) readBody(c *gin.Context, src signal.Source, m sourceCounters) (*bytes.Buffer, bool) {
	if msg, ok := checkHeaders(c.GetHeader("Content-Type"), c.GetHeader("Content-Encoding")); !ok {
		m.rejected.Inc()
		Fail(c, http.StatusUnsupportedMediaType, msg)
		return nil, false
	}
	limit := h.lim.MaxBodyBytes
	req := c.Request
	if req.ContentLength > limit {
		m.rejected.Inc()
		Fail(c, http.StatusRequestEntityTooLarge, tooLarge(limit))
		return nil, false
	}
	buf := getBuffer()
	if req.ContentLength > 0 {
		// Room for the body and for ReadFrom's probe for EOF, so that
		// reading it never reallocates.
		buf.Grow(int(req.ContentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(c.Writer, req.Body, limit))
	if err == nil {
		return buf, true
	}
	putBuffer(buf)
	if req.Context().Err() != nil {
		Fail(c, http.StatusServiceUnavailable, "request cancelled while reading its body")
		return nil, false
	}
	m.rejected.Inc()
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		Fail(c, http.StatusRequestEntityTooLarge, tooLarge(limit))
		return nil, false
	}
	h.log.Info("reading ingest request body failed", zap.String("source", string(src)), zap.Error(err))
	Fail(c, http.StatusBadRequest, "reading request body: "+err.Error())
	return nil, false
}

// tooLarge is the message for a body over limit bytes.
func tooLarge(limit int64) string {
	return "request body is larger than " + strconv.FormatInt(limit, 10) + " bytes"
}

// checkHeaders reports whether a request's Content-Type and
// Content-Encoding headers say it carries uncompressed JSON in UTF-8, and if
// not, why.
func checkHeaders(contentType, contentEncoding string) (string, bool) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return "Content-Type must be application/json", false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "JSON must be UTF-8, not charset " + ingest.Quote(cs), false
	}
	if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") {
		return "Content-Encoding " + ingest.Quote(contentEncoding) + " is not supported; send the JSON uncompressed", false
	}
	return "", true
}

// reject answers 400 for a payload that failed to parse, counting its
// alerts (1 if it could not be decoded so far) as rejected.
func (h *IngestHandler) reject(c *gin.Context, src signal.Source, m sourceCounters, body []byte, err error) {
	var n int
	var field string
	if e, ok := errors.AsType[*ingest.Error](err); ok {
		n, field = e.Alerts, e.Field
	}
	m.rejected.Add(float64(max(n, 1)))
	h.log.Warn("rejected ingest payload", zap.String("source", string(src)), zap.Int("alerts", n),
		zap.Error(err), zap.ByteString("body_start", body[:min(len(body), maxLoggedBody)]))
	FailField(c, http.StatusBadRequest, err.Error(), field)
}

// maxLoggedBody is how many bytes of a rejected body are logged.
const maxLoggedBody = 512

// submit hands the signals to the sink and counts the outcome. If the sink
// fails, it answers the request and returns false.
func (h *IngestHandler) submit(c *gin.Context, src signal.Source, m sourceCounters, sigs []signal.Signal) (engine.Result, bool) {
	if len(sigs) == 0 {
		return engine.Result{}, true
	}
	res, err := h.sink.Submit(c.Request.Context(), sigs)
	if err == nil {
		ingest.Release(sigs) // not after an error: a request given up on may still be applied
		m.accepted.Add(float64(res.Accepted))
		m.duplicate.Add(float64(res.Duplicates))
		return res, true
	}
	switch {
	case c.Request.Context().Err() != nil:
	case errors.Is(err, engine.ErrOverloaded):
		m.throttled.Add(float64(len(sigs))) // the engine logs refusals, rate-limited
	case errors.Is(err, engine.ErrUnavailable):
		h.log.Warn("storing signals failed; sender told to retry", zap.String("source", string(src)),
			zap.Int("signals", len(sigs)), zap.Error(err))
	}
	if FailRetryable(c, err) {
		return engine.Result{}, false
	}
	h.log.Error("storing signals failed", zap.String("source", string(src)),
		zap.Int("signals", len(sigs)), zap.Error(err))
	Fail(c, http.StatusInternalServerError, "internal error storing signals")
	return engine.Result{}, false
}

// maxPooledBuffer is the largest body buffer kept for reuse: larger ones
// are rare and would pin memory.
const maxPooledBuffer = 1 << 20

// buffers holds body buffers for reuse across requests. Parsing copies
// every string out of the body, so a buffer is free again once parsed.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// getBuffer returns an empty body buffer.
func getBuffer() *bytes.Buffer {
	return buffers.Get().(*bytes.Buffer)
}

// putBuffer returns buf to the pool.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBuffer {
		return
	}
	buf.Reset()
	buffers.Put(buf)
}
