#!/usr/bin/env bash
# Issue 15's memory and recovery figures, on this machine:
#
#  1. Peak RSS (VmHWM) of Klaxon and of Alertmanager's own binary, each
#     started fresh, after the same ALERTS active alerts over SERVICES
#     services (POST /api/v2/alerts to both, batch BATCH, CONCURRENCY
#     senders), ROUNDS times, alternating which goes first; and the ratio
#     Klaxon ÷ Alertmanager of each round. Klaxon's store (badger) is in its
#     RSS; Alertmanager keeps alerts only in memory.
#  2. Unless RECOVERY_ALERTS=0: a fresh Klaxon takes RECOVERY_ALERTS alerts
#     (webhook, batch 100), is killed with SIGKILL, and is started again on
#     the same data directory, RECOVERY_ROUNDS times: the time from start to
#     /-/ready answering 200, the CPU time (user + system) Klaxon used by
#     then, which a busy machine does not inflate as it does the wall time,
#     and the peak RSS of that recovery. No snapshot
#     is taken while it takes the alerts (snapshot_every stays above the
#     entries written), so every entry is replayed. RECOVERY_KEEP=1 keeps a
#     copy of each killed data directory (recovery-N/killed); RECOVERY_FROM
#     names such a copy to recover from instead of taking alerts, so that
#     binaries can be compared on one journal.
#
# Environment: ROUNDS (default 3), ALERTS (100000), SERVICES (10000), BATCH
# (100), CONCURRENCY (8), KLAXON_FORMAT (v2, or webhook for Klaxon's
# /ingest/alertmanager), RECOVERY_ALERTS (1000000), RECOVERY_ROUNDS (3),
# KLAXON_BIN (a klaxon binary to measure instead of building ./cmd/klaxon),
# KLAXON_CONFIG (YAML appended to Klaxon's configuration, e.g.
# "storage: {memtable_bytes: 8388608}").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
rounds="${ROUNDS:-3}"
alerts="${ALERTS:-100000}"
services="${SERVICES:-10000}"
batch="${BATCH:-100}"
concurrency="${CONCURRENCY:-8}"
klaxon_format="${KLAXON_FORMAT:-v2}"
recovery_alerts="${RECOVERY_ALERTS:-1000000}"
recovery_rounds="${RECOVERY_ROUNDS:-3}"
work="$root/bench/.work"
bin="$work/bin"
run_dir="$work/memory-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$bin" "$run_dir"

log() { echo "memory: $*" >&2; }

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" # cleanup, free_port, wait_ready, build_tools, build_alertmanager, peak_rss_mb
trap cleanup EXIT

build_tools
am_bin=$(build_alertmanager)

token="bench-token-0123456789"

# start_klaxon DIR: starts Klaxon on a free port with its data in DIR (kept
# if it exists) and sets port and pid; returns once it is ready.
start_klaxon() {
	local dir=$1
	port=$(free_port)
	mkdir -p "$dir"
	cat >"$dir/klaxon.yml" <<EOF
listen_address: 127.0.0.1:$port
external_url: http://127.0.0.1:$port
data_dir: data
log_level: warn
limits: {active_alerts: 1000000000, active_alerts_per_source: 1000000000}
auth:
  admin:
    - name: bench
      token: bench-admin-token-0123456789
  ingest:
    alertmanager:
      tokens: [{name: bench, token: $token}]
    prometheus:
      tokens: [{name: bench, token: $token}]
${KLAXON_CONFIG:-}
EOF
	"$klaxon_bin" serve --config "$dir/klaxon.yml" >>"$dir/klaxon.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	run_dir=$dir wait_ready "http://127.0.0.1:$port/-/ready" "$pid" klaxon
}

# start_alertmanager DIR: as start_klaxon, for Alertmanager.
start_alertmanager() {
	local dir=$1
	port=$(free_port)
	mkdir -p "$dir"
	printf 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n' >"$dir/alertmanager.yml"
	"$am_bin" --config.file="$dir/alertmanager.yml" --storage.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" --cluster.listen-address= >"$dir/alertmanager.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	run_dir=$dir wait_ready "http://127.0.0.1:$port/-/ready" "$pid" alertmanager
}

# load URL FORMAT TOTAL RUN: sends TOTAL alerts, every one new.
load() {
	"$bin/loadgen" -url "$1" -format "$2" -token "$token" -concurrency "$concurrency" \
		-batch "$batch" -requests $(($3 / batch)) -duration 0 -services "$services" -run "$4" -json
}

# cpu_seconds PID: the CPU time (user + system) the process has used.
cpu_seconds() {
	awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / tck }' "/proc/$1/stat"
}

# stop PID: ends a server started here.
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# --- 1. peak RSS at ALERTS active alerts ----------------------------------

declare -A rss
measure() { # measure NAME ROUND
	local dir="$run_dir/$1-$2" url format
	if [[ $1 == klaxon ]]; then
		start_klaxon "$dir"
		format=$klaxon_format
		url="http://127.0.0.1:$port/api/v2/alerts"
		[[ $format == webhook ]] && url="http://127.0.0.1:$port/ingest/alertmanager"
	else
		start_alertmanager "$dir"
		format=v2
		url="http://127.0.0.1:$port/api/v2/alerts"
	fi
	load "$url" "$format" "$alerts" "m$2" >"$dir/loadgen.json"
	rss[$1/$2]=$(peak_rss_mb "$pid")
	log "round $2: $1 peak RSS ${rss[$1/$2]} MiB"
	stop "$pid"
}
for r in $(seq "$rounds"); do
	if ((r % 2 == 1)); then
		measure klaxon "$r"
		measure alertmanager "$r"
	else
		measure alertmanager "$r"
		measure klaxon "$r"
	fi
done

echo
echo "Peak RSS (VmHWM, MiB) after $alerts active alerts over $services services (batch $batch, $concurrency senders; Klaxon via $klaxon_format)"
printf '%-6s  %10s  %14s  %8s\n' round klaxon alertmanager ratio
for r in $(seq "$rounds"); do
	printf '%-6s  %10s  %14s  %8s\n' "$r" "${rss[klaxon/$r]}" "${rss[alertmanager/$r]}" \
		"$(awk -v a="${rss[klaxon/$r]}" -v b="${rss[alertmanager/$r]}" 'BEGIN { printf "%.2fx", a / b }')"
done

# --- 2. recovery after kill -9 --------------------------------------------

if ((recovery_alerts > 0)); then
	echo
	echo "Recovery: $recovery_alerts active alerts (webhook, batch $batch, $services services), SIGKILL, restart"
	printf '%-6s  %12s  %12s  %16s\n' round "ready (s)" "CPU (s)" "peak RSS (MiB)"
	for r in $(seq "$recovery_rounds"); do
		dir="$run_dir/recovery-$r"
		if [[ -n ${RECOVERY_FROM:-} ]]; then
			mkdir -p "$dir"
			cp -a "$RECOVERY_FROM" "$dir/data"
		else
			start_klaxon "$dir"
			load "http://127.0.0.1:$port/ingest/alertmanager" webhook "$recovery_alerts" "rec$r" >"$dir/loadgen.json"
			kill -9 "$pid"
			wait "$pid" 2>/dev/null || true
			[[ ${RECOVERY_KEEP:-} == 1 ]] && cp -a "$dir/data" "$dir/killed"
		fi
		start=$(date +%s.%N)
		start_klaxon "$dir"
		ready=$(date +%s.%N)
		printf '%-6s  %12.2f  %12s  %16s\n' "$r" "$(awk -v a="$start" -v b="$ready" 'BEGIN { print b - a }')" \
			"$(cpu_seconds "$pid")" "$(peak_rss_mb "$pid")"
		stop "$pid"
	done
fi
echo
echo "Logs: $run_dir"
