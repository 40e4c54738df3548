package ingest

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

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/signal"
)

// Result is what a Sink did with a batch of signals.
type Result struct {
	// Accepted is how many signals were new and stored.
	Accepted int
	// Duplicates is how many repeated a delivery already stored.
	Duplicates int
}

// Sink stores the signals of one request. Submit returns once they are
// durable; an error wrapping journal.ErrUnavailable means "retry later".
type Sink interface {
	Submit(ctx context.Context, sigs []signal.Signal) (Result, error)
}

// Handler serves the ingest endpoints: it parses payloads, hands their
// signals to a Sink and answers the sender. Authentication is the caller's.
type Handler struct {
	sink      Sink
	lim       Limits
	clock     func() time.Time
	log       *zap.Logger
	am        sourceCounters
	prom      sourceCounters
	truncated prometheus.Counter
}

// sourceCounters are one source's children of klaxon_signals_received_total.
type sourceCounters struct {
	accepted, duplicate, rejected prometheus.Counter
}

// NewHandler returns a Handler that stores signals in sink, bounds payloads
// by lim, reads the time from clock (time.Now if nil), logs to log (nothing
// if nil) and registers its metrics with reg (none if nil).
func NewHandler(sink Sink, lim Limits, clock func() time.Time, log *zap.Logger, reg prometheus.Registerer) *Handler {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = zap.NewNop()
	}
	f := promauto.With(reg)
	received := f.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_signals_received_total",
		Help: "Signals received, by source and outcome (accepted, duplicate, rejected).",
	}, []string{"source", "outcome"})
	counters := func(src signal.Source) sourceCounters {
		return sourceCounters{
			accepted:  received.WithLabelValues(string(src), "accepted"),
			duplicate: received.WithLabelValues(string(src), "duplicate"),
			rejected:  received.WithLabelValues(string(src), "rejected"),
		}
	}
	return &Handler{
		sink:  sink,
		lim:   lim.withDefaults(),
		clock: clock,
		log:   log,
		am:    counters(signal.SourceAlertmanager),
		prom:  counters(signal.SourcePrometheus),
		truncated: f.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_alertmanager_truncated_alerts_total",
			Help: "Alerts Alertmanager left out of webhook notifications because of max_alerts.",
		}),
	}
}

// Webhook serves POST /ingest/alertmanager: an Alertmanager webhook
// notification. It answers 200 with {"accepted":N,"duplicates":M}.
func (h *Handler) Webhook(c *gin.Context) {
	const src = signal.SourceAlertmanager
	buf, ok := h.readBody(c, src, h.am)
	if !ok {
		return
	}
	defer putBuffer(buf)
	meta, sigs, n, err := parseWebhook(buf.Bytes(), h.clock(), h.lim)
	if err != nil {
		h.reject(c, src, h.am, n, buf.Bytes(), err)
		return
	}
	if meta.TruncatedAlerts > 0 {
		h.truncated.Add(float64(meta.TruncatedAlerts))
		h.log.Warn("alertmanager left alerts out of a notification; raise max_alerts on its webhook receiver",
			zap.String("group_key", meta.GroupKey), zap.String("receiver", meta.Receiver),
			zap.Uint64("truncated_alerts", meta.TruncatedAlerts))
	}
	res, ok := h.submit(c, src, h.am, sigs)
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
func (h *Handler) AlertsV2(c *gin.Context) {
	const src = signal.SourcePrometheus
	buf, ok := h.readBody(c, src, h.prom)
	if !ok {
		return
	}
	defer putBuffer(buf)
	sigs, n, err := parseAlertsV2(buf.Bytes(), h.clock(), h.lim)
	if err != nil {
		h.reject(c, src, h.prom, n, buf.Bytes(), err)
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
func (h *Handler) readBody(c *gin.Context, src signal.Source, m sourceCounters) (*bytes.Buffer, bool) {
	if msg, ok := checkHeaders(c.GetHeader("Content-Type"), c.GetHeader("Content-Encoding")); !ok {
		m.rejected.Inc()
		answerError(c, http.StatusUnsupportedMediaType, msg, "")
		return nil, false
	}
	limit := h.lim.MaxBodyBytes
	req := c.Request
	if req.ContentLength > limit {
		m.rejected.Inc()
		answerError(c, http.StatusRequestEntityTooLarge, tooLarge(limit), "")
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
		answerError(c, http.StatusServiceUnavailable, "request cancelled while reading its body", "")
		return nil, false
	}
	m.rejected.Inc()
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		answerError(c, http.StatusRequestEntityTooLarge, tooLarge(limit), "")
		return nil, false
	}
	h.log.Info("reading ingest request body failed", zap.String("source", string(src)), zap.Error(err))
	answerError(c, http.StatusBadRequest, "reading request body: "+err.Error(), "")
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
		return "JSON must be UTF-8, not charset " + quote(cs), false
	}
	if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") {
		return "Content-Encoding " + quote(contentEncoding) + " is not supported; send the JSON uncompressed", false
	}
	return "", true
}

// reject answers 400 for a payload that failed to parse, counting its n
// alerts (1 if it could not be decoded so far) as rejected.
func (h *Handler) reject(c *gin.Context, src signal.Source, m sourceCounters, n int, body []byte, err error) {
	m.rejected.Add(float64(max(n, 1)))
	var field string
	if e, ok := errors.AsType[*Error](err); ok {
		field = e.Field
	}
	h.log.Warn("rejected ingest payload", zap.String("source", string(src)), zap.Int("alerts", n),
		zap.Error(err), zap.ByteString("body_start", body[:min(len(body), maxLoggedBody)]))
	answerError(c, http.StatusBadRequest, err.Error(), field)
}

// maxLoggedBody is how many bytes of a rejected body are logged.
const maxLoggedBody = 512

// submit hands the signals to the sink and counts the outcome. If the sink
// fails, it answers the request and returns false.
func (h *Handler) submit(c *gin.Context, src signal.Source, m sourceCounters, sigs []signal.Signal) (Result, bool) {
	if len(sigs) == 0 {
		return Result{}, true
	}
	ctx := c.Request.Context()
	res, err := h.sink.Submit(ctx, sigs)
	switch {
	case err == nil:
		m.accepted.Add(float64(res.Accepted))
		m.duplicate.Add(float64(res.Duplicates))
		return res, true
	case ctx.Err() != nil:
		// The sender is gone, or the server gave up on it. Should anyone
		// still be listening, a retry is safe: deliveries are idempotent.
		answerError(c, http.StatusServiceUnavailable, "request cancelled before the signals were stored", "")
	case errors.Is(err, journal.ErrUnavailable):
		h.log.Warn("storing signals failed; sender told to retry", zap.String("source", string(src)),
			zap.Int("signals", len(sigs)), zap.Error(err))
		c.Header("Retry-After", "1")
		answerError(c, http.StatusServiceUnavailable, "signals could not be stored now; retry later", "")
	default:
		h.log.Error("storing signals failed", zap.String("source", string(src)),
			zap.Int("signals", len(sigs)), zap.Error(err))
		answerError(c, http.StatusInternalServerError, "internal error storing signals", "")
	}
	return Result{}, false
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// answerError answers with status and a JSON error body.
func answerError(c *gin.Context, status int, msg, field string) {
	c.AbortWithStatusJSON(status, errorBody{Error: msg, Field: field})
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
