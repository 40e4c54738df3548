package ingest

import (
	"github.com/prometheus/common/model"

	"github.com/klaxonhq/klaxon/signal"
)

// FNV-1a, 64 bit, as github.com/prometheus/common/model hashes label sets.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fingerprint returns the label set's fingerprint exactly as Alertmanager
// computes it (model.LabelSet.Fingerprint().String()), without converting
// the set to a model.LabelSet.
func fingerprint(ls signal.Strings) string {
	h := uint64(fnvOffset64)
	for name, value := range ls.All() {
		h = fnvAdd(h, name)
		h = (h ^ uint64(model.SeparatorByte)) * fnvPrime64
		h = fnvAdd(h, value)
		h = (h ^ uint64(model.SeparatorByte)) * fnvPrime64
	}
	return hex16(h)
}

// fnvAdd adds s to the FNV-1a hash h.
func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// hex16 formats h as 16 lower-case hex digits, as fmt's %016x does.
func hex16(h uint64) string {
	const digits = "0123456789abcdef"
	var buf [16]byte
	for i := len(buf) - 1; i >= 0; i-- {
		buf[i] = digits[h&0xf]
		h >>= 4
	}
	return string(buf[:])
}
