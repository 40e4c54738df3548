#!/usr/bin/env bash
# Replication (issue 19): ingest into three Klaxon replicas on hashicorp/raft
# beside one Klaxon without a cluster section and beside Alertmanager's own
# binary, at the same load (bench/loadgen, Alertmanager's webhook payload to
# Klaxon, POST /api/v2/alerts to Alertmanager), as alerts/s and as ratios;
# then failover time over KILLS leader kills.
#
# In the cluster an alert is answered 2xx once the leader has committed it on
# a majority, so every acknowledgement in the three-replica runs is on two
# replicas' disks. The replicas run on this one machine, on loopback, each
# with its own data directory: what they share is the CPU and the disk, which
# a real deployment does not; the figures are a floor.
#
# Failover time is from the leader's SIGKILL to the first alert a survivor
# answers 2xx (POSTs every 20 ms, alternating between the survivors); the
# killed node is restarted and caught up before the next kill.
#
# Environment: DURATION (per run, default 10s), CONCURRENCY (default 16),
# BATCHES (default "1 100"), SERVICES (default 50), KILLS (default 10),
# KLAXON_BIN (a klaxon binary to measure instead of building ./cmd/klaxon),
# AM_BIN (an alertmanager binary instead of the one built from go.mod's
# version), BENCH_SUMMARY (a file to append the figures to, see
# bench/compare.sh). BENCH_QUICK=1 changes the defaults to 3 s runs at batch
# 100 and 3 kills.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
	: "${DURATION:=3s}" "${BATCHES:=100}" "${KILLS:=3}"
fi
duration="${DURATION:-10s}"
concurrency="${CONCURRENCY:-16}"
batches="${BATCHES:-1 100}"
services="${SERVICES:-50}"
kills="${KILLS:-10}"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" # setup, log, build_tools, build_alertmanager, klaxon_config, run_alertmanager, field, num, ratio, median, summary_row
setup cluster

build_tools
am_bin="${AM_BIN:-$(build_alertmanager)}"

# write_config DIR PORT: a Klaxon configuration without a cluster section.
write_config() {
	mkdir -p "$1"
	klaxon_config "$2" >"$1/klaxon.yml"
}

# start_klaxon NAME: runs the configuration in $run_dir/NAME, its pid in
# pid[NAME].
declare -A pid port raft
start_klaxon() {
	"$klaxon_bin" serve --config "$run_dir/$1/klaxon.yml" >>"$run_dir/$1.log" 2>&1 &
	pid[$1]=$!
	pids+=("${pid[$1]}")
}

# --- the servers ---------------------------------------------------------

port[single]=$(free_port)
write_config "$run_dir/single" "${port[single]}"
start_klaxon single

nodes=(n1 n2 n3)
for n in "${nodes[@]}"; do
	port[$n]=$(free_port)
	raft[$n]=$(free_port)
done
for n in "${nodes[@]}"; do
	write_config "$run_dir/$n" "${port[$n]}"
	{
		echo "cluster:"
		echo "  node_id: $n"
		echo "  raft_address: 127.0.0.1:${raft[$n]}"
		echo "  peers:"
		for p in "${nodes[@]}"; do
			echo "    - {id: $p, raft_address: \"127.0.0.1:${raft[$p]}\", api_url: \"http://127.0.0.1:${port[$p]}\"}"
		done
	} >>"$run_dir/$n/klaxon.yml"
	start_klaxon "$n"
done

port[am]=$(free_port)
run_alertmanager "$run_dir/am" "${port[am]}"
pid[am]=$!
pids+=("${pid[am]}")
run_dir=$run_dir/am wait_ready "http://127.0.0.1:${port[am]}/-/ready" "${pid[am]}" alertmanager
wait_ready "http://127.0.0.1:${port[single]}/-/ready" "${pid[single]}" single
for n in "${nodes[@]}"; do
	wait_ready "http://127.0.0.1:${port[$n]}/-/ready" "${pid[$n]}" "$n"
done
log "servers up; logs and reports in $run_dir"

# leader: the node id the cluster's nodes name as leader (empty if none).
leader() {
	local n
	for n in "${nodes[@]}"; do
		kill -0 "${pid[$n]}" 2>/dev/null || continue
		curl -fsS --max-time 2 -H "Authorization: Bearer $token_admin" \
			"http://127.0.0.1:${port[$n]}/api/v1/cluster" 2>/dev/null |
			sed -n 's/.*"state":"leader".*/LEADER/p' | grep -q LEADER && { echo "$n"; return; }
	done
	echo ""
}

# --- ingest --------------------------------------------------------------

# load TARGET URL FORMAT TOKEN BATCH: one loadgen run; sets rate[TARGET/BATCH].
declare -A rate p99 errs
load() {
	local report
	log "batch $5: $1 for $duration"
	report=$("$bin/loadgen" -url "$2" -format "$3" -token "$4" -concurrency "$concurrency" -batch "$5" \
		-duration "$duration" -services "$services" -run "c$5-$1" -json) || true
	echo "$report" >"$run_dir/loadgen-$1-$5.json"
	rate[$1/$5]=$(field "$report" alerts_per_sec)
	p99[$1/$5]=$(field "$report" p99_ms)
	errs[$1/$5]=$(field "$report" error_count)
}

lead=$(leader)
if [[ -z "$lead" ]]; then
	log "the cluster names no leader"
	exit 1
fi
follower=""
for n in "${nodes[@]}"; do
	[[ "$n" != "$lead" ]] && follower=$n && break
done
targets=(single leader follower am)
round=0
for batch in $batches; do
	order=("${targets[@]}")
	if ((round % 2 == 1)); then
		order=(am follower leader single)
	fi
	round=$((round + 1))
	for target in "${order[@]}"; do
		case $target in
		single) load single "http://127.0.0.1:${port[single]}/ingest/alertmanager" webhook "$token_am" "$batch" ;;
		leader) load leader "http://127.0.0.1:${port[$lead]}/ingest/alertmanager" webhook "$token_am" "$batch" ;;
		follower) load follower "http://127.0.0.1:${port[$follower]}/ingest/alertmanager" webhook "$token_am" "$batch" ;;
		am) load am "http://127.0.0.1:${port[am]}/api/v2/alerts" v2 "" "$batch" ;;
		esac
	done
done

# --- failover ------------------------------------------------------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# probe NODE I: POSTs one new alert to NODE; succeeds on 2xx.
probe() {
	local body
	body=$(printf '{"version":"4","status":"firing","receiver":"bench","groupKey":"bench","alerts":[{"status":"firing","labels":{"alertname":"FailoverProbe","service":"probe","instance":"%s"},"annotations":{},"startsAt":"%s"}]}' \
		"$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)")
	curl -fsS -o /dev/null --max-time 1 -H "Authorization: Bearer $token_am" -H 'Content-Type: application/json' \
		-d "$body" "http://127.0.0.1:${port[$1]}/ingest/alertmanager" 2>/dev/null
}

failovers=()
for k in $(seq "$kills"); do
	lead=""
	for _ in $(seq 300); do
		lead=$(leader)
		[[ -n "$lead" ]] && break
		sleep 0.1
	done
	if [[ -z "$lead" ]]; then
		log "kill $k: no leader"
		break
	fi
	survivors=()
	for n in "${nodes[@]}"; do
		[[ "$n" != "$lead" ]] && survivors+=("$n")
	done
	start=$(now_ms)
	kill -9 "${pid[$lead]}"
	wait "${pid[$lead]}" 2>/dev/null || true
	took=""
	for i in $(seq 3000); do
		if probe "${survivors[$((i % 2))]}" "k$k-$i"; then
			took=$(($(now_ms) - start))
			break
		fi
		sleep 0.02
	done
	if [[ -z "$took" ]]; then
		log "kill $k: no survivor took an alert within a minute"
		break
	fi
	failovers+=("$took")
	log "kill $k: leader $lead; a survivor took an alert after ${took} ms"
	start_klaxon "$lead"
	wait_ready "http://127.0.0.1:${port[$lead]}/-/ready" "${pid[$lead]}" "$lead"
done

# --- report --------------------------------------------------------------

echo
echo "Replication: ingest of new alerts ($concurrency concurrent senders, $duration per run, $services services);"
echo "three replicas answer 2xx once a majority has the alert on disk; one replica is Klaxon without a cluster section."
echo
row='%-5s  %-32s  %10s  %8s  %6s  %12s  %8s\n'
# shellcheck disable=SC2059
printf "$row" batch target alerts/s "p99 ms" errors "vs 1 replica" "vs AM"
for batch in $batches; do
	for target in single leader follower am; do
		k="$target/$batch"
		case $target in
		single) label="klaxon, 1 replica" ;;
		leader) label="klaxon, 3 replicas, to the leader" ;;
		follower) label="klaxon, 3 replicas, to a follower" ;;
		am) label="alertmanager /api/v2/alerts" ;;
		esac
		# shellcheck disable=SC2059
		printf "$row" "$batch" "$label" "$(num %.0f "${rate[$k]:-}")" "$(num %.2f "${p99[$k]:-}")" "${errs[$k]:-n/a}" \
			"$(ratio "${rate[$k]:-}" "${rate[single/$batch]:-}")" "$(ratio "${rate[$k]:-}" "${rate[am/$batch]:-}")"
	done
done
echo
if ((${#failovers[@]} > 0)); then
	sorted=$(printf '%s\n' "${failovers[@]}" | sort -n)
	count=${#failovers[@]}
	echo "Failover: ${count} leader kills (SIGKILL), ms from the kill to the first alert a survivor answered 2xx:"
	echo "  each: ${failovers[*]}"
	echo "  min $(head -1 <<<"$sorted"), median $(median "${failovers[@]}"), max $(tail -1 <<<"$sorted")"
else
	echo "Failover: not measured (see the log above)"
fi
echo
echo "Reports and server logs: $run_dir"

# --- summary ---------------------------------------------------------------

for batch in $batches; do
	for target in leader follower; do
		for ref in single am; do
			ref_label="1 replica"
			[[ $ref == am ]] && ref_label="Alertmanager"
			summary_row cluster "3 replicas via the $target vs $ref_label, batch $batch" \
				"$(num %.0f "${rate[$target/$batch]:-}") alerts/s" "$(num %.0f "${rate[$ref/$batch]:-}") alerts/s ($ref_label)" \
				"$(ratio "${rate[$target/$batch]:-}" "${rate[$ref/$batch]:-}")" "" "one run of $duration each"
		done
	done
done
if ((${#failovers[@]} == 0)); then
	summary_row cluster "failover after a leader's kill -9: not measured" "" "" "" "" ""
	exit 1
fi
goal_ms=5000
summary_row cluster "failover: leader kill -9 to a survivor's 2xx, median of ${#failovers[@]}" \
	"$(awk -v m="$(median "${failovers[@]}")" 'BEGIN { printf "%.2f s", m / 1000 }')" "5 s (goal)" \
	"$(ratio "$(median "${failovers[@]}")" "$goal_ms")" "at most 1x" \
	"$(awk -v a="$(head -1 <<<"$sorted")" -v b="$(tail -1 <<<"$sorted")" -v g="$goal_ms" 'BEGIN { printf "%.2f-%.2f", a / g, b / g }') over ${#failovers[@]} kill(s)"
if ((${#failovers[@]} < kills)); then
	log "only ${#failovers[@]} of $kills failovers measured"
	exit 1
fi
