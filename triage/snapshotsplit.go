package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Restoring a snapshot of a million alerts used to go through
// encoding/json's Decoder for the whole document: it copies the document
// into its buffer, scans it twice, and copies every chunk of alerts and
// incidents into a RawMessage, all on one core, before the chunks decode in
// parallel. splitSnapshot instead finds the chunks with one pass that only
// looks for strings and brackets, and hands them on as sub-slices of the
// document; the rest of the document (small) is decoded strictly as before.
// The chunks are checked by the json.Unmarshal that decodes each. This is
// how snapshots of formats 1 to 8 restore; format 9's container holds its
// chunks behind their lengths (snapshotbin.go).

// The keys of the snapshot's chunk arrays.
const (
	alertsKey    = "alerts"
	incidentsKey = "incidents"
)

var errSnapshotSyntax = errors.New("malformed snapshot JSON")

// splitSnapshot splits the JSON object body into the elements of its
// "alerts" and "incidents" arrays (sub-slices of body, not copies) and the
// object without those two members, for strict decoding.
func splitSnapshot(body []byte) (rest []byte, alerts, incidents []json.RawMessage, err error) {
	i := skipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, nil, nil, errSnapshotSyntax
	}
	rest = append(make([]byte, 0, 1024), '{')
	i = skipWS(body, i+1)
	var seenAlerts, seenIncidents bool
	for i < len(body) && body[i] != '}' {
		keyStart := i
		keyEnd, err := skipString(body, i)
		if err != nil {
			return nil, nil, nil, err
		}
		i = skipWS(body, keyEnd)
		if i >= len(body) || body[i] != ':' {
			return nil, nil, nil, errSnapshotSyntax
		}
		valStart := skipWS(body, i+1)
		key, err := memberName(body[keyStart:keyEnd])
		if err != nil {
			return nil, nil, nil, err
		}
		var valEnd int
		switch {
		case key == alertsKey && seenAlerts, key == incidentsKey && seenIncidents:
			return nil, nil, nil, fmt.Errorf("%w: %q twice", errSnapshotSyntax, key)
		case key == alertsKey:
			seenAlerts = true
			alerts, valEnd, err = splitArray(body, valStart)
		case key == incidentsKey:
			seenIncidents = true
			incidents, valEnd, err = splitArray(body, valStart)
		default:
			if valEnd, err = skipValue(body, valStart); err == nil {
				if len(rest) > 1 {
					rest = append(rest, ',')
				}
				rest = append(rest, body[keyStart:valEnd]...)
			}
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", key, err)
		}
		if i, err = next(body, valEnd, '}'); err != nil {
			return nil, nil, nil, err
		}
	}
	if i >= len(body) {
		return nil, nil, nil, errSnapshotSyntax
	}
	if skipWS(body, i+1) != len(body) {
		return nil, nil, nil, errors.New("trailing data after the JSON value")
	}
	return append(rest, '}'), alerts, incidents, nil
}

// memberName returns the name of an object member, the JSON string raw,
// lower-cased if it names one of the chunk arrays in any case, as
// encoding/json matches names to fields.
func memberName(raw []byte) (string, error) {
	name := string(raw[1 : len(raw)-1])
	if bytes.IndexByte(raw, '\\') >= 0 {
		if err := json.Unmarshal(raw, &name); err != nil {
			return "", err
		}
	}
	for _, key := range []string{alertsKey, incidentsKey} {
		if strings.EqualFold(name, key) {
			return key, nil
		}
	}
	return name, nil
}

// splitArray returns the elements of the JSON array that starts at b[i]
// (nil for null), found in one pass, and the index just after it.
func splitArray(b []byte, i int) (elems []json.RawMessage, end int, err error) {
	if i >= len(b) || b[i] != '[' {
		end, err := skipValue(b, i)
		if err != nil || string(b[i:end]) != "null" {
			return nil, 0, errSnapshotSyntax
		}
		return nil, end, nil
	}
	elems = []json.RawMessage{}
	i = skipWS(b, i+1)
	for i < len(b) && b[i] != ']' {
		end, err := skipValue(b, i)
		if err != nil {
			return nil, 0, err
		}
		elems = append(elems, b[i:end:end])
		if i, err = next(b, end, ']'); err != nil {
			return nil, 0, err
		}
	}
	if i >= len(b) {
		return nil, 0, errSnapshotSyntax
	}
	return elems, i + 1, nil
}

// next returns the index of what follows the member or element that ends
// at b[i]: after a comma, the next one (which must be there), or the
// closing bracket.
func next(b []byte, i int, closing byte) (int, error) {
	i = skipWS(b, i)
	switch {
	case i < len(b) && b[i] == closing:
		return i, nil
	case i < len(b) && b[i] == ',':
		i = skipWS(b, i+1)
		if i >= len(b) || b[i] == closing {
			return 0, errSnapshotSyntax
		}
		return i, nil
	}
	return 0, errSnapshotSyntax
}

// skipValue returns the index just after the JSON value starting at b[i]:
// an object or array (to its matching bracket), a string, or a literal.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSnapshotSyntax
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
	default:
		start := i
		for i < len(b) && bytes.IndexByte([]byte(",}] \t\r\n"), b[i]) < 0 {
			i++
		}
		if i == start {
			return 0, errSnapshotSyntax
		}
		return i, nil
	}
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			end, err := skipString(b, i)
			if err != nil {
				return 0, err
			}
			i = end
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
		i++
	}
	return 0, errSnapshotSyntax
}

// skipString returns the index just after the JSON string starting at b[i].
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errSnapshotSyntax
	}
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errSnapshotSyntax
		}
		j += k
		backslashes := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// skipWS returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// decodeSnapshot decodes a snapshot of any format this binary reads, its
// chunks of alerts and incidents left as sub-slices of data: a container
// from format 9, otherwise a JSON document split as decodeFormat would
// decode it.
func decodeSnapshot(data []byte, snap *snapshot) error {
	const what = "snapshot"
	version, body, err := formatBody(what, data)
	if err != nil {
		return err
	}
	if version >= binaryAlertsVersion {
		if err := decodeContainer(body, snap); err != nil {
			return &FormatError{What: what, Version: version, Err: err}
		}
		return nil
	}
	rest, alerts, incidents, err := splitSnapshot(body)
	if err == nil {
		err = decodeStrict(rest, snap)
	}
	if err != nil {
		return &FormatError{What: what, Version: version, Err: err}
	}
	snap.Alerts, snap.Incidents = alerts, incidents
	return nil
}
