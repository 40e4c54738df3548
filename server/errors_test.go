package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/triage"
)

// TestReloadAnswers checks what POST /-/reload answers for each outcome
// of a reload, through the one error writer.
func TestReloadAnswers(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		ctxDone    bool
		wantCode   int
		wantBody   string
		retryAfter string
	}{
		{"reloaded", nil, false, 200, `{"status":"reloaded"}`, ""},
		{"broken rules", fmt.Errorf("%w: rules/a.yml:3: unknown key", triage.ErrInvalid), false, 400,
			`{"error":"invalid action: rules/a.yml:3: unknown key"}`, ""},
		{"store unavailable", fmt.Errorf("append to journal: %w", journal.ErrClosed), false, 503,
			`{"error":"store unavailable; retry later"}`, "1"},
		{"overloaded", fmt.Errorf("%w: 3 over", engine.ErrOverloaded), false, 429,
			`{"error":"too many active alerts: 3 over; resolved alerts and re-sends of active ones are still accepted"}`, "60"},
		{"request gone", context.Canceled, true, 503,
			`{"error":"request ended before it was stored; retry later"}`, "1"},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), false, 503,
			`{"error":"request ended before it was stored; retry later"}`, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gin.SetMode(gin.TestMode)
			r := gin.New()
			r.POST("/-/reload", Reload(func(context.Context) error { return tt.err }))
			ctx, cancel := context.WithCancel(t.Context())
			if tt.ctxDone {
				cancel()
			}
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/-/reload", nil)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
		})
	}
	if !errors.Is(journal.ErrClosed, engine.ErrUnavailable) {
		t.Error("a closed journal is not unavailable to the engine's callers")
	}
}
