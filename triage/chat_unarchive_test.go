package triage

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/rules"
)

// reopenMachine is chatMachine whose incidents reopen within three hours of
// their resolution, with INC-1's room C1 set up and INC-1 resolved at
// 12:03: its room is due to be archived at 13:03.
func reopenMachine(t *testing.T) *machine {
	t.Helper()
	m := chatMachine(t)
	m.reopenWithin("3h")
	m.signals(t0, reopenAlert)
	m.deliverChat(t0, "C1")
	m.deliverChat(t0, "")
	must(t, m.act(minute(3), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}))
	m.deliverChat(minute(3), "")
	return m
}

// reopenWithin installs the escalation rules with checkout's incidents
// reopening within d (a YAML duration) of their resolution.
func (m *machine) reopenWithin(d string) {
	m.t.Helper()
	y := strings.Replace(escalationRules, "    escalation_policy: checkout\n", "    escalation_policy: checkout\n    correlation: {reopen_within: "+d+"}\n", 1)
	rc, err := NewRulesChange([]rules.File{{Name: "r.yml", Data: []byte(y)}})
	if err != nil {
		m.t.Fatal(err)
	}
	must(m.t, m.apply(t0, &Entry{Rules: rc}).Err)
}

var reopenAlert = firing("alertname", "Down", "service", "checkout")

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// chatOps renders the chat intents ready to go at at as ordinal, operation
// and channel, with a post's first line.
func (m *machine) chatOps(at time.Time) []string {
	var out []string
	for _, in := range m.s.DueChatIntents(at, 1000) {
		s := strings.TrimPrefix(in.ID, in.Incident+"/chat/") + " " + in.Chat.Channel
		if in.Chat.Op == ChatPost {
			s += " " + strings.SplitN(in.Chat.Text, "\n", 2)[0]
		}
		out = append(out, s)
	}
	return out
}

// failChat reports the ready chat intent with the given operation failed
// for good.
func (m *machine) failChat(at time.Time, op ChatOp) {
	m.t.Helper()
	for _, in := range m.s.DueChatIntents(at, 1000) {
		if in.Chat.Op == op {
			must(m.t, m.apply(at, &Entry{Delivery: &Delivery{Intent: in.ID, Attempt: in.Attempts + 1, Error: "not_authorized"}}).Err)
			return
		}
	}
	m.t.Fatalf("no %s ready at %s", op, at)
}

// TestChatRoomReopened: a room archived, or about to be, when its incident
// reopens is unarchived before anything else goes to it, or replaced by a
// new room when it cannot be; a second resolution archives it again.
func TestChatRoomReopened(t *testing.T) {
	reopen := func(m *machine, at time.Time) { m.signals(at, reopenAlert) }
	afterUnarchive := []string{
		"000010/post C1 Status: resolved → triggered",
		"000011/topic C1",
		"000012/status_set C1",
	}
	type step struct {
		at   int
		do   func(m *machine, at time.Time)
		want []string // ready at at, after do
	}
	tests := []struct {
		name  string
		steps []step
	}{{
		name: "reopened after the archiving",
		steps: []step{
			{at: 63, do: (*machine).tick, want: []string{"000008/archive C1"}},
			{at: 63, do: deliverAll, want: nil},
			{at: 70, do: reopen, want: []string{"000009/unarchive C1"}},
			{at: 70, do: deliverAll, want: afterUnarchive},
			{at: 70, do: deliverAll, want: nil},
			{at: 80, do: resolveBy("bob"), want: []string{"000013/post C1 Status: triggered → resolved by bob", "000014/topic C1", "000015/status_clear C1"}},
			{at: 80, do: deliverAll},
			{at: 139, do: (*machine).tick, want: nil},
			{at: 140, do: (*machine).tick, want: []string{"000016/archive C1"}},
		},
	}, {
		name: "reopened before the archive was delivered",
		steps: []step{
			{at: 63, do: (*machine).tick, want: []string{"000008/archive C1"}},
			{at: 64, do: reopen, want: []string{"000008/archive C1"}},
			{at: 64, do: deliverAll, want: []string{"000009/unarchive C1"}},
			{at: 64, do: deliverAll, want: afterUnarchive},
		},
	}, {
		name: "the archive failed: the unarchive goes all the same",
		steps: []step{
			{at: 63, do: (*machine).tick, want: []string{"000008/archive C1"}},
			{at: 64, do: reopen, want: []string{"000008/archive C1"}},
			{at: 64, do: failOp(ChatArchive), want: []string{"000009/unarchive C1"}},
			{at: 64, do: deliverAll, want: afterUnarchive},
		},
	}, {
		name: "reopened before the archive was due: nothing to unarchive",
		steps: []step{
			{at: 30, do: reopen, want: []string{"000008/post C1 Status: resolved → triggered", "000009/topic C1", "000010/status_set C1"}},
			{at: 30, do: deliverAll},
			{at: 63, do: (*machine).tick, want: nil},
		},
	}, {
		name: "resolved again before the unarchive was delivered: archived after it",
		steps: []step{
			{at: 63, do: (*machine).tick, want: []string{"000008/archive C1"}},
			{at: 63, do: deliverAll, want: nil},
			{at: 70, do: reopen, want: []string{"000009/unarchive C1"}},
			{at: 75, do: resolveBy("bob"), want: []string{"000009/unarchive C1"}},
			{at: 135, do: (*machine).tick, want: []string{"000009/unarchive C1"}},
			{at: 135, do: deliverAll, want: []string{
				"000010/post C1 Status: resolved → triggered",
				"000011/topic C1",
				"000012/status_set C1",
				"000013/post C1 Status: triggered → resolved by bob",
				"000014/topic C1",
				"000015/status_clear C1",
				"000016/archive C1",
			}},
		},
	}, {
		name: "the unarchive refused: a new room",
		steps: []step{
			{at: 63, do: (*machine).tick, want: []string{"000008/archive C1"}},
			{at: 63, do: deliverAll, want: nil},
			{at: 70, do: reopen, want: []string{"000009/unarchive C1"}},
			{at: 70, do: failOp(ChatUnarchive), want: []string{"000013/create "}},
			{at: 70, do: deliverRef("C2"), want: []string{
				"000012/status_set C2",
				"000014/post C2 *INC-1* SEV1 triggered: Down{service=\"checkout\"}",
				"000015/topic C2",
				"000016/invite C2",
			}},
			{at: 70, do: checkChannels("C2"), want: []string{
				"000012/status_set C2",
				"000014/post C2 *INC-1* SEV1 triggered: Down{service=\"checkout\"}",
				"000015/topic C2",
				"000016/invite C2",
			}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := reopenMachine(t)
			for i, st := range tt.steps {
				st.do(m, minute(st.at))
				if got := m.chatOps(minute(st.at)); !slices.Equal(got, st.want) {
					t.Fatalf("step %d at minute %d:\n got %q\nwant %q", i, st.at, got, st.want)
				}
			}
			assertReplaySame(t, m)
		})
	}
}

func deliverAll(m *machine, at time.Time) { m.deliverChat(at, "") }

func deliverRef(ref string) func(*machine, time.Time) {
	return func(m *machine, at time.Time) { m.deliverChat(at, ref) }
}

func failOp(op ChatOp) func(*machine, time.Time) {
	return func(m *machine, at time.Time) { m.failChat(at, op) }
}

func resolveBy(person string) func(*machine, time.Time) {
	return func(m *machine, at time.Time) {
		must(m.t, m.act(at, Action{Kind: ActionResolve, Incident: "INC-1", By: person}))
	}
}

// checkChannels checks that INC-1's room is channel and that no other
// channel maps to it.
func checkChannels(channel string) func(*machine, time.Time) {
	return func(m *machine, _ time.Time) {
		if ch, _ := m.s.ChatChannel("INC-1"); ch != channel {
			m.t.Errorf("INC-1's channel is %q, want %q", ch, channel)
		}
		for _, other := range []string{"C1", "C2"} {
			if key, ok := m.s.IncidentForChannel(other); ok != (other == channel) {
				m.t.Errorf("IncidentForChannel(%s) = %q, %v", other, key, ok)
			}
		}
	}
}

// TestGateDerivedForOldSnapshots restores a snapshot taken while INC-1's
// archive was pending, as the stop-21 binary wrote it (format 7, before
// rooms had a gate), and wants the unarchive of a reopening to wait for the
// archive all the same.
func TestGateDerivedForOldSnapshots(t *testing.T) {
	for _, tt := range []struct {
		name     string
		dropGate bool
	}{{"current snapshot", false}, {"snapshot without gates", true}} {
		t.Run(tt.name, func(t *testing.T) {
			m := reopenMachine(t)
			m.tick(minute(63))
			data, err := m.s.Snapshot()()
			if err != nil {
				t.Fatal(err)
			}
			const gate = `"gate":"INC-1/chat/000008/archive",`
			if !bytes.Contains(data, []byte(gate)) {
				t.Fatalf("the snapshot holds no %s", gate)
			}
			if tt.dropGate {
				data = bytes.Replace(legacySnapshot(t, data), []byte(gate), nil, 1)
			}
			must(t, m.s.Restore(data))
			m.signals(minute(64), reopenAlert)
			if got, want := m.chatOps(minute(64)), []string{"000008/archive C1"}; !slices.Equal(got, want) {
				t.Fatalf("ready after the reopening: %q, want %q", got, want)
			}
			deliverAll(m, minute(64))
			if got := m.chatOps(minute(64)); len(got) != 1 || got[0] != "000009/unarchive C1" {
				t.Fatalf("ready after the archive: %q, want the unarchive alone", got)
			}
		})
	}
}
