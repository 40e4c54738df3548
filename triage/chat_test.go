package triage

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/signal"
)

// chatMachine is rolesMachine with Slack IDs for ada and bob and chat rooms
// for SEV2 and worse, archived an hour after resolution.
func chatMachine(t *testing.T) *machine {
	t.Helper()
	m := pagingMachine(t)
	people := strings.NewReplacer("    name: Ada\n", "    name: Ada\n    slack: UADA\n",
		"    name: Bob\n", "    name: Bob\n    slack: UBOB\n").Replace(escalationOnCall)
	oc, err := NewOnCallChange([]oncall.File{{Name: "oncall.yml", Data: []byte(people)},
		{Name: "roles.yml", Data: []byte(rolesOnCall)}})
	if err != nil {
		t.Fatal(err)
	}
	must(t, m.apply(t0, &Entry{OnCall: oc}).Err)
	must(t, m.apply(t0, &Entry{Chat: &ChatChange{Settings: &ChatSettings{MinSeverity: "SEV2", ArchiveAfter: time.Hour}}}).Err)
	return m
}

// chatDue renders the chat intents ready to go at at, in order.
func (m *machine) chatDue(at time.Time) []string {
	var out []string
	for _, in := range m.s.DueChatIntents(at, 1000) {
		out = append(out, describeChat(in))
	}
	return out
}

func describeChat(in Intent) string {
	c := in.Chat
	s := fmt.Sprintf("%s %s ch=%s", in.ID, c.Op, c.Channel)
	switch c.Op {
	case ChatInvite, ChatStatusSet, ChatStatusClear:
		s += " users=" + strings.Join(c.Users, ",")
	case ChatPost:
		s += " text=" + c.Text
		if f := in.Message.Final; f != nil {
			s += fmt.Sprintf(" final=%s/%s/%ds/ack %ds by %s/pages %d", f.Key, f.ResolvedBy, f.DurationSeconds, f.TimeToAckSeconds, f.AcknowledgedBy, f.PagesSent)
		}
	case ChatSetTopic:
		s += fmt.Sprintf(" topic=%s/%s/%s/%s/%s/%s", c.Topic.Key, c.Topic.Severity, c.Topic.Status, c.Topic.Manager, c.Topic.Dashboard, c.Topic.Runbook)
	}
	return s
}

// deliverChat reports every ready chat intent delivered, a created room as
// channel ref.
func (m *machine) deliverChat(at time.Time, ref string) {
	m.t.Helper()
	for _, in := range m.s.DueChatIntents(at, 1000) {
		d := Delivery{Intent: in.ID, Attempt: in.Attempts + 1, OK: true}
		if in.Chat.Op == ChatCreate {
			d.Ref = ref
		}
		must(m.t, m.apply(at, &Entry{Delivery: &d}).Err)
	}
}

func TestChatRoomLifecycle(t *testing.T) {
	m := chatMachine(t)
	down := firing("alertname", "Down", "service", "checkout")
	down.Annotations = signal.StringsFrom(map[string]string{"dashboard": "https://grafana.example/d/checkout", "runbook_url": "https://runbooks.example/checkout"})
	minute := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	m.signals(t0, down)

	if got, want := m.chatDue(t0), []string{"INC-1/chat/000000/create create ch="}; !slices.Equal(got, want) {
		t.Fatalf("before the room exists:\n got %q\nwant %q", got, want)
	}
	for _, in := range m.s.DueIntents(t0, 100) {
		if in.Kind == IntentChat {
			t.Fatalf("a chat intent %s reached the pages' queue", in.ID)
		}
	}
	if key, ok := m.s.IncidentForChannel("C1"); ok {
		t.Fatalf("channel C1 is %s before it was created", key)
	}
	created := []string{
		"INC-1/chat/000001/post post ch=C1 text=*INC-1* SEV1 triggered: Down{service=\"checkout\"}\nService: checkout\n" +
			"Why: SEV1 by rule down: 1 firing signal matches {alertname=\"Down\"}\nIncident manager: Bob (<@UBOB>)\nTechnical lead: Ada (<@UADA>)",
		"INC-1/chat/000002/topic topic ch=C1 topic=INC-1/SEV1/triggered/Bob/https://grafana.example/d/checkout/https://runbooks.example/checkout",
		"INC-1/chat/000003/invite invite ch=C1 users=UBOB,UADA",
		"INC-1/chat/000004/status_set status_set ch=C1 users=UBOB",
	}
	m.deliverChat(t0, "C1")
	got := m.chatDue(t0)
	if !slices.Equal(got, created) {
		t.Fatalf("after the room was created:\n got %q\nwant %q", got, created)
	}
	if key, ok := m.s.IncidentForChannel("C1"); !ok || key != "INC-1" {
		t.Errorf("IncidentForChannel(C1) = %q, %v", key, ok)
	}
	if p, ok := m.s.PersonForSlackUser("UADA"); !ok || p != "ada" {
		t.Errorf("PersonForSlackUser(UADA) = %q, %v", p, ok)
	}
	if _, ok := m.s.PersonForSlackUser("UNOBODY"); ok {
		t.Error("an unknown Slack user maps to a person")
	}
	m.deliverChat(t0, "")

	must(t, m.act(minute(1), Action{Kind: ActionAssignRole, Incident: "INC-1", By: "carol", Role: "incident_manager", Person: "ada"}))
	want := []string{
		"INC-1/chat/000005/post post ch=C1 text=Incident manager: Ada (<@UADA>) (was Bob (<@UBOB>))",
		"INC-1/chat/000006/topic topic ch=C1 topic=INC-1/SEV1/triggered/Ada/https://grafana.example/d/checkout/https://runbooks.example/checkout",
		"INC-1/chat/000007/status_clear status_clear ch=C1 users=UBOB",
		"INC-1/chat/000008/status_set status_set ch=C1 users=UADA",
	}
	if got := m.chatDue(minute(1)); !slices.Equal(got, want) {
		t.Fatalf("IM handover:\n got %q\nwant %q", got, want)
	}
	m.deliverChat(minute(1), "")

	must(t, m.act(minute(2), Action{Kind: ActionAck, Incident: "INC-1", By: "ada"}))
	must(t, m.act(minute(3), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}))
	want = []string{
		"INC-1/chat/000009/post post ch=C1 text=Status: triggered → acknowledged by ada",
		"INC-1/chat/000010/topic topic ch=C1 topic=INC-1/SEV1/acknowledged/Ada/https://grafana.example/d/checkout/https://runbooks.example/checkout",
		"INC-1/chat/000011/post post ch=C1 text=Status: acknowledged → resolved by ada final=INC-1/ada/180s/ack 120s by ada/pages 0",
		"INC-1/chat/000012/topic topic ch=C1 topic=INC-1/SEV1/resolved/Ada/https://grafana.example/d/checkout/https://runbooks.example/checkout",
		"INC-1/chat/000013/status_clear status_clear ch=C1 users=UADA",
	}
	if got := m.chatDue(minute(3)); !slices.Equal(got, want) {
		t.Fatalf("ack and resolve:\n got %q\nwant %q", got, want)
	}
	m.deliverChat(minute(3), "")
	m.tick(minute(62))
	if got := m.chatDue(minute(62)); len(got) != 0 {
		t.Fatalf("archived before the hour was up: %q", got)
	}
	m.tick(minute(63))
	want = []string{"INC-1/chat/000014/archive archive ch=C1"}
	if got := m.chatDue(minute(63)); !slices.Equal(got, want) {
		t.Fatalf("archive:\n got %q\nwant %q", got, want)
	}
	m.deliverChat(minute(63), "")
	assertReplaySame(t, m)
}

// assertReplaySame replays m's journal into a fresh state and through a
// snapshot, and checks both end where m did.
func assertReplaySame(t *testing.T, m *machine) {
	t.Helper()
	want := snapshotBytes(t, m.s)
	fresh := New(nil)
	for _, rec := range m.log {
		fresh.Apply(journal.Record{Seq: rec.Seq, Time: rec.Time, Data: rec.Data})
	}
	if got := snapshotBytes(t, fresh); !bytes.Equal(got, want) {
		t.Error("replaying the journal ends in another state")
	}
	restored := New(nil)
	if err := restored.Restore(want); err != nil {
		t.Fatal(err)
	}
	if got := snapshotBytes(t, restored); !bytes.Equal(got, want) {
		t.Error("restoring the snapshot ends in another state")
	}
}

func snapshotBytes(t *testing.T, s *State) []byte {
	t.Helper()
	b, err := s.Snapshot()()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChatCreatedWithoutChannelGivesUp(t *testing.T) {
	m := chatMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	m.deliverChat(t0, "")
	if got := m.chatDue(t0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("chat intents due without a channel: %q", got)
	}
	m.s.mu.RLock()
	defer m.s.mu.RUnlock()
	if inc := m.s.incidents["INC-1"]; !inc.Chat.Failed || slices.ContainsFunc(slices.Collect(maps.Values(m.s.intents)), func(in *Intent) bool { return in.Kind == IntentChat }) {
		t.Errorf("room %+v: want it given up with its intents", inc.Chat)
	}
}

func TestChatWaitsForTheRoomAndGivesUpWithIt(t *testing.T) {
	m := chatMachine(t)
	m.signals(t0, firing("alertname", "Down", "service", "checkout"))
	at := t0
	for range maxChatAttempts {
		ins := m.s.DueChatIntents(at, 10)
		if len(ins) != 1 || ins[0].Chat.Op != ChatCreate {
			t.Fatalf("at %s: due %v, want the create alone", at, ins)
		}
		must(t, m.apply(at, &Entry{Delivery: &Delivery{Intent: ins[0].ID, Attempt: ins[0].Attempts + 1, Error: "slack down", Retry: true}}).Err)
		next, ok := m.s.NextChatDue()
		if !ok {
			break
		}
		at = next
	}
	if _, ok := m.s.NextChatDue(); ok {
		t.Fatal("chat intents still pending after the room was given up")
	}
	m.s.mu.RLock()
	defer m.s.mu.RUnlock()
	for _, in := range m.s.intents {
		if in.Kind == IntentChat {
			t.Errorf("chat intent %s still pending", in.ID)
		}
	}
	if inc := m.s.incidents["INC-1"]; inc.Chat == nil || !inc.Chat.Failed {
		t.Errorf("room = %+v, want failed", inc.Chat)
	}
}

func TestChatBelowMinimumSeverity(t *testing.T) {
	tests := []struct {
		name  string
		steps func(m *machine)
		rooms int
	}{{
		name:  "SEV3 gets no room",
		steps: func(m *machine) { m.signals(t0, firing("alertname", "Slow", "service", "search")) },
	}, {
		name: "raised to SEV1 by hand, it gets one",
		steps: func(m *machine) {
			m.signals(t0, firing("alertname", "Slow", "service", "search"))
			must(m.t, m.act(t0.Add(time.Minute), Action{Kind: ActionSetSeverity, Incident: "INC-1", By: "carol", Severity: "SEV1", Note: "customers see it"}))
		},
		rooms: 1,
	}, {
		name: "chat off: no room for a SEV1",
		steps: func(m *machine) {
			must(m.t, m.apply(t0, &Entry{Chat: &ChatChange{}}).Err)
			m.signals(t0, firing("alertname", "Down", "service", "checkout"))
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := chatMachine(t)
			tt.steps(m)
			if got := len(m.s.DueChatIntents(t0.Add(time.Hour), 100)); got != tt.rooms {
				t.Errorf("%d chat intents due, want %d", got, tt.rooms)
			}
		})
	}
}

// TestChatResolutionPostCarriesFigures: every resolution of a room's
// incident, by a human or by itself, and again after a reopening, posts
// once with the figures of that resolution; no other post carries any.
func TestChatResolutionPostCarriesFigures(t *testing.T) {
	down := firing("alertname", "Down", "service", "checkout")
	minute := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	tests := []struct {
		name string
		run  func(m *machine, deliver func(time.Time)) time.Time // returns when it ended
		want []string                                            // the posts with figures: text | by, resolved at, duration
	}{
		{name: "resolved by a human", run: func(m *machine, _ func(time.Time)) time.Time {
			must(t, m.act(minute(7), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}))
			return minute(7)
		}, want: []string{"Status: triggered → resolved by ada | by ada at 12:07 after 420s"}},
		{name: "resolved by itself", run: func(m *machine, _ func(time.Time)) time.Time {
			m.signals(minute(3), resolved(down, minute(3)))
			m.tick(minute(24 * 60))
			return minute(24 * 60)
		}, want: []string{"Status: triggered → resolved | by  at 12:08 after 480s"}},
		{name: "reopened and resolved again", run: func(m *machine, deliver func(time.Time)) time.Time {
			must(t, m.act(minute(2), Action{Kind: ActionResolve, Incident: "INC-1", By: "ada"}))
			deliver(minute(2))
			m.signals(minute(4), down)
			deliver(minute(4))
			must(t, m.act(minute(9), Action{Kind: ActionResolve, Incident: "INC-1", By: "bob"}))
			return minute(9)
		}, want: []string{"Status: triggered → resolved by ada | by ada at 12:02 after 120s",
			"Status: triggered → resolved by bob | by bob at 12:09 after 540s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := chatMachine(t)
			m.reopenWithin("10m")
			m.signals(t0, down)
			m.deliverChat(t0, "C1")
			var got []string
			deliver := func(at time.Time) {
				for _, in := range m.s.DueChatIntents(at, 1000) {
					if f := in.Message.Final; f != nil {
						got = append(got, fmt.Sprintf("%s | by %s at %s after %ds", in.Chat.Text, f.ResolvedBy, f.ResolvedAt.Format("15:04"), f.DurationSeconds))
					}
				}
				m.deliverChat(at, "")
			}
			deliver(t0)
			deliver(tt.run(m, deliver))
			if !slices.Equal(got, tt.want) {
				t.Errorf("posts with figures\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
