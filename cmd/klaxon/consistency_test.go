package main

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/triage"
)

// TestReportBodyRetentionAgrees: the configuration warns about a journal
// kept longer than triage keeps report bodies; both must mean one period.
func TestReportBodyRetentionAgrees(t *testing.T) {
	if got := time.Duration(config.MaxReportBodyDays) * 24 * time.Hour; got != triage.ReportTextRetention {
		t.Errorf("config warns past %s, triage forgets bodies after %s", got, triage.ReportTextRetention)
	}
}
