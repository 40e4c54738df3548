package triage

import (
	"encoding/binary"
	"hash/fnv"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/signal"
)

// fnvHashSignal is hashSignal as it was written over hash/fnv: the hash is
// in every alert of every snapshot, so it must not change.
func fnvHashSignal(sig *signal.Signal) uint64 {
	var buf [8]byte
	h := fnv.New64a()
	str := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	num := func(n int64) { binary.LittleEndian.PutUint64(buf[:], uint64(n)); h.Write(buf[:]) }
	str(string(sig.Source))
	str(string(sig.Status))
	num(sig.StartsAt.UnixNano())
	num(sig.EndsAt.UnixNano())
	str(sig.Text())
	str(sig.Customer())
	str(sig.Link)
	num(sig.Reach())
	if sig.RepostOf() != "" {
		str("repost:" + sig.RepostOf())
	}
	if sig.Ack {
		str("ack")
	}
	num(int64(stringsHash(sig.Annotations)))
	num(int64(sig.Annotations.Len()))
	return h.Sum64()
}

func TestHashSignalIsFNV(t *testing.T) {
	end := t0.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		sig  signal.Signal
	}{
		{"firing", firing("alertname", "A", "service", "api")},
		{"annotated", signal.Signal{Source: "am", Status: signal.StatusFiring, StartsAt: t0,
			Annotations: signal.StringsFrom(map[string]string{"summary": "disk full", "runbook": "https://x/é"})}},
		{"resolved before 1970", signal.Signal{Status: signal.StatusResolved, StartsAt: time.Unix(-5, 0), EndsAt: end}},
		{"mention", signal.Signal{Kind: signal.KindMention, Report: &signal.Report{Text: "down?", Customer: "acme", Reach: -3}, Link: "l"}},
		{"repost and ack", signal.Signal{Report: &signal.Report{RepostOf: "x"}, Ack: true}},
		{"empty", signal.Signal{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := hashSignal(&tc.sig), fnvHashSignal(&tc.sig); got != want {
				t.Errorf("hashSignal = %x, hash/fnv gives %x", got, want)
			}
		})
	}
}
