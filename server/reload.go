package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Reload serves POST /-/reload: it calls reload and answers 200
// {"status":"reloaded"}, 503 or 429 with Retry-After when the engine cannot
// journal the rules now, or 400 naming what is wrong with them.
func Reload(reload func(context.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		err := reload(c.Request.Context())
		switch {
		case err == nil:
			c.JSON(http.StatusOK, gin.H{"status": "reloaded"})
		case FailRetryable(c, err):
		default:
			Fail(c, http.StatusBadRequest, err.Error())
		}
	}
}
