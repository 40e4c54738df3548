#!/usr/bin/env bash
# `make bench`: every figure of issue 15 and the design's "Numbers to reach",
# each measured in this run beside its reference and reported as a ratio to
# it, stage by stage, then all together in one table.
#
# Stages (STAGES, in this order by default), each its own script,
# bench/<stage>.sh:
#   ingest      Klaxon's two Alertmanager endpoints against Alertmanager's own
#               binary: alerts/s at 16 and 64 senders, batches 1, 10, 100
#   memory      peak RSS holding 100,000 and 1,000,000 active alerts against
#               Alertmanager holding the same
#   recovery    time and CPU time to ready after kill -9 with 1,000,000
#               alerts journaled, replaying them and from a snapshot,
#               against the 5 s goal
#   paging      p99 from an accepted SEV1 alert to its page, under 10,000
#               alerts/s of background ingest, against the 100 ms goal
#   statuspage  the external status page's requests/s against nginx serving
#               the same exported file
#   cluster     ingest into three replicas against one replica and against
#               Alertmanager, and failover time over ten leader kills against
#               the 5 s goal
# A stage whose script is missing is reported as not measured; a stage that
# fails is reported as failed and the others still run.
#
# A stage script is run with KLAXON_BIN (the binary under test, built once
# here), BENCH_QUICK and BENCH_SUMMARY set. It prints its own report and
# appends one line per figure to the file $BENCH_SUMMARY, tab-separated:
#   stage, figure, Klaxon's value, the reference's value, ratio, goal, spread
# (spread: how much the ratio moved between rounds, or "").
#
# Environment: STAGES, KLAXON_BIN (a klaxon binary to measure instead of
# building ./cmd/klaxon), BENCH_QUICK=1 (a quick run of a few minutes: fewer
# rounds, shorter runs, smaller loads; its figures are rougher; about 2
# minutes), and each stage's own settings (see its script). The whole default
# run takes about 12 minutes on this project's 2-core machine when nothing
# else runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
stages="${STAGES:-ingest memory recovery paging statuspage cluster}"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" # setup, log, build_klaxon
setup bench

export BENCH_QUICK="${BENCH_QUICK:-0}"
export BENCH_SUMMARY="$run_dir/summary.tsv"
: >"$BENCH_SUMMARY"

build_klaxon
export KLAXON_BIN=$klaxon_bin

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A outcome
for stage in $stages; do
	script="$root/bench/$stage.sh"
	if [[ ! -f "$script" ]]; then
		log "stage $stage: no bench/$stage.sh, not measured"
		outcome[$stage]="not measured (no bench/$stage.sh)"
		continue
	fi
	log "stage $stage"
	echo
	echo "=== $stage ==="
	t0=$(date +%s)
	if bash "$script"; then
		outcome[$stage]="done in $(($(date +%s) - t0)) s"
	else
		outcome[$stage]="FAILED after $(($(date +%s) - t0)) s"
		log "stage $stage failed; going on"
	fi
done

# --- report --------------------------------------------------------------

echo
echo "=== summary: every figure against its reference, measured in this run ==="
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
	"load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg), quick: $BENCH_QUICK, $(go version | cut -d' ' -f3)"
echo
row='%-11s  %-62s  %-18s  %-34s  %-7s  %-14s  %s\n'
# shellcheck disable=SC2059 # the format is the variable
printf "$row" stage figure Klaxon reference ratio goal spread
for stage in $stages; do
	if ! grep -q "^$stage	" "$BENCH_SUMMARY"; then
		# shellcheck disable=SC2059
		printf "$row" "$stage" "${outcome[$stage]}" "" "" "" "" ""
		continue
	fi
	grep "^$stage	" "$BENCH_SUMMARY" | while IFS=$'\t' read -r st fig k ref ratio goal spread; do
		# shellcheck disable=SC2059
		printf "$row" "$st" "$fig" "$k" "$ref" "$ratio" "$goal" "$spread"
	done
	# shellcheck disable=SC2059
	[[ "${outcome[$stage]}" == FAILED* ]] && printf "$row" "$stage" "${outcome[$stage]}" "" "" "" "" ""
done
echo
echo "Whole run: $(($(date +%s) - started)) s; stage reports under $work; summary: $BENCH_SUMMARY"
