#!/usr/bin/env bash
# Puts the same load on Klaxon and on Alertmanager's own binary, on this
# machine, and prints what each takes: alerts/s, p50 and p99 latency, peak
# RSS, and Klaxon's throughput as a multiple of Alertmanager's.
#
# Alertmanager is built from source at the version the main go.mod requires,
# in the throwaway module bench/alertmanager (the main go.mod is untouched).
# Each server gets a fresh data dir on loopback. For every batch size, the
# runs alternate between the servers so that neither always goes first.
#
# Then, unless PAGING=0, it runs bench/paging.sh: Klaxon's paging latency
# with 10,000 incidents escalating under 10,000 alerts/s of background
# ingest (see that script for its own settings).
#
# Then, unless STATUSPAGE=0, it runs bench/statuspage.sh: the external
# status page served by Klaxon beside the same exported file served by
# nginx (Debian package), requests/s of each and the ratio.
#
# Then, unless CLUSTER=0, it runs bench/cluster.sh: ingest into three
# replicas beside one and beside Alertmanager, and failover time over ten
# leader kills.
#
# Environment: DURATION (per run, default 10s), CONCURRENCY (default 16),
# BATCHES (default "1 10 100"), SERVICES (default 50), KLAXON_BIN (a klaxon
# binary to measure instead of building ./cmd/klaxon), PAGING (default 1),
# STATUSPAGE (default 1), CLUSTER (default 1).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
duration="${DURATION:-10s}"
concurrency="${CONCURRENCY:-16}"
batches="${BATCHES:-1 10 100}"
services="${SERVICES:-50}"
work="$root/bench/.work"
bin="$work/bin"
run_dir="$work/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$bin" "$run_dir"

log() { echo "compare: $*" >&2; }

# --- build ---------------------------------------------------------------

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" # cleanup, free_port, wait_ready, build_tools, build_alertmanager, peak_rss_mb
trap cleanup EXIT

build_tools
am_bin=$(build_alertmanager)
am_version=${am_bin##*/alertmanager-}

# --- start the servers ---------------------------------------------------

token_am="bench-alertmanager-token-0123456789"
token_prom="bench-prometheus-token-0123456789"
declare -A token_report=([ticket]="bench-tickets-token-0123456789" [mention]="bench-mentions-token-0123456789")
klaxon_port=$(free_port)
mkdir -p "$run_dir/klaxon"
cat >"$run_dir/klaxon/klaxon.yml" <<EOF
listen_address: 127.0.0.1:$klaxon_port
external_url: http://127.0.0.1:$klaxon_port
data_dir: data
log_level: info
# Every run sends new alerts into this one instance: limits high enough
# never to refuse, but still checked, so their cost is measured.
limits: {active_alerts: 1000000000, active_alerts_per_source: 1000000000}
auth:
  admin:
    - name: bench
      token: bench-admin-token-0123456789
  metrics_open: true
  ingest:
    alertmanager:
      tokens: [{name: bench, token: $token_am}]
    prometheus:
      tokens: [{name: bench, token: $token_prom}]
    tickets:
      tokens: [{name: bench, token: ${token_report[ticket]}}]
    mentions:
      tokens: [{name: bench, token: ${token_report[mention]}}]
EOF
"$klaxon_bin" serve --config "$run_dir/klaxon/klaxon.yml" >"$run_dir/klaxon.log" 2>&1 &
klaxon_pid=$!
pids+=("$klaxon_pid")

am_port=$(free_port)
mkdir -p "$run_dir/alertmanager"
cat >"$run_dir/alertmanager/alertmanager.yml" <<EOF
route:
  receiver: blackhole
receivers:
  - name: blackhole
EOF
"$am_bin" --config.file="$run_dir/alertmanager/alertmanager.yml" \
	--storage.path="$run_dir/alertmanager/data" \
	--web.listen-address="127.0.0.1:$am_port" \
	--cluster.listen-address= >"$run_dir/alertmanager.log" 2>&1 &
am_pid=$!
pids+=("$am_pid")

wait_ready "http://127.0.0.1:$klaxon_port/-/ready" "$klaxon_pid" klaxon
wait_ready "http://127.0.0.1:$am_port/-/ready" "$am_pid" alertmanager
log "klaxon (pid $klaxon_pid) on :$klaxon_port, alertmanager $am_version (pid $am_pid) on :$am_port; logs in $run_dir"

# --- run the load --------------------------------------------------------


targets=(klaxon-webhook alertmanager-v2 klaxon-v2)
declare -A url format token pid label
url[klaxon-webhook]="http://127.0.0.1:$klaxon_port/ingest/alertmanager"
format[klaxon-webhook]=webhook token[klaxon-webhook]=$token_am pid[klaxon-webhook]=$klaxon_pid
label[klaxon-webhook]="klaxon /ingest/alertmanager"
url[klaxon-v2]="http://127.0.0.1:$klaxon_port/api/v2/alerts"
format[klaxon-v2]=v2 token[klaxon-v2]=$token_prom pid[klaxon-v2]=$klaxon_pid
label[klaxon-v2]="klaxon /api/v2/alerts"
url[alertmanager-v2]="http://127.0.0.1:$am_port/api/v2/alerts"
format[alertmanager-v2]=v2 token[alertmanager-v2]="" pid[alertmanager-v2]=$am_pid
label[alertmanager-v2]="alertmanager $am_version /api/v2/alerts"

declare -A rate p50 p99 maxl errs rss
round=0
for batch in $batches; do
	order=("${targets[@]}")
	if ((round % 2 == 1)); then
		order=("${targets[2]}" "${targets[1]}" "${targets[0]}")
	fi
	round=$((round + 1))
	for target in "${order[@]}"; do
		log "batch $batch: ${label[$target]} for $duration"
		report=$("$bin/loadgen" -url "${url[$target]}" -format "${format[$target]}" \
			-token "${token[$target]}" -concurrency "$concurrency" -batch "$batch" \
			-duration "$duration" -services "$services" -run "b$batch-$target" -json) || true
		echo "$report" >"$run_dir/loadgen-$target-$batch.json"
		k="$target/$batch"
		rate[$k]=$(field "$report" alerts_per_sec)
		p50[$k]=$(field "$report" p50_ms)
		p99[$k]=$(field "$report" p99_ms)
		maxl[$k]=$(field "$report" max_ms)
		errs[$k]=$(field "$report" error_count)
		rss[$k]=$(peak_rss_mb "${pid[$target]}")
		if [[ -z "${rate[$k]}" ]]; then
			log "loadgen gave no report for ${label[$target]}, batch $batch"
		fi
		if ! kill -0 "${pid[$target]}" 2>/dev/null; then
			log "${label[$target]} exited; see $run_dir"
		fi
	done
done

# Tickets and mentions: one generic report per request, into the same Klaxon.
declare -A report_rate report_p50 report_p99 report_errs
for kind in ticket mention; do
	log "klaxon /ingest/${kind}s/generic for $duration"
	report=$("$bin/loadgen" -url "http://127.0.0.1:$klaxon_port/ingest/${kind}s/generic" -format "$kind" \
		-token "${token_report[$kind]}" -concurrency "$concurrency" -batch 1 \
		-duration "$duration" -services "$services" -run "r-$kind" -json) || true
	echo "$report" >"$run_dir/loadgen-klaxon-$kind.json"
	report_rate[$kind]=$(field "$report" alerts_per_sec)
	report_p50[$kind]=$(field "$report" p50_ms)
	report_p99[$kind]=$(field "$report" p99_ms)
	report_errs[$kind]=$(field "$report" error_count)
done

# --- report --------------------------------------------------------------

echo
echo "Ingest: same load on both ($concurrency concurrent senders, $duration per run, $services services, every alert a new label set)"
echo "Peak RSS is VmHWM after the run (one Klaxon process takes both of its endpoints' runs)."
echo "Max ms is the longest wait, counting requests still unanswered when the run ended: a stall shows there."
echo
row='%-5s  %-40s  %10s  %8s  %8s  %9s  %6s  %11s  %7s\n'
# shellcheck disable=SC2059 # the format is the variable
printf "$row" batch target alerts/s "p50 ms" "p99 ms" "max ms" errors "peak RSS MB" "vs AM"
for batch in $batches; do
	am_rate="${rate[alertmanager-v2/$batch]:-}"
	for target in klaxon-webhook klaxon-v2 alertmanager-v2; do
		k="$target/$batch"
		ratio=$(awk -v a="${rate[$k]:-}" -v b="$am_rate" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }')
		# shellcheck disable=SC2059
		printf "$row" "$batch" "${label[$target]}" \
			"$(num %.0f "${rate[$k]:-}")" "$(num %.2f "${p50[$k]:-}")" "$(num %.2f "${p99[$k]:-}")" "$(num %.0f "${maxl[$k]:-}")" \
			"${errs[$k]:-n/a}" "${rss[$k]:-n/a}" "$ratio"
	done
done
echo
echo "Reports: one generic ticket or mention per request ($concurrency concurrent senders, $duration per run)"
report_row='%-40s  %10s  %8s  %8s  %6s\n'
# shellcheck disable=SC2059
printf "$report_row" target reports/s "p50 ms" "p99 ms" errors
for kind in ticket mention; do
	# shellcheck disable=SC2059
	printf "$report_row" "klaxon /ingest/${kind}s/generic" "$(num %.0f "${report_rate[$kind]:-}")" \
		"$(num %.2f "${report_p50[$kind]:-}")" "$(num %.2f "${report_p99[$kind]:-}")" "${report_errs[$kind]:-n/a}"
done
echo
echo "Reports and server logs: $run_dir"

# --- paging latency ------------------------------------------------------

if [[ "${PAGING:-1}" == 1 ]]; then
	cleanup # the ingest runs' servers are done: the paging benchmark starts its own Klaxon
	pids=()
	KLAXON_BIN="$klaxon_bin" bash "$root/bench/paging.sh"
fi

# --- status page against nginx -------------------------------------------

if [[ "${STATUSPAGE:-1}" == 1 ]]; then
	cleanup
	pids=()
	KLAXON_BIN="$klaxon_bin" bash "$root/bench/statuspage.sh"
fi

# --- replication ----------------------------------------------------------

if [[ "${CLUSTER:-1}" == 1 ]]; then
	cleanup
	pids=()
	KLAXON_BIN="$klaxon_bin" AM_BIN="$am_bin" BATCHES="1 100" bash "$root/bench/cluster.sh"
fi
