package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/server"
	"github.com/klaxonhq/klaxon/triage"
)

// fieldError is a bad query parameter or body field, which the answer
// names in its "field".
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// badField is a fieldError with a formatted message.
func badField(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// failBad answers 400 with err, and its field when it names one.
func failBad(c *gin.Context, err error) {
	field := ""
	if fe, ok := errors.AsType[*fieldError](err); ok {
		field = fe.field
	}
	server.FailField(c, http.StatusBadRequest, err.Error(), field)
}

// Query parameters are camelCase, as JSON fields are (and as Alertmanager's
// API v2 names its fields). oldParams maps each name that was snake_case
// before to that old name, which is still accepted for one release.
var oldParams = map[string]string{
	"signalsOffset": "signals_offset",
	"signalsLimit":  "signals_limit",
}

// query gives the value of the named query parameter, or of its old
// snake_case alias, which it answers with a Warning header saying so.
// Giving both is an error, since they could disagree.
func query(c *gin.Context, name string) (string, error) {
	v, ok := c.GetQuery(name)
	old, hasOld := oldParams[name]
	if !hasOld {
		return v, nil
	}
	ov, okOld := c.GetQuery(old)
	switch {
	case ok && okOld:
		return "", badField(name, "given twice, also as %s; give only %s", old, name)
	case okOld:
		c.Writer.Header().Add("Warning", fmt.Sprintf(`299 klaxon "%s is deprecated and will be removed; use %s"`, old, name))
		return ov, nil
	}
	return v, nil
}

// statuses are the valid values of the status filter.
var statuses = []string{"open", string(triage.StatusTriggered), string(triage.StatusAcknowledged), string(triage.StatusResolved)}

// checkStatus accepts an empty status filter or one of statuses.
func checkStatus(status string) error {
	for _, s := range statuses {
		if status == "" || status == s {
			return nil
		}
	}
	return badField("status", "unknown status %q; valid: %s", status, strings.Join(statuses, ", "))
}

// level turns a level name given in any case ("sev1") into the name the
// rules in force define ("SEV1"); an unknown name is an error that lists
// the defined ones, most severe first.
func level(set *rules.Set, field, name string) (string, error) {
	if l, ok := set.Level(name); ok {
		return l.String(), nil
	}
	defs := set.Levels()
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	return "", badField(field, "unknown level %q; the rules in force define %s", name, strings.Join(names, ", "))
}
