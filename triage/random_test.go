package triage

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
)

const depRules2 = `
services:
  db:
    display_name: DB
    tier: 1
    matchers: ['{service="db"}']
    correlation:
      quiet_period: 3m
  api:
    display_name: API
    tier: 1
    matchers: ['{service="api"}']
    depends_on: [db]
  web:
    display_name: Web
    tier: 1
    matchers: ['{service="web"}']
    depends_on: [api]
severity:
  rules:
    - name: many
      level: SEV1
      description: many
      when: {count: {of: alerts, window: 5m, ">=": 4}}
    - name: long
      level: SEV2
      description: long
      when: {duration: {">=": 10m}}
    - name: a1-staging
      level: SEV2
      description: A1 fires in staging
      when:
        all:
          - match: '{alertname="A1"}'
          - any:
              - match: '{env="staging"}'
              - match: '{instance="2"}'
`

func randomHistory(t *testing.T, seed int64) *machine {
	r := rand.New(rand.NewSource(seed))
	m := newMachine(t, nil)
	at := t0
	svcs := []string{"db", "api", "web", "other"}
	ruleSets := [][]rules.File{
		{{Name: "r.yml", Data: []byte(depRules)}},
		{{Name: "r.yml", Data: []byte(depRules2)}},
	}
	starts := map[string]time.Time{}
	for range 300 {
		at = at.Add(time.Duration(r.Intn(240)) * time.Second)
		switch k := r.Intn(20); {
		case k < 12:
			svc := svcs[r.Intn(len(svcs))]
			env := []string{"prod", "staging"}[r.Intn(2)]
			name := fmt.Sprintf("A%d", r.Intn(3))
			a := alert(signal.StatusFiring, at, "alertname", name, "service", svc, "env", env, "instance", fmt.Sprint(r.Intn(3)))
			if st, ok := starts[a.Fingerprint]; ok && r.Intn(3) > 0 {
				a.StartsAt = st
			}
			starts[a.Fingerprint] = a.StartsAt
			if r.Intn(3) == 0 {
				a.Source, a.EndsAt = signal.SourcePrometheus, at.Add(time.Duration(1+r.Intn(6))*time.Minute)
			}
			if r.Intn(4) == 0 {
				a = resolved(a, at)
			}
			if r.Intn(5) == 0 {
				c := fmt.Sprint("c", r.Intn(4))
				editReport(&a, func(rep *signal.Report) { rep.Customer = c })
			}
			m.signals(at, a)
		case k < 14:
			m.tick(at)
		case k < 15:
			_ = m.act(at, Action{Kind: ActionAck, Incident: fmt.Sprintf("INC-%d", 1+r.Intn(int(m.s.nextInc))), By: "x"})
		case k < 16:
			_ = m.act(at, Action{Kind: ActionResolve, Incident: fmt.Sprintf("INC-%d", 1+r.Intn(int(m.s.nextInc))), By: "x"})
		case k < 17:
			_ = m.act(at, Action{Kind: ActionSetSeverity, Incident: fmt.Sprintf("INC-%d", 1+r.Intn(int(m.s.nextInc))), By: "x", Severity: "SEV2", Note: "n"})
		case k < 18:
			_ = m.act(at, Action{Kind: ActionClearSeverity, Incident: fmt.Sprintf("INC-%d", 1+r.Intn(int(m.s.nextInc))), By: "x"})
		case k < 19:
			m.apply(at, &Entry{Rules: &RulesChange{Files: ruleSets[r.Intn(2)]}})
		default:
			m.tick(at.Add(time.Duration(r.Intn(600)) * time.Second))
		}
	}
	return m
}

func TestRandomRestore(t *testing.T) {
	fails := 0
	for seed := int64(0); seed < 60 && fails < 5; seed++ {
		m := randomHistory(t, seed)
		want, _ := m.s.Snapshot()()
		// Replay from bytes through a snapshot at several cut points.
		for _, cut := range []int{len(m.log) / 4, len(m.log) / 2, 3 * len(m.log) / 4} {
			s := New(nil)
			for _, rec := range m.log[:cut] {
				s.Apply(rec)
			}
			snap, _ := s.Snapshot()()
			r := New(nil)
			if err := r.Restore(snap); err != nil {
				t.Fatal(err)
			}
			if r.decoding.Load() != r.rules {
				t.Fatalf("seed %d: after a restore the decoders classify by other rules than Apply", seed)
			}
			for _, rec := range m.log[cut:] { // decoded ahead, as recovery does after a snapshot
				d, err := r.Decode(rec.Data)
				if err != nil {
					t.Fatal(err)
				}
				r.Apply(journal.Record{Seq: rec.Seq, Time: rec.Time, Data: rec.Data, Decoded: d})
			}
			got, _ := r.Snapshot()()
			if !bytes.Equal(got, want) {
				fails++
				t.Errorf("seed %d cut %d/%d: differs\n%s", seed, cut, len(m.log), firstDiff(got, want))
				break
			}
		}
	}
}

// TestRandomReplayNoSnapshot replays whole journals into fresh states, from
// their bytes as Apply decodes them and decoded ahead as recovery does
// (State.Decode), with room reserved for the alerts half-way as recovery
// reserves it after a snapshot (State.Reserve) too, and decoded into the
// room of the record applied before (State.DecodeReusing), and all
// decoded before the first is applied, so classified by rules that later
// entries replace, and wants the state that applied them live.
func TestRandomReplayNoSnapshot(t *testing.T) {
	for seed := int64(0); seed < 60; seed++ {
		m := randomHistory(t, seed)
		want, _ := m.s.Snapshot()()
		inline, ahead, reserved, reusing, early := New(nil), New(nil), New(nil), New(nil), New(nil)
		decodedEarly := make([]any, len(m.log))
		for i, rec := range m.log {
			d, err := early.Decode(rec.Data)
			if err != nil {
				t.Fatalf("seed %d: record %d: %v", seed, rec.Seq, err)
			}
			decodedEarly[i] = d
		}
		var applied any
		for i, rec := range m.log {
			early.Apply(journal.Record{Seq: rec.Seq, Time: rec.Time, Data: rec.Data, Decoded: decodedEarly[i]})
			d, err := reusing.DecodeReusing(rec.Data, applied)
			if err != nil {
				t.Fatalf("seed %d: record %d: %v", seed, rec.Seq, err)
			}
			reusing.Apply(journal.Record{Seq: rec.Seq, Time: rec.Time, Data: rec.Data, Decoded: d})
			applied = d
			inline.Apply(journal.Record{Seq: rec.Seq, Time: rec.Time, Data: rec.Data})
			if i == len(m.log)/2 {
				reserved.Reserve(4*reserved.Size() + 100) // as recovery does after a snapshot
			}
			reserved.Apply(journal.Record{Seq: rec.Seq, Time: rec.Time, Data: rec.Data})
			d, err = ahead.Decode(rec.Data)
			if err != nil {
				t.Fatalf("seed %d: record %d: %v", seed, rec.Seq, err)
			}
			ahead.Apply(journal.Record{Seq: rec.Seq, Time: rec.Time, Data: rec.Data, Decoded: d})
		}
		for name, s := range map[string]*State{"inline": inline, "decoded ahead": ahead, "reserved": reserved, "reusing": reusing, "decoded early": early} {
			got, _ := s.Snapshot()()
			if !bytes.Equal(got, want) {
				t.Fatalf("seed %d, %s: differs\n%s", seed, name, firstDiff(got, want))
			}
		}
	}
}

func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-300)
	return fmt.Sprintf("got  ...%s\nwant ...%s", a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
}
