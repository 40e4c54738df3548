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

// Maintenance journals a maintenance window's scheduling or cancellation
// and returns the new window's ID ("" for a cancellation); the error wraps
// triage.ErrNotFound, ErrConflict or ErrInvalid when the state refuses it.
func (e *Engine) Maintenance(ctx context.Context, mc triage.MaintenanceChange) (string, error) {
	res, err := e.append(ctx, &triage.Entry{Maintenance: &mc})
	if err != nil {
		return "", err
	}
	return res.Created, res.Err
}
