package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// unmatched is the handler label and logged route of requests no route matched.
const unmatched = "unmatched"

// observe records every request's duration and writes its access log line:
// the route pattern, never the raw URL, and never any header.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	took := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = unmatched
	}
	method := methodLabel(c.Request.Method)
	status := c.Writer.Status()
	s.duration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())

	level := zapcore.DebugLevel
	switch {
	case status >= 500:
		level = zapcore.ErrorLevel
	case status >= 400:
		level = zapcore.InfoLevel
	}
	if ce := s.log.Check(level, "http request"); ce != nil {
		ce.Write(
			zap.String("method", method),
			zap.String("route", route),
			zap.Int("status", status),
			zap.Duration("duration", took),
			zap.String("remote", c.Request.RemoteAddr),
			zap.String("principal", Principal(c)),
		)
	}
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// recoverPanic turns a handler's panic into a logged error (with its stack)
// and a 500 answer, keeping the server up. http.ErrAbortHandler is passed on
// for net/http to abort the response as intended.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(v)
		}
		s.log.Error("panic while serving a request",
			zap.Any("panic", v),
			zap.String("method", methodLabel(c.Request.Method)),
			zap.String("route", c.FullPath()),
			zap.Stack("stack"),
		)
		if c.Writer.Written() {
			c.Abort()
			return
		}
		Fail(c, http.StatusInternalServerError, "internal error")
	}()
	c.Next()
}

// secureHeaders sets the headers every answer carries.
func secureHeaders(c *gin.Context) {
	c.Header("X-Content-Type-Options", "nosniff")
}

// limitBody caps how much of the request body handlers can read; reading
// past it fails with an *http.MaxBytesError.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.Server.MaxBodyBytes)
	}
}
