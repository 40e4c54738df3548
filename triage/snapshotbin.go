package triage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// From format 9 a snapshot's alerts are stored in a binary form rather than
// as JSON. Restoring a million alerts spent most of its time parsing them
// (4 µs an alert, on both cores): quoted strings, RFC 3339 times and label
// objects that the binary form holds as lengths, integers and the label
// sets' own compact encoding (signal.Strings.Encoding).
//
// A chunk is a uvarint count of alerts, then each alert as its ID and
// fields in a fixed order: strings behind their length as a uvarint, times
// as appendBinTime writes them, stamps as varints, the hash as 8 bytes little
// endian, and the booleans in one byte of flags.

// binaryAlertsVersion is the first format whose snapshots hold binary
// alert chunks, in a container: the snapshot's JSON without its chunks (the
// frame), then the alert chunks, then the incident chunks (JSON, as
// before), each list a uvarint count of chunks, each chunk and the frame
// behind its length as a uvarint. The lengths also spare restore a pass
// over the whole snapshot to find where each chunk starts and ends.
const binaryAlertsVersion = 9

// encodeSnapshot returns the format version and the container of snap.
func encodeSnapshot(snap *snapshot) ([]byte, error) {
	alerts, incidents := snap.Alerts, snap.Incidents
	snap.Alerts, snap.Incidents = nil, nil
	frame, err := json.Marshal(snap)
	snap.Alerts, snap.Incidents = alerts, incidents
	if err != nil {
		return nil, err
	}
	size := 1 + 3*binary.MaxVarintLen64 + len(frame) // version, three lengths, frame
	for _, chunks := range [][]json.RawMessage{alerts, incidents} {
		for _, c := range chunks {
			size += binary.MaxVarintLen64 + len(c)
		}
	}
	out := make([]byte, 0, size)
	out = append(out, FormatVersion)
	out = appendBinString(out, string(frame))
	return appendChunks(appendChunks(out, alerts), incidents), nil
}

// appendChunks appends the count of chunks and each behind its length.
func appendChunks(dst []byte, chunks []json.RawMessage) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(chunks)))
	for _, c := range chunks {
		dst = append(binary.AppendUvarint(dst, uint64(len(c))), c...)
	}
	return dst
}

// decodeContainer decodes the body of a snapshot in a container format:
// the frame strictly, the chunks as sub-slices of body.
func decodeContainer(body []byte, snap *snapshot) error {
	r := binReader{b: body}
	frame := r.bytes()
	alerts := r.chunks()
	incidents := r.chunks()
	switch {
	case r.err != nil:
		return r.err
	case len(r.b) > 0:
		return fmt.Errorf("%w: %d bytes after the incidents", errBinarySnapshot, len(r.b))
	}
	if err := decodeStrict(frame, snap); err != nil {
		return err
	}
	if snap.Alerts != nil || snap.Incidents != nil {
		return fmt.Errorf("%w: chunks inside the frame", errBinarySnapshot)
	}
	snap.Alerts, snap.Incidents, snap.binaryAlerts = alerts, incidents, true
	return nil
}

// chunks reads a count of chunks and each behind its length.
func (r *binReader) chunks() []json.RawMessage {
	n := r.uvarint()
	if n > uint64(len(r.b)) { // each takes a byte at least
		r.fail("%d chunks in %d bytes", n, len(r.b))
		return nil
	}
	chunks := make([]json.RawMessage, 0, min(n, 1024)) // a damaged count asks for no more
	for range n {
		chunks = append(chunks, r.bytes())
	}
	return chunks
}

// Flags of an alert in a binary chunk.
const (
	flagFiring = 1 << iota
	flagAck
	flagsKnown = flagFiring | flagAck
)

// minBinaryAlert is the fewest bytes an alert takes in a binary chunk:
// twelve empty strings, two times, four varints, the flags and the hash.
const minBinaryAlert = 12 + 2*3 + 4 + 1 + 8

var errBinarySnapshot = errors.New("malformed binary snapshot")

// scratch holds the buffers chunks are encoded in before they are copied
// out at their size: grown in place, a chunk's buffer was copied again at
// every growth, into fresh memory.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// encodeAlertsBinary returns the binary chunk of alerts, in their order.
func encodeAlertsBinary(alerts []keyedAlert) []byte {
	buf := scratch.Get().(*[]byte)
	defer scratch.Put(buf)
	b := binary.AppendUvarint((*buf)[:0], uint64(len(alerts)))
	for _, ka := range alerts {
		b = appendAlertBinary(b, ka.id, ka.alert)
	}
	*buf = b
	return bytes.Clone(b)
}

// appendAlertBinary appends one alert, stored under id.
func appendAlertBinary(dst []byte, id string, a *Alert) []byte {
	s := &a.Signal
	for _, f := range []string{id, string(s.Source), string(s.Kind), s.Fingerprint, string(s.Status),
		s.Labels.Encoding(), s.Annotations.Encoding(), s.Text()} {
		dst = appendBinString(dst, f)
	}
	dst = appendBinTime(dst, s.StartsAt)
	dst = appendBinTime(dst, s.EndsAt)
	dst = appendBinString(dst, s.Customer())
	dst = appendBinString(dst, s.Link)
	dst = binary.AppendVarint(dst, s.Reach())
	dst = appendBinString(dst, s.RepostOf())
	var flags byte
	if a.Firing {
		flags |= flagFiring
	}
	if s.Ack {
		flags |= flagAck
	}
	dst = append(dst, flags)
	dst = binary.LittleEndian.AppendUint64(dst, a.Hash)
	dst = appendBinString(dst, a.Incident)
	for _, st := range []stamp{a.FirstSeen, a.LastSeen, a.Joined} {
		dst = binary.AppendVarint(dst, int64(st))
	}
	return dst
}

// appendBinString appends s behind its length.
func appendBinString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// appendBinTime appends t as seconds since 1970 (varint), nanoseconds
// (uvarint) and the zone's offset east of UTC in seconds (varint), which is
// what its JSON keeps: binReader.time gives it back as encoding/json would.
func appendBinTime(dst []byte, t time.Time) []byte {
	_, offset := t.Zone()
	dst = binary.AppendVarint(dst, t.Unix())
	dst = binary.AppendUvarint(dst, uint64(t.Nanosecond()))
	return binary.AppendVarint(dst, int64(offset))
}

// binReader reads a snapshot's container or one of its binary alert
// chunks. Values that repeat from alert to alert (sources, statuses,
// incidents, annotation sets) are made strings once per chunk.
type binReader struct {
	b     []byte
	err   error
	known map[string]string
	sets  map[string]signal.Strings
	zones map[int]*time.Location
}

// decodeAlertsBinary decodes a binary chunk of alerts, in its order.
func decodeAlertsBinary(chunk []byte) ([]keyedAlert, error) {
	r := binReader{b: chunk, known: map[string]string{}, sets: map[string]signal.Strings{}}
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)/minBinaryAlert) {
		return nil, fmt.Errorf("%w: %d alerts in %d bytes", errBinarySnapshot, n, len(chunk))
	}
	alerts := make([]keyedAlert, 0, n)
	for range n {
		if r.err != nil {
			break
		}
		id := string(r.bytes())
		alerts = append(alerts, keyedAlert{id, r.alert(id)})
	}
	switch {
	case r.err != nil:
		return nil, r.err
	case len(r.b) > 0:
		return nil, fmt.Errorf("%w: %d bytes after the last alert", errBinarySnapshot, len(r.b))
	}
	return alerts, nil
}

// alert reads the fields of the alert stored under id.
func (r *binReader) alert(id string) *Alert {
	a := new(Alert)
	s := &a.Signal
	s.Source = signal.Source(r.repeated())
	s.Kind = signal.Kind(r.repeated())
	s.Fingerprint = r.fingerprint(id)
	s.Status = signal.Status(r.repeated())
	s.Labels = r.set(false)
	s.Annotations = r.set(true)
	var rep signal.Report
	rep.Text = string(r.bytes())
	s.StartsAt = r.time()
	s.EndsAt = r.time()
	rep.Customer = r.repeated()
	s.Link = r.repeated()
	rep.Reach = r.varint()
	rep.RepostOf = string(r.bytes())
	s.SetReport(rep)
	flags := r.byte()
	if flags&^flagsKnown != 0 {
		r.fail("unknown flags %#x", flags)
	}
	a.Firing, s.Ack = flags&flagFiring != 0, flags&flagAck != 0
	a.Hash = r.uint64()
	a.Incident = r.repeated()
	a.FirstSeen, a.LastSeen, a.Joined = stamp(r.varint()), stamp(r.varint()), stamp(r.varint())
	return a
}

// fail records the first error; every read after it gives zero values.
func (r *binReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errBinarySnapshot, fmt.Sprintf(format, args...))
	}
	r.b = nil
}

func (r *binReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *binReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *binReader) byte() byte {
	if len(r.b) < 1 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *binReader) uint64() uint64 {
	if len(r.b) < 8 {
		r.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// bytes reads a length-prefixed string, a sub-slice of the chunk.
func (r *binReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("a string of %d bytes past the end", n)
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

// repeated reads a string that other alerts of the chunk are likely to
// hold too, allocating it once.
func (r *binReader) repeated() string {
	b := r.bytes()
	if s, ok := r.known[string(b)]; ok {
		return s
	}
	s := string(b)
	r.known[s] = s
	return s
}

// fingerprint reads a fingerprint, which shares the memory of id (kind,
// "/", fingerprint) when id ends with it, as a live alert's does.
func (r *binReader) fingerprint(id string) string {
	b := r.bytes()
	if tail := len(id) - len(b); tail >= 0 && id[tail:] == string(b) { // compared, not copied
		return id[tail:]
	}
	return string(b)
}

// set reads a label set's encoding; one shared by other alerts (an
// annotation set, usually) is checked and allocated once per chunk.
func (r *binReader) set(shared bool) signal.Strings {
	b := r.bytes()
	if shared {
		if s, ok := r.sets[string(b)]; ok {
			return s
		}
	}
	s, err := signal.StringsOfEncoding(string(b))
	if err != nil {
		r.fail("%v", err)
		return signal.Strings{}
	}
	if shared {
		r.sets[s.Encoding()] = s
	}
	return s
}

// time reads what appendBinTime wrote: in UTC when the offset is zero, as
// encoding/json parses "Z"; otherwise in the local zone when that has the
// offset then, or in a fixed zone of the offset, as time.Parse does.
func (r *binReader) time() time.Time {
	sec, nsec, offset := r.varint(), r.uvarint(), r.varint()
	switch {
	case r.err != nil:
		return time.Time{}
	case nsec >= 1e9 || offset <= -24*3600 || offset >= 24*3600:
		r.fail("bad time %d.%d%+d", sec, nsec, offset)
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if offset == 0 {
		return t.UTC()
	}
	if _, local := t.Zone(); int64(local) == offset {
		return t
	}
	return t.In(r.zone(int(offset)))
}

// zone returns a fixed zone of offset seconds east of UTC, one per chunk.
func (r *binReader) zone(offset int) *time.Location {
	if r.zones == nil {
		r.zones = map[int]*time.Location{}
	}
	z := r.zones[offset]
	if z == nil {
		z = time.FixedZone("", offset)
		r.zones[offset] = z
	}
	return z
}
