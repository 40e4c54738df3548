package journal

import (
	"bytes"
	"context"
	"testing"
)

// countFSM applies records by counting them, so benchmarks measure the
// journal rather than the state machine.
type countFSM struct{ n uint64 }

func (f *countFSM) Apply(Record) any { f.n++; return nil }

func (f *countFSM) Snapshot() SnapshotFunc {
	data := []byte{byte(f.n)}
	return func() ([]byte, error) { return data, nil }
}

func (f *countFSM) Restore([]byte) error { return nil }

func BenchmarkAppendParallel(b *testing.B) {
	j := openTest(b, Options{Dir: b.TempDir()}, &countFSM{})
	defer j.Close()
	data := bytes.Repeat([]byte("a"), 512)
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := j.Append(context.Background(), data, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRecover measures reopening a journal of 120,000 records of 512
// bytes with the default snapshot interval.
func BenchmarkRecover(b *testing.B) {
	const records = 120_000
	dir := b.TempDir()
	j := openTest(b, Options{Dir: dir}, &countFSM{})
	data := bytes.Repeat([]byte("a"), 512)
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 64)
	for range 64 {
		go func() {
			for j.LastSeq() < records && ctx.Err() == nil {
				if _, _, err := j.Append(ctx, data, nil); err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	cancel()
	crash(b, j)
	b.ResetTimer()
	for b.Loop() {
		j := openTest(b, Options{Dir: dir}, &countFSM{})
		b.ReportMetric(float64(j.replayed), "replayed")
		crash(b, j)
	}
}
