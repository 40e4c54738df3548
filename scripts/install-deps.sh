#!/usr/bin/env bash
# Installs the system packages Klaxon's end-to-end tests run against: the real
# Prometheus and Alertmanager, from Debian, e2fsprogs, and Chromium for the
# console's real-browser test. Quick and silent when they are
# already there; runs apt-get update once, then installs, when they are not.
set -euo pipefail

# binary -> Debian package that ships it.
declare -A want=(
	[/usr/bin/prometheus]=prometheus
	[/usr/bin/prometheus-alertmanager]=prometheus-alertmanager
	# The disk fault tests make and check ext4 images.
	[/usr/sbin/mkfs.ext4]=e2fsprogs
	[/usr/sbin/e2fsck]=e2fsprogs
	# The console test drives headless Chromium (e2e/console_test.go).
	[/usr/bin/chromium]=chromium
)

missing=()
for bin in "${!want[@]}"; do
	if [[ ! -x "$bin" ]]; then
		missing+=("${want[$bin]}")
	fi
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

sudo=()
if [[ "$(id -u)" != 0 ]]; then
	if ! command -v sudo >/dev/null; then
		echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

for bin in "${!want[@]}"; do
	if [[ ! -x "$bin" ]]; then
		echo "install-deps: $bin is still missing after installing ${want[$bin]}" >&2
		exit 1
	fi
done
