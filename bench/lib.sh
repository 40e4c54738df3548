# Shell functions the benchmark scripts share; source it after setting
# root, bin, run_dir (where servers' logs go) and defining log.

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

# peak_rss_mb PID: the process' peak resident set (VmHWM) in MiB.
peak_rss_mb() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "exited"; }

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
		mod_dir=$(cd "$tmp" && GOFLAGS= go mod download -json "$am_module@$am_version" |
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
		cd "$dir"
		export GOFLAGS=-mod=mod
		go mod edit -require="$am_module@$am_version" >&2
		go build -o "$am_bin" \
			-ldflags "-X github.com/prometheus/common/version.Version=${am_version#v}" \
			"$am_module/cmd/alertmanager" >&2
	)
	echo "$am_bin"
}
