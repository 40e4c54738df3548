package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/notify/slack/slackfake"
)

const slackToken = "xoxb-serve-test-token-secret"

// TestServeOpensChatRooms: with a slack section, a SEV1 incident gets its
// room in Slack, and the token shows in no log line.
func TestServeOpensChatRooms(t *testing.T) {
	f := slackfake.New(slackToken, nil)
	defer f.Close()
	dir := t.TempDir()
	writeIn(t, dir, "rules/sev.yml", goodRules)
	writeIn(t, dir, "klaxon.yml", klaxonConfig(freeAddr(t), adminToken,
		"log_level: debug\nchat:\n  slack:\n    token: "+slackToken+"\n    api_url: "+f.URL()+"\n    min_severity: SEV1\n"))
	k, err := launch(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer k.stop()
	base := k.base
	if sev := severityOf(t, base, "CheckoutDown", "INC-1"); sev != "SEV1" {
		t.Fatalf("severity %q", sev)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		chs := f.Channels()
		if len(chs) == 1 && len(chs[0].Messages) == 1 && chs[0].Topic != "" {
			if chs[0].Name != "inc-1" || !strings.HasPrefix(chs[0].Messages[0], "*INC-1* SEV1 triggered") {
				t.Errorf("room %+v", chs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room in Slack: %+v", chs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, e := range k.logs.All() {
		if line := fmt.Sprint(e.Message, e.ContextMap()); strings.Contains(line, slackToken) {
			t.Errorf("the Slack token is in a log line: %s", line)
		}
	}
}

func TestServeRefusesAnUnknownChatSeverity(t *testing.T) {
	dir := t.TempDir()
	writeIn(t, dir, "rules/sev.yml", goodRules)
	writeIn(t, dir, "klaxon.yml", klaxonConfig(freeAddr(t), adminToken,
		"chat:\n  slack:\n    token: "+slackToken+"\n    api_url: http://127.0.0.1:9/api/\n    min_severity: SEV9\n"))
	cfg, err := config.Load(filepath.Join(dir, "klaxon.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const want = `chat.slack.min_severity: "SEV9" is not a severity level of the rules in force`
	err = serve(context.Background(), cfg, zap.NewNop(), zap.NewAtomicLevel())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("serve: %v", err)
	}
	var stdout, stderr strings.Builder
	if code := runCheckConfig([]string{filepath.Join(dir, "klaxon.yml")}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("check config: exit %d, %s", code, stderr.String())
	}
}

// TestReplicasOpenOneChatRoom: three replicas with chat rooms open one
// room per incident, from the leader alone, and a new leader takes the
// rooms over.
func TestReplicasOpenOneChatRoom(t *testing.T) {
	f := slackfake.New(slackToken, nil)
	defer f.Close()
	ks, _ := startReplicasIn(t, "chat:\n  slack:\n    token: "+slackToken+"\n    api_url: "+f.URL()+"\n    min_severity: SEV1\n")
	stopped := map[int]bool{}
	defer func() {
		for i, k := range ks {
			if !stopped[i] {
				k.stop()
			}
		}
	}()
	leader := leaderOf(t, ks)
	postCritical(t, ks[leader].base, "CheckoutDown")
	waitRooms(t, f, 1)

	ks[leader].stop()
	stopped[leader] = true
	survivor := ks[(leader+1)%3]
	postCritical(t, survivor.base, "PaymentsDown")
	chs := waitRooms(t, f, 2)
	for _, ch := range chs {
		if len(ch.Messages) != 1 {
			t.Errorf("room %s: %d messages, want its one opening message: %q", ch.Name, len(ch.Messages), ch.Messages)
		}
	}
}

// postCritical posts a critical alert named name until it is answered 200.
func postCritical(t *testing.T, base, name string) {
	t.Helper()
	waitUntil(t, "an alert "+name+" taken", func() bool {
		resp, err := http.Post(base+"/api/v2/alerts", "application/json",
			strings.NewReader(`[{"labels":{"alertname":"`+name+`","severity":"critical"}}]`))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitRooms waits until Slack holds n rooms, each with its topic set and
// its first message posted, and no more; it returns them.
func waitRooms(t *testing.T, f *slackfake.Server, n int) []slackfake.Channel {
	t.Helper()
	var chs []slackfake.Channel
	waitUntil(t, fmt.Sprintf("%d rooms in Slack", n), func() bool {
		chs = f.Channels()
		if len(chs) > n {
			t.Fatalf("%d rooms in Slack, want %d: %+v", len(chs), n, chs)
		}
		for _, ch := range chs {
			if ch.Topic == "" || len(ch.Messages) == 0 {
				return false
			}
		}
		return len(chs) == n
	})
	return chs
}
