package linearize

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// op is a hand-written operation: client, kind, incident, outcome, and its
// invoke and return times (return -1: never returned).
type op struct {
	client    int
	kind      Kind
	incident  string
	result    string
	call, ret int64
}

func history(ops []op) []porcupine.Operation {
	out := make([]porcupine.Operation, 0, len(ops))
	for _, o := range ops {
		ret := o.ret
		if ret < 0 {
			ret = math.MaxInt64
		}
		out = append(out, porcupine.Operation{
			ClientId: o.client,
			Input:    Input{Incident: o.incident, Kind: o.kind, Node: "n1"},
			Call:     o.call, Output: Output{Result: o.result}, Return: ret,
		})
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
		want porcupine.CheckResult
	}{
		{name: "empty", want: porcupine.Ok},
		{
			name: "sequential ack, resolve, reads",
			ops: []op{
				{0, Read, "INC-1", Triggered, 0, 1},
				{0, Ack, "INC-1", OK, 2, 3},
				{1, Read, "INC-1", Acknowledged, 4, 5},
				{1, Resolve, "INC-1", OK, 6, 7},
				{2, Ack, "INC-1", Conflict, 8, 9},
				{2, Read, "INC-1", Resolved, 10, 11},
			},
			want: porcupine.Ok,
		},
		{
			name: "concurrent ack and read may see either",
			ops: []op{
				{0, Ack, "INC-1", OK, 0, 10},
				{1, Read, "INC-1", Triggered, 1, 2},
				{2, Read, "INC-1", Acknowledged, 3, 4},
			},
			want: porcupine.Ok,
		},
		{
			name: "stale read after an acknowledged ack",
			ops: []op{
				{0, Ack, "INC-1", OK, 0, 1},
				{1, Read, "INC-1", Triggered, 2, 3},
			},
			want: porcupine.Illegal,
		},
		{
			name: "read goes back in time",
			ops: []op{
				{0, Resolve, "INC-1", OK, 0, 10},
				{1, Read, "INC-1", Resolved, 1, 2},
				{2, Read, "INC-1", Triggered, 3, 4},
			},
			want: porcupine.Illegal,
		},
		{
			name: "two resolves both succeed",
			ops: []op{
				{0, Resolve, "INC-1", OK, 0, 5},
				{1, Resolve, "INC-1", OK, 1, 6},
			},
			want: porcupine.Illegal,
		},
		{
			name: "conflict on an open incident",
			ops: []op{
				{0, Ack, "INC-1", Conflict, 0, 1},
			},
			want: porcupine.Illegal,
		},
		{
			name: "unknown resolve may have happened",
			ops: []op{
				{0, Resolve, "INC-1", Unknown, 0, -1},
				{1, Read, "INC-1", Resolved, 5, 6},
				{2, Ack, "INC-1", Conflict, 7, 8},
			},
			want: porcupine.Ok,
		},
		{
			name: "unknown resolve may not have happened",
			ops: []op{
				{0, Resolve, "INC-1", Unknown, 0, -1},
				{1, Read, "INC-1", Triggered, 5, 6},
				{2, Ack, "INC-1", OK, 7, 8},
				{2, Read, "INC-1", Acknowledged, 9, 10},
			},
			want: porcupine.Ok,
		},
		{
			name: "unknown resolve seen, then unseen",
			ops: []op{
				{0, Resolve, "INC-1", Unknown, 0, -1},
				{1, Read, "INC-1", Resolved, 5, 6},
				{2, Read, "INC-1", Triggered, 7, 8},
			},
			want: porcupine.Illegal,
		},
		{
			name: "unknown read says nothing",
			ops: []op{
				{0, Ack, "INC-1", OK, 0, 1},
				{1, Read, "INC-1", Unknown, 2, -1},
			},
			want: porcupine.Ok,
		},
		{
			name: "incidents are independent",
			ops: []op{
				{0, Resolve, "INC-1", OK, 0, 1},
				{1, Read, "INC-2", Triggered, 2, 3},
				{1, Read, "INC-1", Resolved, 4, 5},
			},
			want: porcupine.Ok,
		},
		{
			name: "one bad incident among good ones",
			ops: []op{
				{0, Resolve, "INC-1", OK, 0, 1},
				{1, Ack, "INC-2", OK, 2, 3},
				{1, Read, "INC-2", Triggered, 4, 5},
			},
			want: porcupine.Illegal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Check(history(tt.ops), time.Minute)
			if res.Result != tt.want {
				t.Fatalf("Check = %v, want %v", res.Result, tt.want)
			}
		})
	}
}

func TestRecorder(t *testing.T) {
	r := NewRecorder()
	done := make(chan struct{})
	for c := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 25 {
				p := r.Invoke(c, Input{Incident: "INC-1", Kind: Read, Node: "n1"})
				p.Return(Triggered)
			}
		}()
	}
	for range 4 {
		<-done
	}
	p := r.Invoke(9, Input{Incident: "INC-1", Kind: Ack, Node: "n2"})
	p.Return(Unknown)
	r.Invoke(9, Input{Incident: "INC-1", Kind: Resolve, Node: "n3"}).Return(Refused) // left out
	r.Invoke(9, Input{Incident: "INC-1", Kind: Read, Node: "n3"}).Return(Unknown)    // left out
	ops := r.Operations()
	if len(ops) != 101 {
		t.Fatalf("%d operations recorded, want 101", len(ops))
	}
	for _, o := range ops {
		if o.Return < o.Call {
			t.Fatalf("operation returns before it is invoked: %+v", o)
		}
	}
	if last := ops[len(ops)-1]; last.Return != math.MaxInt64 {
		t.Errorf("an unknown outcome returns at %d, want never (MaxInt64)", last.Return)
	}
	if res := Check(ops, time.Minute); res.Result != porcupine.Ok {
		t.Errorf("Check = %v, want Ok", res.Result)
	}
}

func TestVisualize(t *testing.T) {
	res := Check(history([]op{
		{0, Ack, "INC-1", OK, 0, 1},
		{1, Read, "INC-1", Triggered, 2, 3},
	}), time.Minute)
	path, err := res.Visualize(filepath.Join(t.TempDir(), "artifact"), "history.html")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "INC-1") {
		t.Errorf("%s does not show the operations", path)
	}
}

func TestOutcomes(t *testing.T) {
	actions := []struct {
		status int
		want   string
	}{
		{200, OK}, {204, OK}, {409, Conflict}, {503, Unknown}, {502, Unknown}, {404, Unknown}, {0, Unknown},
	}
	for _, tt := range actions {
		if got := ActionResult(tt.status); got != tt.want {
			t.Errorf("ActionResult(%d) = %q, want %q", tt.status, got, tt.want)
		}
	}
	reads := []struct {
		status int
		field  string
		want   string
	}{
		{200, Triggered, Triggered}, {200, Acknowledged, Acknowledged}, {200, Resolved, Resolved},
		{200, "merged", Unknown}, {503, Triggered, Unknown}, {0, "", Unknown},
	}
	for _, tt := range reads {
		if got := ReadResult(tt.status, tt.field); got != tt.want {
			t.Errorf("ReadResult(%d, %q) = %q, want %q", tt.status, tt.field, got, tt.want)
		}
	}
}
