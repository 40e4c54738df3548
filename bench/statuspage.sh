#!/usr/bin/env bash
# Serves the same status page from nginx (the Debian package) and from
# Klaxon, side by side on this machine, puts the same load on both with
# bench/pageload, and prints each one's requests/s and Klaxon's share of
# nginx's. The goal (issue 17) is a share of at least 80%.
#
# Klaxon runs with the example catalogue (configs/rules) and a few open
# incidents, and exports its page (statuspage.export_dir); nginx serves
# that exported directory. Both are asked for the page itself (index.html)
# over keep-alive loopback connections, without compression, so that both
# send the same bytes. The runs alternate between the servers, ROUNDS
# times each, so that neither always goes first; the mean is reported.
#
# nginx is installed with apt-get if it is missing (root only). Its
# configuration is Debian's nginx.conf reduced to what serving a file
# needs: worker_processes auto, sendfile, tcp_nopush, and no access log
# (Klaxon writes none for the page either).
#
# Environment: DURATION (per run, default 10s), CONCURRENCY (default 16),
# ROUNDS (default 3), KLAXON_BIN (a klaxon binary to measure instead of
# building ./cmd/klaxon).
#
# BENCH_QUICK=1 changes the defaults to one round of 3 s; with
# BENCH_SUMMARY set, Klaxon's share of nginx's requests/s is appended to
# that file (see bench/compare.sh).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
	: "${DURATION:=3s}" "${ROUNDS:=1}"
fi
duration="${DURATION:-10s}"
concurrency="${CONCURRENCY:-16}"
rounds="${ROUNDS:-3}"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" # setup, log, build_klaxon, free_port, wait_ready, field, ratio, spread, summary_row
setup statuspage

# --- build and install ---------------------------------------------------

build_klaxon
log "building pageload"
go build -o "$bin/pageload" ./bench/pageload

nginx_bin=$(command -v nginx || true)
if [[ -z "$nginx_bin" && -x /usr/sbin/nginx ]]; then
	nginx_bin=/usr/sbin/nginx
fi
if [[ -z "$nginx_bin" ]]; then
	log "installing nginx (Debian package)"
	if [[ $(id -u) != 0 ]]; then
		log "nginx is missing and only root can install it: apt-get install nginx"
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >"$run_dir/apt.log" 2>&1 ||
		{ apt-get update -q >>"$run_dir/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >>"$run_dir/apt.log" 2>&1; } ||
		{ log "apt-get install nginx failed; see $run_dir/apt.log"; exit 1; }
	nginx_bin=/usr/sbin/nginx
fi
nginx_version=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')

# --- start the servers ---------------------------------------------------

klaxon_port=$(free_port)
export_dir="$run_dir/export"
mkdir -p "$run_dir/klaxon"
cp -r "$root/configs/rules" "$run_dir/klaxon/rules"
token_prom="bench-prometheus-token-0123456789"
cat >"$run_dir/klaxon/klaxon.yml" <<EOF
listen_address: 127.0.0.1:$klaxon_port
external_url: http://127.0.0.1:$klaxon_port
data_dir: data
log_level: warn
rule_files: [rules/*.yml]
auth:
  admin:
    - name: bench
      token: bench-admin-token-0123456789
  ingest:
    alertmanager: {open: true}
    prometheus:
      tokens: [{name: bench, token: $token_prom}]
    tickets: {open: true}
    mentions: {open: true}
statuspage:
  name: Bench Status
  export_dir: $export_dir
EOF
"$klaxon_bin" serve --config "$run_dir/klaxon/klaxon.yml" >"$run_dir/klaxon.log" 2>&1 &
klaxon_pid=$!
pids+=("$klaxon_pid")
wait_ready "http://127.0.0.1:$klaxon_port/-/ready" "$klaxon_pid" klaxon

# A few open incidents, so that the page has components out and updates.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
alerts='['
for svc in checkout payments search; do
	alerts+="{\"labels\":{\"alertname\":\"Down\",\"service\":\"$svc\",\"severity\":\"critical\"},\"startsAt\":\"$now\"},"
done
alerts="${alerts%,}]"
curl -fsS -o /dev/null -H "Authorization: Bearer $token_prom" -H 'Content-Type: application/json' \
	-d "$alerts" "http://127.0.0.1:$klaxon_port/api/v2/alerts"
sleep 2 # a rendering and its export (render_interval 1s)
for _ in $(seq 100); do
	[[ -s "$export_dir/index.html" ]] && break
	sleep 0.1
done
if [[ ! -s "$export_dir/index.html" ]]; then
	log "Klaxon exported no page into $export_dir; its log:"
	tail -50 "$run_dir/klaxon.log" >&2
	exit 1
fi

nginx_port=$(free_port)
mkdir -p "$run_dir/nginx"
cat >"$run_dir/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $run_dir/nginx/nginx.pid;
error_log $run_dir/nginx/error.log;
daemon off;
events { worker_connections 768; }
http {
	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log off;
	client_body_temp_path $run_dir/nginx/tmp;
	proxy_temp_path $run_dir/nginx/tmp;
	fastcgi_temp_path $run_dir/nginx/tmp;
	uwsgi_temp_path $run_dir/nginx/tmp;
	scgi_temp_path $run_dir/nginx/tmp;
	server {
		listen 127.0.0.1:$nginx_port;
		location /status/ { alias $export_dir/; }
	}
}
EOF
mkdir -p "$run_dir/nginx/tmp"
"$nginx_bin" -c "$run_dir/nginx/nginx.conf" -e "$run_dir/nginx/error.log" >"$run_dir/nginx.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
wait_ready "http://127.0.0.1:$nginx_port/status/index.html" "$nginx_pid" nginx

klaxon_url="http://127.0.0.1:$klaxon_port/status/"
nginx_url="http://127.0.0.1:$nginx_port/status/index.html"
# Both must send the same bytes, or the comparison means nothing.
if ! cmp -s <(curl -fsS "$klaxon_url") <(curl -fsS "$nginx_url"); then
	log "Klaxon's /status/ and the exported index.html differ (a rendering in between?); retrying once"
	sleep 2
	cmp -s <(curl -fsS "$klaxon_url") <(curl -fsS "$nginx_url") || { log "they still differ"; exit 1; }
fi
size=$(curl -fsS "$nginx_url" | wc -c)
log "nginx $nginx_version (pid $nginx_pid) on :$nginx_port, klaxon (pid $klaxon_pid) on :$klaxon_port; page $size bytes; logs in $run_dir"

# --- run the load --------------------------------------------------------

declare -A total errors rate
total[nginx]=0 total[klaxon]=0 errors[nginx]=0 errors[klaxon]=0
for round in $(seq "$rounds"); do
	order=(nginx klaxon)
	if ((round % 2 == 0)); then
		order=(klaxon nginx)
	fi
	for target in "${order[@]}"; do
		url=$nginx_url
		[[ $target == klaxon ]] && url=$klaxon_url
		log "round $round: $target for $duration"
		report=$("$bin/pageload" -url "$url" -concurrency "$concurrency" -duration "$duration" -gzip=false)
		echo "$report" >"$run_dir/pageload-$target-$round.json"
		rate[$target/$round]=$(field "$report" requests_per_sec)
		total[$target]=$(awk -v a="${total[$target]}" -v b="${rate[$target/$round]}" 'BEGIN { printf "%.3f", a + b }')
		errors[$target]=$((errors[$target] + $(field "$report" errors)))
	done
done

# --- report --------------------------------------------------------------

nginx_rate=$(awk -v t="${total[nginx]}" -v n="$rounds" 'BEGIN { printf "%.0f", t / n }')
klaxon_rate=$(awk -v t="${total[klaxon]}" -v n="$rounds" 'BEGIN { printf "%.0f", t / n }')
share=$(awk -v k="$klaxon_rate" -v g="$nginx_rate" 'BEGIN { if (g == 0) print "n/a"; else printf "%.0f%%", 100 * k / g }')
echo
echo "Status page: the same $size-byte page, $concurrency keep-alive clients, $rounds x $duration each, alternating"
row='%-45s  %10s  %6s\n'
# shellcheck disable=SC2059 # the format is the variable
printf "$row" server "requests/s" errors
# shellcheck disable=SC2059
printf "$row" "nginx $nginx_version (exported index.html)" "$nginx_rate" "${errors[nginx]}"
# shellcheck disable=SC2059
printf "$row" "klaxon /status/" "$klaxon_rate" "${errors[klaxon]}"
echo "Klaxon / nginx: $share (goal: at least 80%)"
echo "Reports and server logs: $run_dir"

mapfile -t ratios < <(for round in $(seq "$rounds"); do
	awk -v k="${rate[klaxon/$round]}" -v g="${rate[nginx/$round]}" 'BEGIN { if (g > 0) printf "%.4f\n", k / g }'
done)
summary_row statuspage "requests/s of /status/ ($size bytes)" "$klaxon_rate requests/s" \
	"$nginx_rate requests/s ($nginx_version)" "$(ratio "$klaxon_rate" "$nginx_rate")" "at least 0.80x" "$(spread "${ratios[@]}")"
