package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/engine"
	"github.com/klaxonhq/klaxon/journal"
	"github.com/klaxonhq/klaxon/rules"
	"github.com/klaxonhq/klaxon/triage"
)

// TestLoggerWritesISO8601Times logs through the serve logger's
// configuration into a file and reads the line back: the line's time and a
// time field are ISO 8601, not epoch seconds.
func TestLoggerWritesISO8601Times(t *testing.T) {
	zc, err := loggerConfig("info")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "log.json")
	zc.OutputPaths = []string{path}
	log, err := zc.Build()
	if err != nil {
		t.Fatal(err)
	}
	log.Info("incident opened", zap.Time("at", time.Date(2026, 11, 25, 3, 4, 5, 6e6, time.UTC)))
	_ = log.Sync()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(data, &line); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	iso := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d{4})$`)
	if ts, _ := line["ts"].(string); !iso.MatchString(ts) {
		t.Errorf("ts = %#v, want an ISO 8601 time", line["ts"])
	}
	if at := line["at"]; at != "2026-11-25T03:04:05.006Z" {
		t.Errorf("at = %#v, want 2026-11-25T03:04:05.006Z", at)
	}
	if _, err := loggerConfig("loud"); err == nil {
		t.Error("log level loud accepted")
	}
}

// TestReloadLogsWhetherRulesChanged installs rule files, the same again,
// then changed ones: each install logs one line saying which it was.
func TestReloadLogsWhetherRulesChanged(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	state := triage.New(nil)
	j := journal.NewMemory(state, nil)
	defer j.Close()
	eng := engine.New(j, state, engine.Options{})
	rl := newReloader(&config.Config{}, eng, nil, nil, zap.NewAtomicLevel(), zap.New(core), prometheus.NewRegistry())
	first := []rules.File{{Name: "sev.yml", Data: []byte(goodRules)}}
	second := []rules.File{{Name: "sev.yml", Data: []byte(goodRules + "\n# changed\n")}}
	var got []string
	for _, files := range [][]rules.File{first, first, second} {
		if err := rl.install(context.Background(), files); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range logs.All() {
		got = append(got, e.Message)
	}
	if want := []string{"rules installed", "rules unchanged", "rules installed"}; !slices.Equal(got, want) {
		t.Errorf("log lines %q, want %q", got, want)
	}
}
