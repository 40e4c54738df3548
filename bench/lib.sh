# Shell functions the benchmark scripts share; source it after setting
# run_dir (where servers' logs go) and defining log.

# pids are the servers a script started; cleanup stops them (trap it on EXIT).
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}

# free_port prints a loopback port nothing is listening on.
free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
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
