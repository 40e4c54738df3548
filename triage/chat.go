package triage

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Chat rooms: incidents at or above a configured severity get a channel
// (Slack) whose topic, members, messages and incident manager's status
// follow the incident. Apply decides each effect as a chat intent; a worker
// outside Apply (notify/slack) carries them out and reports the channel it
// created in the delivery's Ref, which later intents then target.
const (
	IntentChat IntentKind = "chat" // an effect on an incident's chat room (ChatIntent says which)
	EventChat  EventKind  = "chat" // the chat room was created, or an effect on it failed

	timerChat timerKind = 240 // a resolved incident's chat room is due to be archived

	// ChatReceiver is the Receiver of every chat intent.
	ChatReceiver = "chat"
	// ManagerRole is the role whose holder's chat status shows the incident key.
	ManagerRole = "incident_manager"

	// maxChatAttempts bounds a chat intent's attempts: a chat service can be
	// down for a while, and the room is still worth having when it is back
	// (about an hour and a quarter at the backoff's 5-minute cap).
	maxChatAttempts = 20
)

// ChatOp names what a chat intent does.
type ChatOp string

// The chat operations, one Slack Web API method each.
const (
	ChatCreate      ChatOp = "create"       // conversations.create; the delivery's Ref is the channel ID
	ChatSetTopic    ChatOp = "topic"        // conversations.setTopic
	ChatInvite      ChatOp = "invite"       // conversations.invite
	ChatPost        ChatOp = "post"         // chat.postMessage
	ChatStatusSet   ChatOp = "status_set"   // users.profile.set: the incident key as status
	ChatStatusClear ChatOp = "status_clear" // users.profile.set: the status cleared
	ChatArchive     ChatOp = "archive"      // conversations.archive
	ChatUnarchive   ChatOp = "unarchive"    // conversations.unarchive, when the incident reopens
)

// ChatSettings are the chat-room settings that decisions depend on,
// journaled like rule files so that replay decides the same rooms. The
// channel-name template, links and credentials are the worker's.
type ChatSettings struct {
	MinSeverity  string        `json:"minSeverity"`            // the severity level name from which incidents get a room
	ArchiveAfter time.Duration `json:"archiveAfter,omitempty"` // how long after resolution the room is archived; 0 for never
}

// ChatChange installs chat settings; nil Settings turns chat rooms off for
// incidents that have none yet.
type ChatChange struct {
	Settings *ChatSettings `json:"settings,omitempty"`
}

// ChatIntent is what a chat intent does, fixed when it was decided.
type ChatIntent struct {
	Op      ChatOp     `json:"op"`
	Channel string     `json:"channel,omitempty"` // the room's channel ID; set once it exists
	Number  uint64     `json:"number,omitempty"`  // the incident's number, for the channel name (create)
	Text    string     `json:"text,omitempty"`    // the message (post)
	Users   []string   `json:"users,omitempty"`   // chat user IDs: those invited, or whose status is set or cleared
	Topic   *ChatTopic `json:"topic,omitempty"`   // what the topic shows (topic)
}

// ChatTopic is what a room's topic shows; the worker adds its own links
// (incident page, video bridge, status page).
type ChatTopic struct {
	Key       string `json:"key"`
	Severity  string `json:"severity"`
	Status    Status `json:"status"`
	Manager   string `json:"manager,omitempty"`   // the incident manager's name
	Dashboard string `json:"dashboard,omitempty"` // from the alerts' dashboard annotation
	Runbook   string `json:"runbook,omitempty"`   // from the alerts' runbook_url annotation
}

// ChatRoom is an incident's chat room as Apply last decided it: what was
// posted, set and invited, so that only changes go out.
type ChatRoom struct {
	Channel    string            `json:"channel,omitempty"`    // the channel ID, once created
	Failed     bool              `json:"failed,omitempty"`     // creating it was given up
	Archived   bool              `json:"archived,omitempty"`   // its archiving was decided
	Gate       string            `json:"gate,omitempty"`       // the pending archive or unarchive that later intents wait for
	ArchiveAt  time.Time         `json:"archiveAt,omitzero"`   // when it is to be archived
	Next       int               `json:"next"`                 // intents decided so far: the next one's ordinal
	Severity   string            `json:"severity,omitempty"`   // as last posted
	Status     Status            `json:"status,omitempty"`     // as last posted
	Roles      map[string]string `json:"roles,omitempty"`      // holders as last posted
	Topic      ChatTopic         `json:"topic"`                // as last set
	Invited    []string          `json:"invited,omitempty"`    // chat user IDs invited
	StatusUser string            `json:"statusUser,omitempty"` // whose chat status shows the key
}

func (r *ChatRoom) clone() *ChatRoom {
	c := *r
	c.Roles = maps.Clone(r.Roles)
	c.Invited = slices.Clip(r.Invited)
	return &c
}

// applyChat installs chat settings; open incidents are looked at again, so
// those at or above the new minimum get their room.
func (s *State) applyChat(c *change, cc *ChatChange) error {
	if st := cc.Settings; st != nil {
		if st.MinSeverity == "" || st.ArchiveAfter < 0 {
			return fmt.Errorf("%w: chat settings need a minimum severity and a delay that is not negative", ErrInvalid)
		}
		cp := *st
		s.chat = &cp
	} else {
		s.chat = nil
	}
	for _, inc := range s.order {
		if inc.open() {
			c.chatDirty(inc)
		}
	}
	return nil
}

// ChatSettings returns the chat settings in force (nil when chat is off).
func (s *State) ChatSettings() *ChatSettings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.chat == nil {
		return nil
	}
	cp := *s.chat
	return &cp
}

// chatDirty marks inc for a look at its chat room when the entry is done.
func (c *change) chatDirty(inc *Incident) {
	if c.state.chat == nil && inc.Chat == nil {
		return
	}
	if c.chatSeen == nil {
		c.chatSeen = make(map[*Incident]bool)
	}
	if !c.chatSeen[inc] {
		c.chatSeen[inc] = true
		c.chatList = append(c.chatList, inc)
	}
}

// syncChat decides the chat effects of every incident the entry changed.
func (c *change) syncChat() {
	for _, inc := range c.touched {
		c.chatDirty(inc)
	}
	for i := 0; i < len(c.chatList); i++ {
		c.state.chatSync(c, c.chatList[i])
	}
	c.chatList, c.chatSeen = c.chatList[:0], nil
}

// chatWanted reports whether inc is severe enough for a room.
func (s *State) chatWanted(inc *Incident) bool {
	if s.chat == nil || inc.Severity == 0 || !inc.open() {
		return false
	}
	level, ok := s.rules.Level(s.chat.MinSeverity)
	return ok && inc.Severity <= level
}

// chatSync brings inc's chat room up to date: it opens one when inc became
// severe enough, then posts, sets and invites what changed since.
func (s *State) chatSync(c *change, inc *Incident) {
	room := inc.Chat
	if room == nil {
		if !s.chatWanted(inc) {
			return
		}
		room = &ChatRoom{}
		inc.Chat = room
		s.addChat(c, inc, ChatIntent{Op: ChatCreate, Number: inc.Number}, "")
	}
	if s.chat == nil || room.Failed || room.Archived && !inc.open() {
		return
	}
	if room.Archived {
		room.Archived = false
		s.addChat(c, inc, ChatIntent{Op: ChatUnarchive}, "")
	}
	s.chatPost(c, inc, room)
	s.chatTopic(c, inc, room)
	s.chatInvite(c, inc, room)
	s.chatManagerStatus(c, inc, room)
	s.chatArchiveTimer(inc, room)
}

// addChat decides one chat intent; its ID orders it after the room's
// earlier ones. It gets no channel, and so waits, while the room is not
// created or an archive or unarchive of it is pending; an archive or
// unarchive holds back the room's later intents until it is settled.
func (s *State) addChat(c *change, inc *Incident, ci ChatIntent, person string) {
	s.addChatFinal(c, inc, ci, person, nil)
}

// addChatFinal decides one chat intent whose message carries final, the
// figures of a resolved incident's final message (nil for none).
func (s *State) addChatFinal(c *change, inc *Incident, ci ChatIntent, person string, final *Figures) {
	room := inc.Chat
	id := fmt.Sprintf("%s/chat/%06d/%s", inc.Key, room.Next, ci.Op)
	room.Next++
	if room.Gate == "" {
		ci.Channel = room.Channel
	}
	if ci.Op == ChatArchive || ci.Op == ChatUnarchive {
		room.Gate = id
	}
	s.addIntent(c, Intent{ID: id, Kind: IntentChat, Incident: inc.Key, Person: person, Receiver: ChatReceiver,
		Step: -1, Round: -1, Due: s.now, Chat: &ci,
		Message: Message{Key: inc.Key, Title: inc.Title, Severity: inc.Severity.String(), Status: inc.Status, Service: inc.Service, OpenedAt: inc.OpenedAt, Final: final}})
}

// chatPost posts the summary first, then each severity, status and role
// change, one message per entry. The post that tells the incident resolved
// carries its figures: the worker adds the final internal message, in the
// words the receivers of IntentFinal get.
func (s *State) chatPost(c *change, inc *Incident, room *ChatRoom) {
	sev := inc.Severity.String()
	var lines []string
	if room.Severity == "" {
		lines = s.chatSummary(inc)
	} else {
		if sev != room.Severity {
			lines = append(lines, fmt.Sprintf("Severity: %s → %s (%s)", room.Severity, sev, inc.Why))
		}
		if inc.Status != room.Status {
			lines = append(lines, fmt.Sprintf("Status: %s → %s%s", room.Status, inc.Status, s.statusBy(inc)))
		}
		lines = append(lines, s.roleChanges(room.Roles, inc.Roles)...)
	}
	var final *Figures
	if inc.Status == StatusResolved && room.Status != "" && room.Status != StatusResolved {
		f := s.figures(inc)
		final = &f
	}
	room.Severity, room.Status, room.Roles = sev, inc.Status, maps.Clone(inc.Roles)
	if len(lines) > 0 {
		s.addChatFinal(c, inc, ChatIntent{Op: ChatPost, Text: strings.Join(lines, "\n")}, "", final)
	}
}

func (s *State) chatSummary(inc *Incident) []string {
	lines := []string{fmt.Sprintf("*%s* %s %s: %s", inc.Key, inc.Severity, inc.Status, inc.Title)}
	if inc.Service != "" {
		lines = append(lines, "Service: "+inc.Service)
	}
	if inc.Why != "" {
		lines = append(lines, "Why: "+inc.Why)
	}
	return append(lines, s.roleChanges(nil, inc.Roles)...)
}

func (s *State) statusBy(inc *Incident) string {
	switch {
	case inc.Status == StatusAcknowledged && inc.AcknowledgedBy != "":
		return " by " + inc.AcknowledgedBy
	case inc.Status == StatusResolved && inc.ResolvedBy != "":
		return " by " + inc.ResolvedBy
	}
	return ""
}

// roleChanges words each role whose holder differs between before and now,
// in role order.
func (s *State) roleChanges(before, now map[string]string) []string {
	ids := slices.Sorted(maps.Keys(now))
	for id := range before {
		if _, ok := now[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var lines []string
	for _, id := range ids {
		was, is := before[id], now[id]
		switch {
		case was == is:
		case is == "":
			lines = append(lines, fmt.Sprintf("%s: unassigned (was %s)", s.roleName(id), s.personLabel(was)))
		case was == "":
			lines = append(lines, fmt.Sprintf("%s: %s", s.roleName(id), s.personLabel(is)))
		default:
			lines = append(lines, fmt.Sprintf("%s: %s (was %s)", s.roleName(id), s.personLabel(is), s.personLabel(was)))
		}
	}
	return lines
}

func (s *State) roleName(id string) string {
	if s.oncall != nil && s.oncall.Roles[id] != nil {
		return s.oncall.Roles[id].Name
	}
	return id
}

// personLabel is a person's name, with a mention when they have a chat ID.
func (s *State) personLabel(id string) string {
	if s.oncall == nil || s.oncall.People[id] == nil {
		return id
	}
	p := s.oncall.People[id]
	name := cmp.Or(p.Name, id)
	if p.Slack != "" {
		return fmt.Sprintf("%s (<@%s>)", name, p.Slack)
	}
	return name
}

func (s *State) slackID(person string) string {
	if s.oncall == nil || s.oncall.People[person] == nil {
		return ""
	}
	return s.oncall.People[person].Slack
}

// chatTopic sets the topic when what it shows changed.
func (s *State) chatTopic(c *change, inc *Incident, room *ChatRoom) {
	t := ChatTopic{Key: inc.Key, Severity: inc.Severity.String(), Status: inc.Status}
	if im := inc.Roles[ManagerRole]; im != "" {
		t.Manager = im
		if s.oncall != nil && s.oncall.People[im] != nil {
			t.Manager = cmp.Or(s.oncall.People[im].Name, im)
		}
	}
	t.Dashboard, t.Runbook = s.alertLinks(inc)
	if t == room.Topic {
		return
	}
	room.Topic = t
	s.addChat(c, inc, ChatIntent{Op: ChatSetTopic, Topic: &t}, "")
}

// alertLinks are the first dashboard and runbook links its alerts carry.
func (s *State) alertLinks(inc *Incident) (dashboard, runbook string) {
	for _, id := range inc.Alerts {
		a := s.alerts[id]
		if a == nil {
			continue
		}
		ann := a.Signal.Annotations
		dashboard = cmp.Or(dashboard, ann.Get("dashboard"), ann.Get("dashboard_url"), ann.Get("grafana_url"))
		runbook = cmp.Or(runbook, ann.Get("runbook_url"), ann.Get("runbook"))
		if dashboard != "" && runbook != "" {
			break
		}
	}
	return dashboard, runbook
}

// chatInvite invites the role holders and paged responders who have a chat
// ID and were not invited yet.
func (s *State) chatInvite(c *change, inc *Incident, room *ChatRoom) {
	var people []string
	for _, id := range slices.Sorted(maps.Keys(inc.Roles)) {
		people = append(people, inc.Roles[id])
	}
	people = append(people, inc.Responders...)
	var users []string
	for _, p := range people {
		if u := s.slackID(p); u != "" && !slices.Contains(room.Invited, u) && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return
	}
	room.Invited = append(room.Invited, users...)
	s.addChat(c, inc, ChatIntent{Op: ChatInvite, Users: users}, "")
}

// chatManagerStatus shows the incident key as the incident manager's chat
// status while they hold the role of an open incident, and clears it after.
func (s *State) chatManagerStatus(c *change, inc *Incident, room *ChatRoom) {
	want := ""
	if inc.open() {
		want = s.slackID(inc.Roles[ManagerRole])
	}
	if want == room.StatusUser {
		return
	}
	if room.StatusUser != "" {
		s.addChat(c, inc, ChatIntent{Op: ChatStatusClear, Users: []string{room.StatusUser}}, "")
	}
	if want != "" {
		s.addChat(c, inc, ChatIntent{Op: ChatStatusSet, Users: []string{want}}, inc.Roles[ManagerRole])
	}
	room.StatusUser = want
}

// chatArchiveTimer arms the archiving of a resolved incident's room, and
// disarms it when the incident reopens.
func (s *State) chatArchiveTimer(inc *Incident, room *ChatRoom) {
	switch {
	case inc.open() && !room.ArchiveAt.IsZero():
		room.ArchiveAt = time.Time{}
	case !inc.open() && room.ArchiveAt.IsZero() && s.chat.ArchiveAfter > 0:
		room.ArchiveAt = inc.ResolvedAt.Add(s.chat.ArchiveAfter)
	default:
		return
	}
	s.timers.set(timerChat, inc.Key, room.ArchiveAt)
}

// chatArchiveDue decides the archiving of a resolved incident's room.
func (s *State) chatArchiveDue(c *change, key string) {
	inc := s.incidents[key]
	if inc == nil || inc.Chat == nil || inc.open() || inc.Chat.Archived {
		return
	}
	inc.Chat.ArchiveAt, inc.Chat.Archived = time.Time{}, true
	s.addChat(c, inc, ChatIntent{Op: ChatArchive}, "")
}

// notePaged records a person paged for inc, for the room's invitations.
func (inc *Incident) notePaged(person string) {
	if person != "" && !slices.Contains(inc.Responders, person) {
		inc.Responders = append(inc.Responders, person)
	}
}

// applyChatDelivery settles a chat intent or schedules its retry, as
// applyDelivery does for the others: a created room's channel is recorded
// and the intents waiting for it are released.
func (s *State) applyChatDelivery(c *change, in *Intent, d *Delivery) error {
	inc := s.incidents[in.Incident]
	if d.OK {
		s.chatDelivered(inc, in, d.Ref)
	} else {
		in.Attempts++
		in.Error = truncate(d.Error, maxError)
		if d.Retry && in.Attempts < maxChatAttempts {
			in.Due = s.now.Add(min(retryBase<<(in.Attempts-1), retryMax))
			s.dueChat.fix(in.ID)
			return nil
		}
	}
	delete(s.intents, in.ID)
	s.dueChat.remove(in.ID)
	c.res.Delivered = append(c.res.Delivered, DeliveryOutcome{Intent: *in, OK: d.OK})
	if inc != nil {
		inc.Settled = append(inc.Settled, in.ID)
		s.settled[in.ID] = true
		s.chatFinished(c, in, inc, d.OK)
	}
	return nil
}

// chatDelivered records a created room's channel and releases the intents
// waiting for it.
func (s *State) chatDelivered(inc *Incident, in *Intent, ref string) {
	if inc == nil || inc.Chat == nil || in.Chat == nil || in.Chat.Op != ChatCreate || ref == "" {
		return
	}
	inc.Chat.Channel = ref
	s.chatChannels[ref] = inc.Key
	s.releaseChat(inc)
}

// releaseChat gives the intents waiting for inc's room its channel, in the
// order they were decided, up to and including the next archive or
// unarchive: the ones after that wait for it to be settled.
func (s *State) releaseChat(inc *Incident) {
	room := inc.Chat
	if room.Channel == "" {
		return
	}
	var waiting []*Intent
	for _, w := range s.intents {
		if w.Incident == inc.Key && w.Kind == IntentChat && w.Chat.Channel == "" && w.Chat.Op != ChatCreate {
			waiting = append(waiting, w)
		}
	}
	slices.SortFunc(waiting, func(a, b *Intent) int { return strings.Compare(a.ID, b.ID) })
	for _, w := range waiting {
		ci := *w.Chat // a snapshot being written may share the old one
		ci.Channel = room.Channel
		w.Chat = &ci
		s.dueChat.push(w)
		if ci.Op == ChatArchive || ci.Op == ChatUnarchive {
			return
		}
	}
}

// chatFinished records the outcome of a chat intent in the timeline. A room
// that could not be created gives up its waiting intents; one that could
// not be unarchived is replaced by a new room; a settled archive or
// unarchive releases the intents that waited for it.
func (s *State) chatFinished(c *change, in *Intent, inc *Incident, ok bool) {
	op := in.Chat.Op
	switch {
	case inc.Chat == nil:
		return
	case ok && op == ChatCreate && inc.Chat.Channel == "":
		c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventChat, Message: "chat room created, but no channel ID came back: chat gives up"})
		s.giveUpChat(inc)
	case ok && op == ChatCreate:
		c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventChat, Message: "chat room created: " + inc.Chat.Channel})
	case !ok:
		c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventChat,
			Message: fmt.Sprintf("chat %s failed after %d attempts: %s", op, in.Attempts, in.Error)})
	}
	switch {
	case !ok && op == ChatCreate:
		s.giveUpChat(inc)
	case !ok && op == ChatUnarchive:
		c.event(inc, Event{At: s.now, Seq: c.seq, Kind: EventChat, Message: "chat room " + inc.Chat.Channel + " stays archived: a new room is created"})
		s.newChatRoom(c, inc)
	case op == ChatArchive || op == ChatUnarchive:
		if inc.Chat.Gate == in.ID {
			inc.Chat.Gate = ""
		}
		s.releaseChat(inc)
	}
}

// newChatRoom replaces a room that could not be unarchived (a bot token
// cannot unarchive; the channel may be gone) with a new one, set up from
// the incident as a first room is. The intents that waited for the
// unarchive are given up, but for status changes, which need no room.
func (s *State) newChatRoom(c *change, inc *Incident) {
	old := inc.Chat
	s.cancelIntentsWhere(inc, func(in *Intent) bool {
		return in.Kind == IntentChat && in.Chat.Channel == "" && in.Chat.Op != ChatStatusSet && in.Chat.Op != ChatStatusClear
	})
	delete(s.chatChannels, old.Channel) // nobody types in an archived channel
	inc.Chat = &ChatRoom{Next: old.Next, StatusUser: old.StatusUser}
	s.addChat(c, inc, ChatIntent{Op: ChatCreate, Number: inc.Number}, "")
	c.chatDirty(inc)
}

// giveUpChat gives up a room that could not be created, with the intents
// that waited for it.
func (s *State) giveUpChat(inc *Incident) {
	inc.Chat.Failed = true
	s.cancelIntents(inc, IntentChat)
}

// queue puts a pending intent in its workers' due order; a chat intent
// waits there only once its room exists.
func (s *State) queue(in *Intent) {
	switch {
	case in.Kind != IntentChat:
		s.dueIntents.push(in)
	case in.Chat != nil && (in.Chat.Op == ChatCreate || in.Chat.Channel != ""):
		s.dueChat.push(in)
	}
}

// unqueue takes an intent out of the due order.
func (s *State) unqueue(id string) {
	s.dueIntents.remove(id)
	s.dueChat.remove(id)
}

// DueChatIntents returns up to limit chat intents that are due at or before
// now and whose room exists (or that create it), earliest first: what the
// chat worker is to carry out.
func (s *State) DueChatIntents(now time.Time, limit int) []Intent {
	s.mu.RLock()
	defer s.mu.RUnlock()
	due := s.dueChat.due(now, limit)
	out := make([]Intent, len(due))
	for i, in := range due {
		out[i] = *in
		if in.Chat != nil {
			ci := *in.Chat
			out[i].Chat = &ci
		}
	}
	return out
}

// NextChatDue is when the earliest chat intent ready to go is due, if any.
func (s *State) NextChatDue() (time.Time, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dueChat.peek()
}

// IncidentForChannel returns the key of the incident whose chat room is the
// given channel ID, for commands typed in the room.
func (s *State) IncidentForChannel(channelID string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	key, ok := s.chatChannels[channelID]
	return key, ok
}

// ChatChannel returns the channel ID of an incident's chat room, once it exists.
func (s *State) ChatChannel(incident string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	inc := s.incidents[incident]
	if inc == nil || inc.Chat == nil || inc.Chat.Channel == "" {
		return "", false
	}
	return inc.Chat.Channel, true
}

// PersonForSlackUser returns the on-call person whose slack field is the
// given Slack user ID, for commands typed in a room.
func (s *State) PersonForSlackUser(userID string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.oncall == nil || userID == "" {
		return "", false
	}
	id, ok := s.oncall.SlackUsers[userID]
	return id, ok
}

// armChat indexes inc's chat channel and re-arms its archiving after a
// restore or a rule change; a room without a gate gets gate, its latest
// pending archive or unarchive (pendingGates).
func (s *State) armChat(inc *Incident, gate string) {
	if inc.Chat == nil {
		return
	}
	if inc.Chat.Gate == "" {
		inc.Chat.Gate = gate // a snapshot from before rooms had a gate
	}
	if inc.Chat.Channel != "" {
		s.chatChannels[inc.Chat.Channel] = inc.Key
	}
	if !inc.Chat.ArchiveAt.IsZero() {
		s.timers.set(timerChat, inc.Key, inc.Chat.ArchiveAt)
	}
}

// pendingGates returns, by incident, the latest pending archive or
// unarchive of its room: the room's gate, which every snapshot since
// ChatRoom.Gate records, derived for those before it (format 7 as the
// stop-21 binary wrote it). An archive or unarchive holds back the room's
// later intents until it settles, so the latest one pending is the gate.
func (s *State) pendingGates() map[string]string {
	gates := make(map[string]string)
	for id, in := range s.intents {
		if in.Kind != IntentChat || in.Chat == nil || in.Chat.Op != ChatArchive && in.Chat.Op != ChatUnarchive {
			continue
		}
		if g, ok := gates[in.Incident]; !ok || chatOrdinal(id) > chatOrdinal(g) {
			gates[in.Incident] = id
		}
	}
	return gates
}

// chatOrdinal returns the ordinal in a chat intent's ID
// ("INC-1/chat/000008/archive"): the order in which the room's intents were
// decided.
func chatOrdinal(id string) int {
	_, rest, _ := strings.Cut(id, "/chat/")
	n, _ := strconv.Atoi(strings.SplitN(rest, "/", 2)[0])
	return n
}
