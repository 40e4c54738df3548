package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

// Archive reads the incidents that left the live state for the journal's
// archive (journal.Journal).
type Archive interface {
	Archived(key string) (journal.ArchiveItem, bool, error)
	ScanArchive(after string, fn func(journal.ArchiveItem) (bool, error)) error
}

// archived returns an archived incident with up to limit of its signals
// from offset.
func (h *Incidents) archived(key string, offset, limit int) (triage.Detail, bool, error) {
	item, ok, err := h.archive.Archived(key)
	if err != nil || !ok {
		return triage.Detail{}, false, err
	}
	d, err := triage.DecodeArchived(item.Data)
	if err != nil {
		return triage.Detail{}, false, fmt.Errorf("archived incident %s: %w", key, err)
	}
	from := min(offset, len(d.Signals))
	d.Signals = d.Signals[from:min(from+limit, len(d.Signals))]
	return d, true, nil
}

// listArchived answers GET /api/v1/incidents?archived=true: the incidents
// that left the live state, most recently archived first, paged by the key
// of the last one returned.
func (h *Incidents) listArchived(c *gin.Context, f triage.Filter) {
	if f.Limit == 0 {
		f.Limit = triage.DefaultLimit
	}
	var out []triage.Summary
	next := ""
	err := h.archive.ScanArchive(c.Query("cursor"), func(item journal.ArchiveItem) (bool, error) {
		if len(out) == f.Limit {
			next = out[len(out)-1].Key
			return false, nil
		}
		d, err := triage.DecodeArchived(item.Data)
		if err != nil {
			return false, fmt.Errorf("archived incident %s: %w", item.Key, err)
		}
		if d.Summary.Matches(f) {
			out = append(out, d.Summary)
		}
		return true, nil
	})
	switch {
	case errors.Is(err, journal.ErrUnknownCursor):
		failBad(c, badField("cursor", "not a cursor this API returned, or archived too long ago"))
		return
	case err != nil:
		failRead(c, err)
		return
	}
	body := gin.H{"incidents": append([]triage.Summary{}, out...)}
	if next != "" {
		body["nextCursor"] = next
	}
	c.JSON(http.StatusOK, body)
}

// failRead answers a failure to read the store: 503 when a retry may cure
// it, else 500 (logged by the middleware).
func failRead(c *gin.Context, err error) {
	if !server.FailRetryable(c, err) {
		_ = c.Error(err)
		server.Fail(c, http.StatusInternalServerError, "internal error")
	}
}
