# shellcheck shell=bash disable=SC2154 # root is the sourcing script's
# Shell functions the benchmark scripts share; source it after setting root
# (the repository) and call setup.

# setup NAME: sets work (bench/.work), bin (where tools are built) and
# run_dir (a new directory for this run's reports and servers' logs,
# bench/.work/NAME-TIME), creates them, prefixes log's lines with NAME, and
# stops the servers started here on exit.
setup() {
	work="$root/bench/.work"
	bin="$work/bin"
	run_dir="$work/$1-$(date +%Y%m%d-%H%M%S)"
	mkdir -p "$bin" "$run_dir"
	log_name=$1
	trap cleanup EXIT
}

# log MESSAGE...: a progress line on stderr.
log() { echo "$log_name: $*" >&2; }

# pids are the servers a script started; cleanup stops them (trap it on EXIT).
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}

# free_port prints a loopback port nothing is listening on, below the
# kernel's ephemeral range (ip_local_port_range), so that no outgoing
# connection on the machine takes it before the server binds it.
free_port() {
	local port low
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	for _ in $(seq 100); do
		port=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	log "no free port found"
	return 1
}

# wait_ready URL PID NAME: polls URL until it answers 200; if the process
# exits first, shows the end of its log ($run_dir/NAME.log).
wait_ready() {
	for _ in $(seq 600); do
		if curl -fsS -o /dev/null "$1" 2>/dev/null; then
			return
		fi
		if ! kill -0 "$2" 2>/dev/null; then
			log "$3 exited; its log:"
			tail -50 "$run_dir/$3.log" >&2
			return 1
		fi
		sleep 0.1
	done
	log "$3 not ready at $1 after 60s"
	return 1
}

# field JSON NAME: a number from a one-line JSON report (loadgen's).
field() { sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p" <<<"$1"; }

# num FORMAT VALUE: VALUE printf-formatted, or n/a when there is none.
# shellcheck disable=SC2059 # the format is the argument
num() { if [[ -n "$2" ]]; then printf "$1" "$2"; else echo n/a; fi; }

# peak_rss_mb PID: the process' peak resident set (VmHWM) in MiB.
peak_rss_mb() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "exited"; }

# build_klaxon sets klaxon_bin to $KLAXON_BIN, or else builds ./cmd/klaxon
# into $bin and sets it to that.
build_klaxon() {
	klaxon_bin="${KLAXON_BIN:-$bin/klaxon}"
	if [[ -z "${KLAXON_BIN:-}" ]]; then
		log "building klaxon"
		go build -o "$klaxon_bin" ./cmd/klaxon
	fi
}

# build_tools runs build_klaxon and builds bench/loadgen into $bin.
build_tools() {
	build_klaxon
	log "building loadgen"
	go build -o "$bin/loadgen" ./bench/loadgen
}

# build_alertmanager prints the path of Alertmanager's own binary at the
# version the main go.mod requires, building it first if it is missing (into
# $bin, from the throwaway module bench/alertmanager; the main go.mod is
# untouched). Progress goes to stderr.
build_alertmanager() {
	local am_module=github.com/prometheus/alertmanager
	local am_version am_bin dir="$root/bench/alertmanager"
	local src="$dir/src"
	am_version=$(go list -m -f '{{.Version}}' "$am_module")
	am_bin="$bin/alertmanager-$am_version"
	if [[ -x "$am_bin" ]]; then
		echo "$am_bin"
		return
	fi
	if [[ "$(cat "$src/.bench-version" 2>/dev/null)" != "$am_version" ]]; then
		log "unpacking $am_module@$am_version into $src"
		local tmp mod_dir
		tmp=$(mktemp -d)
		mod_dir=$(cd "$tmp" && GOFLAGS='' go mod download -json "$am_module@$am_version" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		rmdir "$tmp"
		if [[ -z "$mod_dir" || ! -d "$mod_dir" ]]; then
			log "could not download $am_module@$am_version"
			return 1
		fi
		rm -rf "$src"
		cp -r "$mod_dir" "$src"
		chmod -R u+w "$src"
		# The published module lacks the web UI's built assets, which its
		# go:embed needs; the API does not, so placeholders do.
		mkdir -p "$src/ui/app/dist/elm" "$src/ui/app/dist/mantine"
		echo "UI not built for the benchmark" >"$src/ui/app/dist/elm/index.html"
		echo "UI not built for the benchmark" >"$src/ui/app/dist/mantine/index.html"
		echo "$am_version" >"$src/.bench-version"
	fi
	log "building alertmanager $am_version (first time: a few minutes)"
	(
		cd "$dir" || exit 1
		export GOFLAGS=-mod=mod
		go mod edit -require="$am_module@$am_version" >&2
		go build -o "$am_bin" \
			-ldflags "-X github.com/prometheus/common/version.Version=${am_version#v}" \
			"$am_module/cmd/alertmanager" >&2
	)
	echo "$am_bin"
}

# --- servers ---------------------------------------------------------------

# The tokens of the Klaxon configurations the scripts write.
token_admin="bench-admin-token-0123456789"
token_am="bench-alertmanager-token-0123456789"
token_prom="bench-prometheus-token-0123456789"
declare -A token_report=([ticket]="bench-tickets-token-0123456789" [mention]="bench-mentions-token-0123456789")

# klaxon_config PORT: prints a Klaxon configuration listening on PORT, with
# its data in ./data, log level $KLAXON_LOG_LEVEL (info), limits high enough
# never to refuse (but still checked, so their cost is measured), a token for
# each ingest endpoint, and then $KLAXON_CONFIG (YAML to add, e.g.
# "storage: {memtable_bytes: 8388608}").
klaxon_config() {
	cat <<EOF
listen_address: 127.0.0.1:$1
external_url: http://127.0.0.1:$1
data_dir: data
log_level: ${KLAXON_LOG_LEVEL:-info}
limits: {active_alerts: 1000000000, active_alerts_per_source: 1000000000}
auth:
  admin:
    - {name: bench, token: $token_admin}
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
${KLAXON_CONFIG:-}
EOF
}

# run_alertmanager DIR PORT: starts Alertmanager's binary ($am_bin) in the
# background on PORT with its data in DIR and a receiver that sends nothing;
# the caller takes its pid from $!.
run_alertmanager() {
	mkdir -p "$1"
	printf 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n' >"$1/alertmanager.yml"
	"$am_bin" --config.file="$1/alertmanager.yml" --storage.path="$1/data" \
		--web.listen-address="127.0.0.1:$2" --cluster.listen-address= >>"$1/alertmanager.log" 2>&1 &
}

# start_server NAME DIR [keep]: starts klaxon ($klaxon_bin) or alertmanager
# ($am_bin) in DIR, emptied first unless keep is given, and waits until it is
# ready; sets port and server_pid. A port free when chosen can be taken
# before the server binds it (other jobs share the machine): then it tries
# another.
start_server() {
	local name=$1 dir=$2
	for _ in 1 2 3 4 5; do
		[[ -z "${3:-}" ]] && rm -rf "$dir"
		mkdir -p "$dir"
		port=$(free_port)
		if [[ $name == klaxon ]]; then
			klaxon_config "$port" >"$dir/klaxon.yml"
			(cd "$dir" && exec "$klaxon_bin" serve --config klaxon.yml) >>"$dir/klaxon.log" 2>&1 &
		else
			run_alertmanager "$dir" "$port"
		fi
		server_pid=$!
		pids+=("$server_pid")
		if run_dir=$dir wait_ready "http://127.0.0.1:$port/-/ready" "$server_pid" "$name"; then
			return
		fi
		if ! tail -5 "$dir/$name.log" | grep -q "address already in use"; then
			return 1
		fi
		log "port $port was taken before $name bound it; trying another"
	done
	return 1
}

# stop PID: ends a server started here and waits for it.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# cpu_seconds PID: the CPU time (user + system) the process has used so far,
# or 0 once it is gone.
cpu_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo 0
}

# drop_data DIR: removes the data directory of the server that ran in DIR,
# keeping its logs and reports, once its figures are taken: the journals
# of one `make bench` take some 10 GB otherwise. BENCH_KEEP_DATA=1 keeps
# them.
drop_data() {
	[[ "${BENCH_KEEP_DATA:-0}" == 1 ]] || rm -rf "$1/data"
}

# --- figures ---------------------------------------------------------------

# ratio A B: A ÷ B as "1.23x", or n/a without both.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'; }

# median VALUE...: the median of the numbers given.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%g", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# spread VALUE...: "lowest-highest over N round(s)" of the numbers given.
spread() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f-%.2f over %d round(s)", v[1], v[NR], NR }'
}

# summary_row STAGE FIGURE KLAXON REFERENCE RATIO GOAL SPREAD: appends one
# figure to $BENCH_SUMMARY (see bench/compare.sh), if it is set; an empty
# field is written as "-" (read splits on runs of tabs).
summary_row() {
	[[ -z "${BENCH_SUMMARY:-}" ]] && return
	local f fields=()
	for f in "$@"; do
		fields+=("${f:--}")
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${fields[@]}" >>"$BENCH_SUMMARY"
}

# thousands N: N with commas between its thousands (1,000,000).
thousands() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
