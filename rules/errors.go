package rules

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem found in a rule file, located by file and line.
type Error struct {
	File string
	Line int    // 0 when the problem concerns the file as a whole
	Rule string // the severity rule concerned, if any
	Msg  string
}

// Error formats the problem as "file:line: rule "name": message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinErrors sorts errs by file and line and joins them, dropping exact
// duplicates; it returns nil for none.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	out := make([]error, 0, len(errs))
	for i, e := range errs {
		if i > 0 && *errs[i-1] == *e {
			continue
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}
