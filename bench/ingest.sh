#!/usr/bin/env bash
# Ingest stage of `make bench` (issue 15): the same load on Klaxon's two
# Alertmanager endpoints and on Alertmanager's own binary (built from the
# version in go.mod), on this machine, and Klaxon's alerts/s as a ratio to
# Alertmanager's, for every sender count and batch size.
#
# Every run gets a fresh server with a fresh data directory on loopback, so
# that no run inherits the alerts (and the heap) of the one before it.
# Klaxon fsyncs every acknowledged alert; Alertmanager keeps them in memory.
# Each round runs the three targets back to back, the order alternating
# between rounds, and each ratio is taken within one round: the machine's
# other load moves both sides of a ratio alike. The report gives the median
# ratio over the rounds and its spread (lowest-highest), which says how
# noisy the run was.
#
# Then, unless REPORTS=0, generic tickets and mentions, one per request, into
# Klaxon alone (no reference: Alertmanager takes neither).
#
# Environment: SENDERS (default "16 64"), BATCHES (default "1 10 100"),
# ROUNDS (default 3), DURATION (per run, default 5s), SERVICES (default 50),
# REPORTS (default 1), KLAXON_BIN (a klaxon binary to measure instead of
# building ./cmd/klaxon), BENCH_SUMMARY (a file to append the figures to,
# see bench/compare.sh). BENCH_QUICK=1 changes the defaults to one round of
# 2 s at 16 senders, batches 1 and 100, no reports.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
	: "${SENDERS:=16}" "${BATCHES:=1 100}" "${ROUNDS:=1}" "${DURATION:=2s}" "${REPORTS:=0}"
fi
senders="${SENDERS:-16 64}"
batches="${BATCHES:-1 10 100}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-5s}"
services="${SERVICES:-50}"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" # setup, log, build_tools, build_alertmanager, start_server, stop, drop_data, field, cpu_seconds, peak_rss_mb
setup ingest

build_tools
am_bin=$(build_alertmanager)
am_version=${am_bin##*/alertmanager-}

targets=(klaxon-v2 alertmanager klaxon-webhook)
declare -A path format token label
path[klaxon-v2]=/api/v2/alerts format[klaxon-v2]=v2 token[klaxon-v2]=$token_prom
label[klaxon-v2]="klaxon /api/v2/alerts"
path[klaxon-webhook]=/ingest/alertmanager format[klaxon-webhook]=webhook token[klaxon-webhook]=$token_am
label[klaxon-webhook]="klaxon /ingest/alertmanager"
path[alertmanager]=/api/v2/alerts format[alertmanager]=v2 token[alertmanager]=""
label[alertmanager]="alertmanager $am_version /api/v2/alerts"

# One line per run: senders batch round target alerts/s p50 p99 errors peak_rss_mb cpu_s alerts
runs="$run_dir/runs.tsv"
: >"$runs"

# measure SENDERS BATCH ROUND TARGET: one run on a fresh server.
measure() {
	local c=$1 b=$2 r=$3 target=$4 dir="$run_dir/c$1-b$2-r$3-$4"
	local name=klaxon
	[[ $target == alertmanager ]] && name=alertmanager
	if ! start_server "$name" "$dir"; then
		log "${label[$target]} did not start; this run has no figures (see $dir)"
		return
	fi
	log "$c senders, batch $b, round $r: ${label[$target]} for $duration"
	local report
	report=$("$bin/loadgen" -url "http://127.0.0.1:$port${path[$target]}" -format "${format[$target]}" \
		-token "${token[$target]}" -concurrency "$c" -batch "$b" -duration "$duration" \
		-services "$services" -run "c$c-b$b-r$r" -json) || true
	echo "$report" >"$dir/loadgen.json"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$b" "$r" "$target" \
		"$(field "$report" alerts_per_sec)" "$(field "$report" p50_ms)" "$(field "$report" p99_ms)" \
		"$(field "$report" error_count)" "$(peak_rss_mb "$server_pid")" "$(cpu_seconds "$server_pid")" \
		"$(field "$report" alerts)" >>"$runs"
	stop "$server_pid"
	drop_data "$dir"
}

log "$rounds round(s) of $duration per target at senders {$senders} x batch {$batches}; work dir $run_dir"
n=0
for c in $senders; do
	for b in $batches; do
		for r in $(seq "$rounds"); do
			order=("${targets[@]}")
			if (((n + r) % 2 == 0)); then
				order=("${targets[2]}" "${targets[1]}" "${targets[0]}")
			fi
			for target in "${order[@]}"; do
				measure "$c" "$b" "$r" "$target"
			done
		done
		n=$((n + 1))
	done
done

# --- report --------------------------------------------------------------

echo
echo "Ingest: Klaxon ÷ Alertmanager $am_version alerts/s, same load, every alert a new label set ($services services),"
echo "a fresh server per run, $rounds round(s) of $duration per target, targets alternating; Klaxon fsyncs every ack."
echo "Ratio: median of the per-round ratios [lowest-highest]. CPU: server CPU time per alert."
echo "At equal CPU: Alertmanager's CPU per alert ÷ the target's, the ratio were each server given the same CPU."
echo
summarise() {
	awk -F'\t' -v rounds="$rounds" -v summary="${BENCH_SUMMARY:-}" '
	function median(a, n,    i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		k = $1 SUBSEP $2; if (!(k in seen)) { seen[k] = 1; keys[++nk] = k }
		rate[k, $3, $4] = $5; p99[k, $3, $4] = $7; errs[k, $4] += $8
		if ($9 + 0 > rss[k, $4]) rss[k, $4] = $9
		cpu[k, $4] += $10; alerts[k, $4] += $11
	}
	END {
		printf "%7s %5s  %-16s %10s %8s %9s %18s %11s %7s %9s\n", "senders", "batch", "target", "alerts/s", "p99 ms", "CPU us/a", "vs Alertmanager", "at equal CPU", "errors", "RSS MB"
		split("alertmanager klaxon-v2 klaxon-webhook", ts, " ")
		for (i = 1; i <= nk; i++) {
			split(keys[i], cb, SUBSEP)
			for (t = 1; t <= 3; t++) {
				target = ts[t]; n = 0; m = 0; lo = ""; hi = ""
				for (r = 1; r <= rounds; r++) {
					if ((keys[i], r, target) in rate && rate[keys[i], r, target] != "") { v[++n] = rate[keys[i], r, target]; l[n] = p99[keys[i], r, target] }
					a = rate[keys[i], r, "alertmanager"]; x = rate[keys[i], r, target]
					if (target != "alertmanager" && a + 0 > 0 && x != "") {
						q = x / a; ratio[++m] = q
						if (lo == "" || q < lo) lo = q
						if (hi == "" || q > hi) hi = q
					}
				}
				med = n ? median(v, n) : 0; medp99 = n ? median(l, n) : 0
				cpua = alerts[keys[i], target] > 0 ? 1e6 * cpu[keys[i], target] / alerts[keys[i], target] : 0
				rs = "-"
				if (target == "alertmanager") { median_am[keys[i]] = med; cpu_am = cpua }
				eq = (target != "alertmanager" && cpua > 0 && cpu_am > 0) ? sprintf("%.2fx", cpu_am / cpua) : "-"
				if (m) {
					mr = median(ratio, m)
					rs = sprintf("%.2fx [%.2f-%.2f]", mr, lo, hi)
					if (summary != "") {
						name = (target == "klaxon-v2" ? "/api/v2/alerts" : "webhook")
						printf "ingest\t%s, %s senders, batch %s\t%.0f alerts/s\t%.0f alerts/s (Alertmanager)\t%.2fx\tat least 2x\t%.2f-%.2f over %d round(s); %s at equal CPU\n", \
							name, cb[1], cb[2], med, median_am[keys[i]], mr, lo, hi, m, eq >> summary
					}
				}
				printf "%7s %5s  %-16s %10.0f %8.2f %9.1f %18s %11s %7d %9.0f\n", cb[1], cb[2], target, med, medp99, cpua, rs, eq, errs[keys[i], target], rss[keys[i], target]
			}
		}
	}' "$runs"
}
summarise
echo "Per-run figures: $runs"

# --- tickets and mentions ------------------------------------------------

if [[ "${REPORTS:-1}" == 1 ]]; then
	echo
	echo "Reports: one generic ticket or mention per request into Klaxon, 16 senders, $duration (no reference)"
	for kind in ticket mention; do
		dir="$run_dir/report-$kind"
		start_server klaxon "$dir"
		report=$("$bin/loadgen" -url "http://127.0.0.1:$port/ingest/${kind}s/generic" -format "$kind" \
			-token "${token_report[$kind]}" -concurrency 16 -batch 1 -duration "$duration" \
			-services "$services" -run "r-$kind" -json) || true
		echo "$report" >"$dir/loadgen.json"
		stop "$server_pid"
		drop_data "$dir"
		printf '%-34s %8.0f reports/s  p99 %6.2f ms  %s errors\n' "klaxon /ingest/${kind}s/generic" \
			"$(field "$report" alerts_per_sec)" "$(field "$report" p99_ms)" "$(field "$report" error_count)"
	done
fi
