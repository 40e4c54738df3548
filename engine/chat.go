package engine

import (
	"context"

	"github.com/klaxonhq/klaxon/triage"
)

// SetChat journals chat-room settings (nil turns chat rooms off), unless
// they are what is in force.
func (e *Engine) SetChat(ctx context.Context, st *triage.ChatSettings) (changed bool, err error) {
	cur := e.state.ChatSettings()
	if cur == nil && st == nil || cur != nil && st != nil && *cur == *st {
		return false, nil
	}
	res, err := e.append(ctx, &triage.Entry{Chat: &triage.ChatChange{Settings: st}})
	if err != nil {
		return false, err
	}
	return res.Err == nil, res.Err
}
