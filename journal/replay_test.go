package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// decodingFSM is a Decoder: recovery hands it every record pre-decoded, on
// other goroutines, and must still apply them in order.
type decodingFSM struct {
	testFSM
	undecoded int            // records applied without their decoding
	buffers   map[*byte]bool // where the records applied were, if noted
}

func (f *decodingFSM) Decode(data []byte) (any, error) { return "decoded " + string(data), nil }

// Apply keeps a copy of Data, as a Decoder must: recovery reuses the
// buffer once the record is applied.
func (f *decodingFSM) Apply(r Record) any {
	if r.Decoded != "decoded "+string(r.Data) {
		f.undecoded++
	}
	if f.buffers != nil {
		f.buffers[unsafe.SliceData(r.Data)] = true
	}
	r.Data = bytes.Clone(r.Data)
	return f.testFSM.Apply(r)
}

func TestRecoveryDecodesAheadAndAppliesInOrder(t *testing.T) {
	dir, want := crashedJournal(t, 2000, strconv.Itoa)
	second := &decodingFSM{}
	j := openTest(t, Options{Dir: dir}, second)
	defer j.Close()
	got, applied, _, err := second.state()
	if err != nil {
		t.Fatalf("replay out of order: %v", err)
	}
	if err := diffRecords(got, want); err != nil || applied != 2000 || second.undecoded != 0 {
		t.Fatalf("recovered %d records (%d without their decoding): %v", applied, second.undecoded, err)
	}
}

// TestRecoveryReusesBuffers checks that recovery reads records into the
// buffers of records already applied, and that no record's bytes change
// before it is applied (its decoding, made from them, still matches).
func TestRecoveryReusesBuffers(t *testing.T) {
	const records = 2000
	dir, want := crashedJournal(t, records, func(i int) string { return fmt.Sprintf("%04d %s", i, strings.Repeat("x", 100+i%50)) })
	second := &decodingFSM{buffers: map[*byte]bool{}}
	j := openTest(t, Options{Dir: dir}, second)
	defer j.Close()
	got, applied, _, err := second.state()
	if err := errors.Join(err, diffRecords(got, want)); err != nil || applied != records || second.undecoded != 0 {
		t.Fatalf("recovered %d records (%d not as decoded): %v", applied, second.undecoded, err)
	}
	if n := len(second.buffers); n > records/2 {
		t.Errorf("%d records were read into %d buffers: few were reused", records, n)
	}
}

// reusingFSM is a Reuser: it counts the decodings made into the room of an
// applied record, and those handed a record not applied yet.
type reusingFSM struct {
	decodingFSM
	reused, early int
}

// decodedBox is what reusingFSM decodes a record into.
type decodedBox struct {
	text    string
	applied bool
}

func (f *reusingFSM) DecodeReusing(data []byte, applied any) (any, error) {
	box, _ := applied.(*decodedBox)
	switch {
	case box == nil:
		box = new(decodedBox)
	case !box.applied:
		f.early++
	default:
		f.reused++
	}
	*box = decodedBox{text: "decoded " + string(data)}
	return box, nil
}

func (f *reusingFSM) Apply(r Record) any {
	box := r.Decoded.(*decodedBox)
	box.applied = true
	r.Decoded = box.text
	return f.decodingFSM.Apply(r)
}

// TestRecoveryReusesDecodings checks that recovery hands a Reuser the
// decodings of applied records, and only of applied ones.
func TestRecoveryReusesDecodings(t *testing.T) {
	const records = 2000
	dir, want := crashedJournal(t, records, strconv.Itoa)
	second := &reusingFSM{}
	j := openTest(t, Options{Dir: dir}, second)
	defer j.Close()
	got, applied, _, err := second.state()
	if err := errors.Join(err, diffRecords(got, want)); err != nil || applied != records || second.undecoded != 0 {
		t.Fatalf("recovered %d records (%d not as decoded): %v", applied, second.undecoded, err)
	}
	if second.early != 0 {
		t.Errorf("%d records were decoded into a record not applied yet", second.early)
	}
	if second.reused < records/2 {
		t.Errorf("%d of %d records were decoded into an applied one's room: few", second.reused, records)
	}
}

// crashedJournal appends records data(0) to data(records-1) to a journal in
// a new directory and crashes it; it returns the directory and the records
// as they were applied.
func crashedJournal(t *testing.T, records int, data func(int) string) (string, []Record) {
	t.Helper()
	dir := t.TempDir()
	fsm := &testFSM{}
	j := openTest(t, Options{Dir: dir}, fsm)
	for i := range records {
		if _, _, err := j.Append(context.Background(), []byte(data(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	crash(t, j)
	recs, _, _, _ := fsm.state()
	return dir, recs
}
