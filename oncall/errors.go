package oncall

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem in an on-call file, located by file and line.
type Error struct {
	File string
	Line int // 0 when the problem concerns the file as a whole
	Msg  string
}

// Error formats the problem as "file:line: message".
func (e *Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// sortedJoin orders problems by file, line and message, drops repeats and joins them.
func sortedJoin(list []*Error) error {
	slices.SortStableFunc(list, func(a, b *Error) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), strings.Compare(a.Msg, b.Msg))
	})
	list = slices.CompactFunc(list, func(a, b *Error) bool { return *a == *b })
	out := make([]error, len(list))
	for i, e := range list {
		out[i] = e
	}
	return errors.Join(out...)
}
