#!/usr/bin/env bash
# Recovery stage of `make bench` (issue 15): a fresh Klaxon takes
# RECOVERY_ALERTS alerts, every one new (webhook, batch BATCH, CONCURRENCY
# senders, SERVICES services), and is killed with SIGKILL; then, ROUNDS
# times, it is started again on the same data directory, timed from start to
# /-/ready answering 200, and killed with SIGKILL again once ready. Each
# round reports that wall time, the CPU time (user + system) Klaxon used by
# then, which a busy machine does not inflate as it does the wall time, and
# the peak RSS of the recovery. No snapshot is taken while it takes the
# alerts (snapshot_every stays above the entries written), so every round
# replays every entry. Then Klaxon is stopped cleanly, which stores a
# snapshot, and ROUNDS more rounds restore that snapshot instead. The
# reference is the goal, 5 s, snapshot or not: nothing else recovers these
# alerts (Alertmanager loses them on kill -9).
#
# Environment: RECOVERY_ALERTS (default 1000000), ROUNDS (default 3),
# SERVICES (10000), BATCH (100), CONCURRENCY (8), KLAXON_BIN, KLAXON_CONFIG
# (as for bench/memory.sh), BENCH_SUMMARY (a file to append the figures to,
# see bench/compare.sh). BENCH_QUICK=1 changes the defaults to one round
# after 200,000 alerts. RECOVERY_KEEP=1 keeps a copy of the killed data
# directory (its path is logged); RECOVERY_FROM=DIR recovers a copy of such
# a directory instead of sending alerts, so binaries compare on one journal.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
	: "${RECOVERY_ALERTS:=200000}" "${ROUNDS:=1}"
fi
alerts="${RECOVERY_ALERTS:-1000000}"
rounds="${ROUNDS:-3}"
services="${SERVICES:-10000}"
batch="${BATCH:-100}"
concurrency="${CONCURRENCY:-8}"
goal=5
export KLAXON_LOG_LEVEL="${KLAXON_LOG_LEVEL:-warn}"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" # setup, log, build_tools, start_server, drop_data, cpu_seconds, peak_rss_mb, median, spread, summary_row
setup recovery

build_tools

# kill9: kills the server started last with SIGKILL and waits for it.
kill9() {
	kill -9 "$server_pid"
	wait "$server_pid" 2>/dev/null || true
}

dir="$run_dir/klaxon"
if [[ -n "${RECOVERY_FROM:-}" ]]; then
	log "recovering a copy of $RECOVERY_FROM"
	mkdir -p "$dir"
	cp -a "$RECOVERY_FROM/." "$dir/"
else
	start_server klaxon "$dir"
	log "sending $alerts alerts"
	"$bin/loadgen" -url "http://127.0.0.1:$port/ingest/alertmanager" -format webhook -token "$token_am" \
		-concurrency "$concurrency" -batch "$batch" -requests $((alerts / batch)) -duration 0 \
		-services "$services" -run rec -json >"$run_dir/loadgen.json"
	kill9
	if [[ "${RECOVERY_KEEP:-0}" == 1 ]]; then
		cp -a "$dir" "$run_dir/killed"
		log "kept the killed data directory in $run_dir/killed (RECOVERY_FROM=$run_dir/killed)"
	fi
fi

echo "Recovery: $alerts active alerts (webhook, batch $batch, $services services), SIGKILL, restart; $rounds round(s) replaying the journal, then $rounds from a snapshot"
printf '%-10s  %12s  %12s  %16s\n' round "ready (s)" "CPU (s)" "peak RSS (MiB)"
walls=() cpus=() rsss=()
# time_rounds LABEL: starts Klaxon on $dir $rounds times, each timed to
# ready and killed with SIGKILL once ready, appending to walls, cpus, rsss.
time_rounds() {
	for r in $(seq "$rounds"); do
		start=$(date +%s.%N)
		start_server klaxon "$dir" keep
		ready=$(date +%s.%N)
		walls+=("$(awk -v a="$start" -v b="$ready" 'BEGIN { printf "%.2f", b - a }')")
		cpus+=("$(cpu_seconds "$server_pid")")
		rsss+=("$(peak_rss_mb "$server_pid")")
		kill9
		printf '%-10s  %12s  %12s  %16s\n' "$1 $r" "${walls[-1]}" "${cpus[-1]}" "${rsss[-1]}"
	done
}
time_rounds replay
replay_walls=("${walls[@]}") replay_cpus=("${cpus[@]}") replay_rsss=("${rsss[@]}")

# The same alerts from a snapshot: a clean stop (SIGTERM) stores one, and
# each round then restores it instead of replaying the entries.
start_server klaxon "$dir" keep
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
walls=() cpus=() rsss=()
time_rounds snapshot
snap_walls=("${walls[@]}") snap_cpus=("${cpus[@]}") snap_rsss=("${rsss[@]}")
drop_data "$dir"
echo
echo "Logs: $run_dir"

# over_goal VALUE...: each value ÷ the goal.
over_goal() { for v in "$@"; do awk -v v="$v" -v g="$goal" 'BEGIN { printf "%.4f\n", v / g }'; done; }
what="$(thousands "$alerts") alerts journaled"
# report HOW WALLS CPUS RSSS: the summary rows of one way of recovering.
report() {
	local how=$1
	local -n w=$2 c=$3 m=$4
	mapfile -t wall_ratios < <(over_goal "${w[@]}")
	mapfile -t cpu_ratios < <(over_goal "${c[@]}")
	summary_row recovery "kill -9 to ready, $what, $how" "$(printf %.1f "$(median "${w[@]}")") s" "$goal s (goal)" \
		"$(printf %.2fx "$(median "${wall_ratios[@]}")")" "at most 1x" \
		"$(spread "${wall_ratios[@]}"); peak RSS $(printf %.0f "$(median "${m[@]}")") MiB"
	summary_row recovery "CPU time to ready, $what, $how" "$(printf %.1f "$(median "${c[@]}")") s" "$goal s (goal)" \
		"$(printf %.2fx "$(median "${cpu_ratios[@]}")")" "at most 1x" "$(spread "${cpu_ratios[@]}")"
}
report "no snapshot" replay_walls replay_cpus replay_rsss
report "from a snapshot" snap_walls snap_cpus snap_rsss
