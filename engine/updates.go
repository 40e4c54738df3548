package engine

import (
	"context"

	"github.com/klaxonhq/klaxon/triage"
)

// Update journals a human decision about an incident's updates (post,
// edit, approve, withdraw) and returns once it is durable and applied; the
// error wraps triage.ErrNotFound, ErrConflict or ErrInvalid when the state
// refuses it.
func (e *Engine) Update(ctx context.Context, uc triage.UpdateChange) error {
	res, err := e.append(ctx, &triage.Entry{Update: &uc})
	if err != nil {
		return err
	}
	return res.Err
}
