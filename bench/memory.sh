#!/usr/bin/env bash
# Memory stage of `make bench` (issue 15): peak RSS (VmHWM) of Klaxon and of
# Alertmanager's own binary (built from the version in go.mod), each started
# fresh with a fresh data directory and sent the same alerts, every one new
# (POST /api/v2/alerts to both, batch BATCH, CONCURRENCY senders, SERVICES
# services), for every count in ALERTS; ROUNDS rounds per count, alternating
# which goes first, and the ratio Klaxon ÷ Alertmanager taken within each
# round. Klaxon's store (badger) is in its RSS; Alertmanager keeps alerts
# only in memory. Recovery after kill -9 is bench/recovery.sh.
#
# Environment: ALERTS (default "100000 1000000"), ROUNDS (rounds at 100,000
# alerts or fewer, default 3), LARGE_ROUNDS (rounds at more, default 2),
# SERVICES (10000), BATCH (100), CONCURRENCY (8), KLAXON_FORMAT (v2, or
# webhook for Klaxon's /ingest/alertmanager), KLAXON_BIN (a klaxon binary to
# measure instead of building ./cmd/klaxon), KLAXON_CONFIG (YAML appended to
# Klaxon's configuration, e.g. "storage: {memtable_bytes: 8388608}"),
# BENCH_SUMMARY (a file to append the figures to, see bench/compare.sh).
# BENCH_QUICK=1 changes the defaults to one round at 100,000 alerts.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
	: "${ALERTS:=100000}" "${ROUNDS:=1}"
fi
counts="${ALERTS:-100000 1000000}"
rounds="${ROUNDS:-3}"
large_rounds="${LARGE_ROUNDS:-2}"
services="${SERVICES:-10000}"
batch="${BATCH:-100}"
concurrency="${CONCURRENCY:-8}"
klaxon_format="${KLAXON_FORMAT:-v2}"
export KLAXON_LOG_LEVEL="${KLAXON_LOG_LEVEL:-warn}"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" # setup, log, build_tools, build_alertmanager, start_server, stop, drop_data, peak_rss_mb, median, spread, summary_row
setup memory

build_tools
am_bin=$(build_alertmanager)
am_version=${am_bin##*/alertmanager-}

# send_alerts URL FORMAT TOTAL RUN: sends TOTAL alerts, every one new.
send_alerts() {
	local token=$token_prom
	[[ $2 == webhook ]] && token=$token_am
	"$bin/loadgen" -url "$1" -format "$2" -token "$token" -concurrency "$concurrency" \
		-batch "$batch" -requests $(($3 / batch)) -duration 0 -services "$services" -run "$4" -json
}

# measure NAME ALERTS ROUND: peak RSS of a fresh NAME (klaxon or
# alertmanager) after ALERTS alerts, into rss[NAME/ALERTS/ROUND].
declare -A rss
measure() {
	local dir="$run_dir/$1-$2-$3" format=v2 path=/api/v2/alerts
	if [[ $1 == klaxon ]]; then
		format=$klaxon_format
		[[ $format == webhook ]] && path=/ingest/alertmanager
	fi
	start_server "$1" "$dir"
	send_alerts "http://127.0.0.1:$port$path" "$format" "$2" "m$2-$3" >"$dir/loadgen.json"
	rss[$1/$2/$3]=$(peak_rss_mb "$server_pid")
	log "$2 alerts, round $3: $1 peak RSS ${rss[$1/$2/$3]} MiB"
	stop "$server_pid"
	drop_data "$dir"
}

echo "Peak RSS (VmHWM, MiB) after N active alerts over $services services (batch $batch, $concurrency senders;"
echo "Klaxon via $klaxon_format, Alertmanager $am_version via /api/v2/alerts), a fresh server each, alternating"
printf '%-9s  %-6s  %10s  %14s  %8s\n' alerts round klaxon alertmanager ratio
for n in $counts; do
	r_max=$rounds
	((n > 100000)) && r_max=$large_rounds
	ratios=() ks=() as=()
	for r in $(seq "$r_max"); do
		if ((r % 2 == 1)); then
			measure klaxon "$n" "$r"
			measure alertmanager "$n" "$r"
		else
			measure alertmanager "$n" "$r"
			measure klaxon "$n" "$r"
		fi
		k=${rss[klaxon/$n/$r]} a=${rss[alertmanager/$n/$r]}
		printf '%-9s  %-6s  %10s  %14s  %8s\n' "$n" "$r" "$k" "$a" "$(ratio "$k" "$a")"
		ks+=("$k") as+=("$a")
		ratios+=("$(awk -v k="$k" -v a="$a" 'BEGIN { printf "%.4f", k / a }')")
	done
	summary_row memory "peak RSS, $(thousands "$n") active alerts" "$(printf %.0f "$(median "${ks[@]}")") MiB" \
		"$(printf %.0f "$(median "${as[@]}")") MiB (Alertmanager)" "$(printf %.2fx "$(median "${ratios[@]}")")" \
		"at most 0.5x" "$(spread "${ratios[@]}")"
done
echo
echo "Logs: $run_dir"
