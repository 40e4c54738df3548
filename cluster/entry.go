package cluster

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Kinds of the commands Klaxon puts in raft's log; the first byte of each.
const (
	kindRecord byte = 1 // a journal record for the FSM: time, proposal token, payload
	kindMember byte = 2 // a member's API URL, set or removed
)

// recordHeaderLen is the size of a record command's header: kind, Unix
// nanoseconds, proposal token.
const recordHeaderLen = 1 + 8 + 8

// putRecordHeader fills the header of a record command, whose data
// follows it: the record stamped nanos, proposed under token.
func putRecordHeader(cmd []byte, nanos int64, token uint64) {
	cmd[0] = kindRecord
	binary.BigEndian.PutUint64(cmd[1:], uint64(nanos))
	binary.BigEndian.PutUint64(cmd[9:], token)
}

// decodedRecord is a record command taken apart; data aliases the command.
type decodedRecord struct {
	nanos int64
	token uint64
	data  []byte
}

// errBadCommand marks a log entry this binary cannot read.
var errBadCommand = errors.New("unreadable raft command")

// decodeRecord takes a record command apart.
func decodeRecord(cmd []byte) (decodedRecord, error) {
	if len(cmd) < recordHeaderLen || cmd[0] != kindRecord {
		return decodedRecord{}, fmt.Errorf("%w: record command of %d bytes", errBadCommand, len(cmd))
	}
	return decodedRecord{
		nanos: int64(binary.BigEndian.Uint64(cmd[1:])),
		token: binary.BigEndian.Uint64(cmd[9:]),
		data:  cmd[recordHeaderLen:],
	}, nil
}

// member is a member command: a node's API URL, or its removal when URL is empty.
type member struct {
	ID  string `json:"id"`
	URL string `json:"api_url,omitempty"`
}

// encodeMember returns the command that records m.
func encodeMember(m member) []byte {
	data, _ := json.Marshal(m) // two strings always marshal
	return append([]byte{kindMember}, data...)
}

// decodeMember takes a member command apart.
func decodeMember(cmd []byte) (member, error) {
	var m member
	if len(cmd) < 1 || cmd[0] != kindMember {
		return m, fmt.Errorf("%w: member command of %d bytes", errBadCommand, len(cmd))
	}
	if err := json.Unmarshal(cmd[1:], &m); err != nil {
		return m, fmt.Errorf("%w: member command: %w", errBadCommand, err)
	}
	return m, nil
}

// recordTime turns stamped Unix nanoseconds into a record's time, in UTC as
// the embedded journal hands them out.
func recordTime(nanos int64) time.Time {
	return time.Unix(0, nanos).UTC()
}
