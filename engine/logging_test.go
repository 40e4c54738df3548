package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/signal"
	"github.com/klaxonhq/klaxon/triage"
)

// lifecycleRules have a catalogue of one service and make critical alerts
// SEV1, everything else SEV3.
var lifecycleRules = []rules.File{{Name: "lifecycle.yml", Data: []byte(`
correlation:
  group_by: [service]
  quiet_period: 5m
services:
  api:
    display_name: API
    tier: 1
    matchers: ['{service="api"}']
severity:
  levels:
    - {name: SEV1, description: Critical.}
    - {name: SEV2, description: Major.}
    - {name: SEV3, description: Minor.}
  default: SEV3
  rules:
    - name: critical
      level: SEV1
      description: A critical alert fires.
      when: {match: '{severity="critical"}'}
`)}}

// incidentLine is what a test checks of one incident event's log line.
type incidentLine struct {
	msg, incident, event, severity, by string
	level                              zapcore.Level
}

// incidentLines returns the incident event lines logged, checking that
// each has its detail, sequence number and time.
func incidentLines(t *testing.T, logs *observer.ObservedLogs) []incidentLine {
	t.Helper()
	var out []incidentLine
	for _, e := range logs.FilterMessageSnippet("incident ").All() {
		f := e.ContextMap()
		if f["detail"] == "" || f["seq"] == uint64(0) {
			t.Errorf("%q for %v: no detail or seq", e.Message, f["incident"])
		}
		if at, ok := f["at"].(time.Time); !ok || at.IsZero() {
			t.Errorf("%q for %v: at = %v, want the event's time", e.Message, f["incident"], f["at"])
		}
		by, _ := f["by"].(string)
		out = append(out, incidentLine{e.Message, f["incident"].(string), f["event"].(string), f["severity"].(string), by, e.Level})
	}
	return out
}

// TestIncidentEventsLoggedOnceEach walks an incident through its life and
// checks it logs one line per event, and that recovery after a restart
// logs none of them again.
func TestIncidentEventsLoggedOnceEach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.InfoLevel)
		eng, j := openMemory(Options{Logger: zap.New(core)})
		ctx := context.Background()
		if _, err := eng.SetRules(ctx, lifecycleRules); err != nil {
			t.Fatal(err)
		}
		a := alert(signal.StatusFiring, "alertname", "Errors", "service", "api")
		submit(t, eng, a)
		act(t, eng, triage.Action{Kind: triage.ActionSetSeverity, Incident: "INC-1", By: "ann", Severity: "SEV1", Note: "customers complain"})
		act(t, eng, triage.Action{Kind: triage.ActionAck, Incident: "INC-1", By: "ann"})
		act(t, eng, triage.Action{Kind: triage.ActionResolve, Incident: "INC-1", By: "bob"})
		time.Sleep(time.Minute)
		a.StartsAt = a.StartsAt.Add(time.Hour)
		submit(t, eng, a) // fires again after the resolve: a new incident

		want := []incidentLine{
			{"incident opened", "INC-1", "opened", "SEV3", "", zapcore.InfoLevel},
			{"incident severity changed", "INC-1", "severity", "SEV3", "", zapcore.InfoLevel},
			{"incident severity overridden", "INC-1", "severity_override", "SEV1", "ann", zapcore.InfoLevel},
			{"incident acknowledged", "INC-1", "acknowledged", "SEV1", "ann", zapcore.InfoLevel},
			{"incident resolved", "INC-1", "resolved", "SEV1", "bob", zapcore.InfoLevel},
			{"incident opened", "INC-2", "opened", "SEV3", "", zapcore.InfoLevel},
			{"incident reopened", "INC-1", "followed_up", "SEV1", "", zapcore.InfoLevel},
			{"incident severity changed", "INC-2", "severity", "SEV3", "", zapcore.InfoLevel},
		}
		got := incidentLines(t, logs)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("log lines:\n%s\nwant:\n%s", lines(got), lines(want))
		}
		if d := logs.FilterField(zap.String("event", "severity_override")).All(); len(d) != 1 ||
			!strings.Contains(d[0].ContextMap()["detail"].(string), "customers complain") {
			t.Errorf("the override's line does not give its reason: %v", d)
		}

		_ = j.Close()
		core, logs = observer.New(zapcore.DebugLevel)
		state := triage.New(nil)
		j = j.Reopen(state)
		defer j.Close()
		_ = New(j, state, Options{Logger: zap.New(core)})
		if n := state.OpenCount(); n != 1 {
			t.Fatalf("recovered %d open incidents, want 1", n)
		}
		if got := incidentLines(t, logs); len(got) != 0 {
			t.Errorf("recovery logged incident events again:\n%s", lines(got))
		}
	})
}

// TestPageFailureLoggedAsWarning checks the level of a failed page's line.
func TestPageFailureLoggedAsWarning(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	eng := &Engine{log: zap.New(core)}
	eng.logEvents(&triage.Result{Events: []triage.IncidentEvent{{Incident: "INC-7", Severity: "SEV2",
		Event: triage.Event{At: time.Unix(1, 0), Seq: 9, Kind: triage.EventPageFailed, Message: "page to ann failed: 500"}}}})
	got := incidentLines(t, logs)
	want := []incidentLine{{"incident page failed", "INC-7", "page_failed", "SEV2", "", zapcore.WarnLevel}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log lines:\n%s\nwant:\n%s", lines(got), lines(want))
	}
}

func lines(ls []incidentLine) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "  %+v\n", l)
	}
	return b.String()
}

func submit(t *testing.T, eng *Engine, sigs ...signal.Signal) {
	t.Helper()
	if _, err := eng.Submit(context.Background(), sigs); err != nil {
		t.Fatal(err)
	}
}

func act(t *testing.T, eng *Engine, a triage.Action) {
	t.Helper()
	if err := eng.Act(context.Background(), a); err != nil {
		t.Fatalf("%s %s: %v", a.Kind, a.Incident, err)
	}
}

// BenchmarkLogEvents measures the log lines of an entry that opens an
// incident (its opened and severity events), JSON-encoded as serve does.
func BenchmarkLogEvents(b *testing.B) {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	eng := &Engine{log: zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(io.Discard), zapcore.InfoLevel))}
	at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	res := &triage.Result{Events: []triage.IncidentEvent{
		{Incident: "INC-42", Severity: "none", Event: triage.Event{At: at, Seq: 7, Kind: triage.EventOpened, Message: `opened for {service="api"} by Errors{service="api"}`}},
		{Incident: "INC-42", Severity: "SEV3", Event: triage.Event{At: at, Seq: 7, Kind: triage.EventSeverity, Message: "no rule holds: the default level"}},
	}}
	b.ReportAllocs()
	for b.Loop() {
		eng.logEvents(res)
	}
}
