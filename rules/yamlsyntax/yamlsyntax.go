// Package yamlsyntax places yaml.v3 syntax errors on the line at fault, for
// the rule files and the configuration file, which people edit by hand.
package yamlsyntax

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlLineRE splits yaml.v3's "yaml: line N: problem" messages.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// maxWalkBack bounds the lines offendingLine walks back over to find the
// start of an unclosed flow collection or quoted string.
const maxWalkBack = 200

// hints explain the yaml.v3 problems a hand-edited rule file most often
// has: a mis-indented line, or a flow collection left open.
var hints = map[string]string{
	"did not find expected key":                       "check the indentation of this line against the lines above it",
	"did not find expected '-' indicator":             "check the indentation of this line against the lines above it",
	"mapping values are not allowed in this context":  "check the indentation of this line against the lines above it",
	"found a tab character that violates indentation": "indent with spaces, not tabs",
	"did not find expected ',' or ']'":                "the [ list opened here is not closed",
	"did not find expected ',' or '}'":                "the { mapping opened here is not closed",
	"found unexpected end of stream":                  "a quoted string opened here is not closed",
}

// Locate gives the line of err, a yaml.v3 syntax error found in data, and
// its problem with a hint when one helps; line is 0 when err names none.
// yaml.v3 names the line where the enclosing block starts (often the
// top-level key) rather than the offending one, so the line is the first
// whose addition makes data's prefix fail with the same problem.
func Locate(err error, data []byte) (line int, problem string) {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	line, _ = strconv.Atoi(m[1])
	problem = m[2]
	if l := offendingLine(data, line, problem); l > 0 {
		line = l
	}
	if h, ok := hints[problem]; ok {
		problem += " (" + h + ")"
	}
	return line, problem
}

// offendingLine returns the line of data that makes it fail to parse with
// problem, which yaml.v3 reported at line reported (or the line after, as
// yaml.v3 may name the line before): the first line N from there such that
// the first N lines fail with problem, found by bisection. When the first
// N-1 lines fail too, as inside a flow collection or quoted string left
// open, it walks back to the line after the longest prefix that parses.
// It returns 0 when it finds no such line.
func offendingLine(data []byte, reported int, problem string) int {
	ends := lineEnds(data)
	fails := func(n int) bool {
		m := yamlLineRE.FindStringSubmatch(fmt.Sprint(parse(data[:ends[n]])))
		return m != nil && m[2] == problem
	}
	lo, hi := max(reported-1, 1)-1, len(ends)-1
	if lo >= hi || !fails(hi) {
		return 0
	}
	if fails(lo) {
		lo = 0
	}
	for hi-lo > 1 {
		if mid := lo + (hi-lo)/2; fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	for n := hi; n > 0 && hi-n < maxWalkBack; n-- {
		if parse(data[:ends[n-1]]) == nil {
			return n
		}
	}
	return 0
}

// lineEnds gives the offset just past each line of data: ends[n] is the
// length of the first n lines, and ends[0] is 0.
func lineEnds(data []byte) []int {
	ends := []int{0}
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	return ends
}

// parse parses every YAML document in data, returning the first error.
func parse(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
