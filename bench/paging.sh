#!/usr/bin/env bash
# Paging latency (issue 13): with INCIDENTS SEV1 incidents escalating and
# RATE alerts/s of background ingest, the time from a SEV1 alert's accepted
# POST (2xx: durable) to its page reaching a webhook receiver, over
# PROBE_RATE probes/s for DURATION. bench/paging (Go) writes the
# configuration, starts klaxon on loopback with a fresh data directory, runs
# the receiver and the senders in one process (one clock for both ends), and
# reports; this script builds it and prints the figures.
#
# Environment: INCIDENTS (default 10000), RATE (background alerts/s, default
# 10000), PROBE_RATE (default 20), PAGING_DURATION (default 30s), PROFILE=1
# (save a CPU profile of klaxon during the measurement), KLAXON_BIN (a klaxon
# binary to measure instead of building ./cmd/klaxon).
#
# BENCH_QUICK=1 changes the defaults to 2,000 incidents and 10 s; with
# BENCH_SUMMARY set, the p99 is appended to that file as a ratio to the
# design's goal of 100 ms (see bench/compare.sh).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
	: "${INCIDENTS:=2000}" "${PAGING_DURATION:=10s}"
fi
incidents="${INCIDENTS:-10000}"
rate="${RATE:-10000}"
probe_rate="${PROBE_RATE:-20}"
duration="${PAGING_DURATION:-30s}"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" # setup, log, build_klaxon, field, summary_row
setup paging

build_klaxon
log "building bench/paging"
go build -o "$bin/paging" ./bench/paging

profile=()
if [[ "${PROFILE:-0}" == 1 ]]; then
	profile=(-profile)
fi
log "opening $incidents incidents, then $probe_rate probes/s for $duration under $rate alerts/s (work dir $run_dir)"
report=$("$bin/paging" -klaxon "$klaxon_bin" -work "$run_dir" -incidents "$incidents" \
	-rate "$rate" -probe-rate "$probe_rate" -duration "$duration" -json "${profile[@]}")
echo "$report" >"$run_dir/report.json"

echo
echo "Paging: $incidents incidents with active escalations; $probe_rate SEV1 probes/s for $duration among $rate alerts/s of background ingest"
echo "(re-sends of the open incidents' alerts with a fresh endsAt, every 10th a new alert in one of them: nothing that pages)."
echo "Latency is from the probe's POST answered 2xx (durable) to its page at the webhook receiver; \"p99 from POST\" counts from the POST's start."
echo
row='%6s  %9s  %8s  %8s  %8s  %8s  %8s  %14s  %11s  %12s\n'
# shellcheck disable=SC2059 # the format is the variable
printf "$row" probes unpaged "bg/s" "p50 ms" "p90 ms" "p99 ms" "max ms" "p99 from POST" "peak RSS MB" "open+page s"
# shellcheck disable=SC2059
printf "$row" "$(field "$report" probes)" "$(field "$report" probes_unpaged)" "$(printf %.0f "$(field "$report" background_per_sec)")" \
	"$(printf %.2f "$(field "$report" p50_ms)")" "$(printf %.2f "$(field "$report" p90_ms)")" "$(printf %.2f "$(field "$report" p99_ms)")" \
	"$(printf %.2f "$(field "$report" max_ms)")" "$(printf %.2f "$(field "$report" sent_p99_ms)")" \
	"$(printf %.0f "$(field "$report" klaxon_peak_rss_mib)")" "$(printf %.1f "$(field "$report" open_seconds)")"
echo
echo "Report and klaxon's log: $run_dir"

p99=$(field "$report" p99_ms)
summary_row paging "p99, accepted SEV1 alert to its page, $(printf %.0f "$(field "$report" background_per_sec)") alerts/s" \
	"$(printf %.2f "$p99") ms" "100 ms (goal)" "$(awk -v p="$p99" 'BEGIN { printf "%.3fx", p / 100 }')" "at most 1x" \
	"p99 from the POST's start $(printf %.2f "$(field "$report" sent_p99_ms)") ms; $(field "$report" probes_unpaged) of $(field "$report" probes) probes unpaged"
