package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/triage"
)

// Deliver journals a delivery worker's report on one intent: applying it
// settles the intent or schedules its retry. It implements notify.Recorder.
func (e *Engine) Deliver(ctx context.Context, d triage.Delivery) error {
	res, err := e.append(ctx, &triage.Entry{Delivery: &d})
	if err != nil {
		return err
	}
	return res.Err
}

// SetOnCall journals new on-call files (people, schedules, escalation
// policies), unless files are what is in force. Files that do not load are
// refused before anything is journaled.
func (e *Engine) SetOnCall(ctx context.Context, files []oncall.File) (changed bool, err error) {
	if slices.EqualFunc(files, e.state.OnCallFiles(), func(a, b oncall.File) bool {
		return a.Name == b.Name && string(a.Data) == string(b.Data)
	}) {
		return false, nil
	}
	oc, err := triage.NewOnCallChange(files)
	if err != nil {
		return false, fmt.Errorf("%w: on-call files: %w", triage.ErrInvalid, err)
	}
	res, err := e.append(ctx, &triage.Entry{OnCall: oc})
	if err != nil {
		return false, err
	}
	return res.Err == nil, res.Err
}

// SetOverride journals a schedule override and returns its ID.
func (e *Engine) SetOverride(ctx context.Context, o oncall.Override) (string, error) {
	res, err := e.append(ctx, &triage.Entry{Override: &triage.OverrideChange{Set: &o}})
	if err != nil {
		return "", err
	}
	return res.Created, res.Err
}

// RemoveOverride journals the removal of a schedule override.
func (e *Engine) RemoveOverride(ctx context.Context, id string) error {
	res, err := e.append(ctx, &triage.Entry{Override: &triage.OverrideChange{Remove: id}})
	if err != nil {
		return err
	}
	return res.Err
}

// OnApplied registers fn to be called after every entry the engine
// appends is applied: the delivery workers wake on it, so that a page that
// an entry decided leaves at once.
func (e *Engine) OnApplied(fn func()) {
	e.applied = append(e.applied, fn)
}
