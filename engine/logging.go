package engine

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/klaxonhq/klaxon/triage"
)

// eventMessages are the log messages of incident events, by kind.
var eventMessages = map[triage.EventKind]string{
	triage.EventOpened:       "incident opened",
	triage.EventCorrelated:   "incident correlated",
	triage.EventSeverity:     "incident severity changed",
	triage.EventOverride:     "incident severity overridden",
	triage.EventAcknowledged: "incident acknowledged",
	triage.EventQuiet:        "incident quiet",
	triage.EventResolved:     "incident resolved",
	triage.EventFollowedUp:   "incident reopened", // as a new incident, which the detail names
	triage.EventPaged:        "incident paged",
	triage.EventPageFailed:   "incident page failed",
	triage.EventEscalation:   "incident escalated",
	triage.EventSilenced:     "incident silenced",
	triage.EventUnsilenced:   "incident unsilenced",
}

// logEvents writes one log line per incident event of a live result.
// Recovery applies the journal without the engine, so a restart logs
// nothing twice. Lines of concurrent entries may interleave; seq orders them.
func (e *Engine) logEvents(res *triage.Result) {
	var assigned map[string]string
	for i := range res.Events {
		ev := &res.Events[i]
		severity := ev.Severity
		if severity == unassigned {
			if assigned == nil {
				assigned = firstSeverities(res.Events)
			}
			if first, ok := assigned[ev.Incident]; ok {
				severity = first
			}
		}
		lvl := zapcore.InfoLevel
		if ev.Kind == triage.EventPageFailed {
			lvl = zapcore.WarnLevel
		}
		ce := e.log.Check(lvl, eventMessage(ev.Kind))
		if ce == nil {
			continue
		}
		fields := []zap.Field{
			zap.String("incident", ev.Incident),
			zap.String("event", string(ev.Kind)),
			zap.String("severity", severity),
			zap.String("detail", ev.Message),
			zap.Uint64("seq", ev.Seq),
			zap.Time("at", ev.At),
		}
		if ev.By != "" {
			fields = append(fields, zap.String("by", ev.By))
		}
		ce.Write(fields...)
	}
}

// unassigned is the severity of an incident the rules have not yet
// evaluated: as it opens, before the same entry's severity event.
const unassigned = "none"

// firstSeverities maps each incident to the first severity its events give
// it, for the line of the event that opened it.
func firstSeverities(events []triage.IncidentEvent) map[string]string {
	out := map[string]string{}
	for _, ev := range events {
		if _, ok := out[ev.Incident]; !ok && ev.Severity != unassigned {
			out[ev.Incident] = ev.Severity
		}
	}
	return out
}

// eventMessage is the log message of an event of the given kind.
func eventMessage(kind triage.EventKind) string {
	if msg, ok := eventMessages[kind]; ok {
		return msg
	}
	return "incident " + string(kind)
}
