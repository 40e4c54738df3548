package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/engine"
)

// ErrorBody is the JSON body of every error answer Klaxon gives.
type ErrorBody struct {
	// Error says what is wrong.
	Error string `json:"error"`
	// Field is the JSON path of the offending value, when one is to blame.
	Field string `json:"field,omitempty"`
}

// Retry-After values, in seconds, for answers a retry may cure.
const (
	// retryUnavailable is for a store that cannot write now.
	retryUnavailable = 1
	// retryOverloaded is for a state holding too many alerts: they leave
	// only as incidents resolve and are pruned, so retrying at once is futile.
	retryOverloaded = 60
)

// Fail answers status with {"error": msg} and stops the handler chain.
func Fail(c *gin.Context, status int, msg string) {
	FailField(c, status, msg, "")
}

// FailField answers status with {"error": msg, "field": field} and stops
// the handler chain. It is the one place error answers are written.
func FailField(c *gin.Context, status int, msg, field string) {
	c.AbortWithStatusJSON(status, ErrorBody{Error: msg, Field: field})
}

// FailRetryable answers an engine error that a retry may cure, with
// Retry-After, and reports whether err was one: 429 for engine.ErrOverloaded,
// 503 for engine.ErrUnavailable or a request that ended (cancelled, timed
// out) before its entry was stored. Other errors are left to the caller.
func FailRetryable(c *gin.Context, err error) bool {
	switch {
	case c.Request.Context().Err() != nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The sender is gone, or the server gave up on it. Should anyone
		// still be listening, a retry is safe: deliveries are idempotent.
		c.Header("Retry-After", strconv.Itoa(retryUnavailable))
		Fail(c, http.StatusServiceUnavailable, "request ended before it was stored; retry later")
	case errors.Is(err, engine.ErrOverloaded):
		c.Header("Retry-After", strconv.Itoa(retryOverloaded))
		Fail(c, http.StatusTooManyRequests, err.Error()+"; resolved alerts and re-sends of active ones are still accepted")
	case errors.Is(err, engine.ErrUnavailable):
		c.Header("Retry-After", strconv.Itoa(retryUnavailable))
		Fail(c, http.StatusServiceUnavailable, "store unavailable; retry later")
	default:
		return false
	}
	return true
}
