package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// FormatVersion is the version of the entry and snapshot encoding this
// binary writes. It reads every version from 1 up to it:
//
//   - 1: bare JSON (the first byte is '{').
//   - 2: one version byte, then the JSON of format 1, decoded strictly: an
//     unknown entry kind or field is an error, not something to skip.
//   - 3: the outbox and paging: delivery, on-call, schedule-override and
//     silence entries, the escalate action; intents, the notification log,
//     escalations, on-call files, overrides and silences in the snapshot.
//   - 4: an alert records when it joined its incident (joined); an archived
//     incident's signals give their effective status and why it differs
//     from the last delivery's (statusReason), and no longer "firing";
//     incidents keep all-time totals beside their windowed counts; tickets
//     and mentions wait in pools (in the snapshot) until an incident takes
//     them; correlation settings carry reopen_within.
//   - 5: incident updates: the update entry (post, edit, approve, withdraw)
//     and each incident's updates per audience (updates) in the snapshot;
//     the maintenance entry and maintenance windows in the snapshot.
//   - 6: incident roles: the assign_role and unassign_role actions (role,
//     person) and each incident's roles, roleHistory and roleReminders.
//   - 7: human timeline entries: the timeline_post, timeline_correct and
//     timeline_strike actions (entryKind, entry, at) and each incident's
//     humanEntries in the snapshot and the archive.
//     Also in 7, resolution: final-message intents (kind final, message.final with
//     the incident's figures) and each incident's pagesSent.
//     Also in 7, chat rooms: the chat entry (settings), a delivery's ref, chat
//     intents (chat), each incident's responders and chat room, and the
//     chat settings in the snapshot.
//     Also in 7, the chat room's final message: the post that tells an
//     incident resolved carries its figures (message.final).
//   - 8: reopened chat rooms: the unarchive chat intent (chat.op "unarchive")
//     and each chat room's gate, the archive or unarchive it waits for.
//   - 9: snapshots hold their alerts in a binary form, in a container of
//     length-prefixed chunks (snapshotbin.go); entries are as in 8.
//
// Golden files in testdata/ pin the encoding of every entry kind and of a
// snapshot, and a data directory of every earlier format must keep opening.
const FormatVersion = 9

// FormatError says that stored bytes are in a format this binary cannot
// read: written by a newer Klaxon, or damaged.
type FormatError struct {
	What    string // "entry" or "snapshot"
	Version int    // the version found; 0 if none could be read
	Err     error  // what is wrong beyond the version, if anything
}

func (e *FormatError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s format version %d: %v", e.What, e.Version, e.Err)
	}
	return fmt.Sprintf("%s format version %d is not one this binary reads (1 to %d): run a Klaxon at least as new as the one that wrote it",
		e.What, e.Version, FormatVersion)
}

func (e *FormatError) Unwrap() error { return e.Err }

// decodeFormat checks the version of stored bytes and decodes the JSON
// behind it strictly into v.
func decodeFormat(what string, data []byte, v any) error {
	version, body, err := formatBody(what, data)
	if err != nil {
		return err
	}
	if err := decodeStrict(body, v); err != nil {
		return &FormatError{What: what, Version: version, Err: err}
	}
	return nil
}

// formatBody returns the format version data is in and its JSON body, or
// a *FormatError for a version this binary does not know.
func formatBody(what string, data []byte) (version int, body []byte, err error) {
	switch {
	case len(data) == 0:
		return 0, nil, &FormatError{What: what, Err: errors.New("no data")}
	case data[0] == '{':
		return 1, data, nil
	case data[0] >= 2 && data[0] <= FormatVersion:
		return int(data[0]), data[1:], nil
	}
	return 0, nil, &FormatError{What: what, Version: int(data[0])}
}

// decodeStrict decodes JSON into v, refusing unknown fields and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() || int(dec.InputOffset()) != len(bytes.TrimRight(data, " \t\r\n")) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// appendJSON appends the JSON encoding of v to dst.
func appendJSON(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}
