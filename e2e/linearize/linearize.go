// Package linearize records what clients saw of incidents across a cluster's
// replicas (acknowledgements, resolves and reads of an incident's status,
// each with its invoke and return times) and checks, with porcupine, that
// the history is linearizable: that it could have come from one incident
// state machine taking each operation at one instant between its invoke and
// its return.
package linearize

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Kind is what an operation does to an incident.
type Kind string

// The operations of the model.
const (
	Ack     Kind = "ack"
	Resolve Kind = "resolve"
	Read    Kind = "read"
)

// Statuses an incident can have, as the API names them.
const (
	Triggered    = "triggered"
	Acknowledged = "acknowledged"
	Resolved     = "resolved"
)

// Outcomes of an ack or resolve; a read's outcome is the status it saw.
const (
	OK       = "ok"       // the action was applied (2xx)
	Conflict = "conflict" // refused because the incident is resolved (409)
	Unknown  = "unknown"  // no definite answer: it may or may not have happened
	// Refused is an answer that says the operation was not carried out (a
	// connection refused, a node that knew of no leader to forward to): it
	// is left out of the history, as an operation that never was.
	Refused = "refused"
)

// Input is an operation's request.
type Input struct {
	Incident string
	Kind     Kind
	Node     string // the replica asked, for the visualization
}

// Output is an operation's answer: OK, Conflict or Unknown for actions, a
// status or Unknown for reads.
type Output struct {
	Result string
}

// Model is the incident state machine the history is checked against: each
// incident starts triggered; ack moves an open incident to acknowledged,
// resolve moves it to resolved, both conflict on a resolved one; a read
// returns the status. Incidents are independent, so the history is
// partitioned by incident.
var Model = porcupine.Model{
	Partition:         partition,
	Init:              func() any { return Triggered },
	Step:              step,
	DescribeOperation: describe,
	DescribeState:     func(s any) string { return s.(string) },
}

func partition(history []porcupine.Operation) [][]porcupine.Operation {
	byIncident := map[string][]porcupine.Operation{}
	for _, op := range history {
		key := op.Input.(Input).Incident
		byIncident[key] = append(byIncident[key], op)
	}
	keys := make([]string, 0, len(byIncident))
	for k := range byIncident {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, byIncident[k])
	}
	return out
}

// step applies one operation to state, and says whether its output is
// possible there. An Unknown outcome is possible anywhere: taken where the
// checker linearizes it, it has its effect; never having happened, it is
// linearized after everything else (its return time is the end of time).
func step(state, input, output any) (bool, any) {
	s, in, out := state.(string), input.(Input), output.(Output)
	open := s != Resolved
	switch in.Kind {
	case Ack:
		switch out.Result {
		case OK:
			return open, Acknowledged
		case Conflict:
			return !open, s
		case Unknown:
			if open {
				return true, Acknowledged
			}
			return true, s
		}
	case Resolve:
		switch out.Result {
		case OK:
			return open, Resolved
		case Conflict:
			return !open, s
		case Unknown:
			return true, Resolved
		}
	case Read:
		if out.Result == Unknown {
			return true, s
		}
		return out.Result == s, s
	}
	return false, s
}

func describe(input, output any) string {
	in, out := input.(Input), output.(Output)
	return fmt.Sprintf("%s %s @%s → %s", in.Kind, in.Incident, in.Node, out.Result)
}

// Recorder collects a history from many goroutines.
type Recorder struct {
	start time.Time

	mu  sync.Mutex
	ops []porcupine.Operation
}

// NewRecorder starts a history; its times count from now.
func NewRecorder() *Recorder {
	return &Recorder{start: time.Now()}
}

// Pending is one invoked operation that has not yet returned.
type Pending struct {
	r      *Recorder
	client int
	in     Input
	call   int64
}

// Invoke notes that client (a small number, one per goroutine) is about to
// send in; call Return on what comes back.
func (r *Recorder) Invoke(client int, in Input) *Pending {
	return &Pending{r: r, client: client, in: in, call: r.now()}
}

// Return records the operation with its answer. An Unknown answer is
// recorded as never returning, so that it may take effect at any time after
// its invoke, or not at all; a Refused operation, and a read with no
// answer, which changed nothing, are not recorded.
func (p *Pending) Return(result string) {
	if result == Refused || (p.in.Kind == Read && result == Unknown) {
		return
	}
	ret := p.r.now()
	if result == Unknown {
		ret = math.MaxInt64
	}
	p.r.add(porcupine.Operation{ClientId: p.client, Input: p.in, Call: p.call, Output: Output{Result: result}, Return: ret})
}

func (r *Recorder) now() int64 { return int64(time.Since(r.start)) }

func (r *Recorder) add(op porcupine.Operation) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

// Operations returns a copy of the history so far.
func (r *Recorder) Operations() []porcupine.Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]porcupine.Operation(nil), r.ops...)
}

// Result is the verdict on a history.
type Result struct {
	Ops    int
	Result porcupine.CheckResult // Ok, Illegal, or Unknown (timed out)
	info   porcupine.LinearizationInfo
}

// Check checks ops against Model, giving up (Unknown) after timeout.
func Check(ops []porcupine.Operation, timeout time.Duration) Result {
	res, info := porcupine.CheckOperationsVerbose(Model, ops, timeout)
	return Result{Ops: len(ops), Result: res, info: info}
}

// Visualize writes porcupine's HTML view of the checked history (the
// longest linearizable prefixes, and where they end) to dir/name.
func (r Result) Visualize(dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("linearize: creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, name)
	if err := porcupine.VisualizePath(Model, r.info, path); err != nil {
		return "", fmt.Errorf("linearize: writing %s: %w", path, err)
	}
	return path, nil
}

// ActionResult is the outcome of an ack or resolve that the API answered
// with status (0: no answer at all): 2xx applied it, 409 refused it because
// the incident is resolved, and anything else (an election's 503, a cut
// connection, a forward that timed out) leaves it unknown.
func ActionResult(status int) string {
	switch {
	case status >= 200 && status < 300:
		return OK
	case status == 409:
		return Conflict
	default:
		return Unknown
	}
}

// ReadResult is the outcome of a read of an incident that the API answered
// with status and, on 2xx, the incident's status field.
func ReadResult(status int, incidentStatus string) string {
	if status < 200 || status >= 300 {
		return Unknown
	}
	switch incidentStatus {
	case Triggered, Acknowledged, Resolved:
		return incidentStatus
	default:
		return Unknown
	}
}
