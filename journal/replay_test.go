package journal

import (
	"context"
	"fmt"
	"testing"
)

// decodingFSM is a Decoder: recovery hands it every record pre-decoded, on
// other goroutines, and must still apply them in order.
type decodingFSM struct {
	testFSM
	undecoded int // records applied without their decoding
}

func (f *decodingFSM) Decode(data []byte) (any, error) { return "decoded " + string(data), nil }

func (f *decodingFSM) Apply(r Record) any {
	if r.Decoded != "decoded "+string(r.Data) {
		f.undecoded++
	}
	return f.testFSM.Apply(r)
}

func TestRecoveryDecodesAheadAndAppliesInOrder(t *testing.T) {
	dir := t.TempDir()
	first := &testFSM{}
	j := openTest(t, Options{Dir: dir}, first)
	for i := range 2000 {
		if _, _, err := j.Append(context.Background(), []byte(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	crash(t, j)
	want, _, _, _ := first.state()

	second := &decodingFSM{}
	j = openTest(t, Options{Dir: dir}, second)
	defer j.Close()
	got, applied, _, err := second.state()
	if err != nil {
		t.Fatalf("replay out of order: %v", err)
	}
	if err := diffRecords(got, want); err != nil || applied != 2000 || second.undecoded != 0 {
		t.Fatalf("recovered %d records (%d without their decoding): %v", applied, second.undecoded, err)
	}
}
