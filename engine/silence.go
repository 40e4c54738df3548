package engine

import (
	"context"

	"github.com/klaxonhq/klaxon/triage"
)

// Silence journals a silence change (create, update or expire) and returns
// once it is durable and applied, with the ID of the silence it created or
// updated ("" for an expiry). The error wraps triage.ErrInvalid or
// triage.ErrNoSilence when the state refuses the change.
func (e *Engine) Silence(ctx context.Context, sc *triage.SilenceChange) (id string, err error) {
	res, err := e.append(ctx, &triage.Entry{Silence: sc})
	if err != nil {
		return "", err
	}
	return res.Created, res.Err
}
