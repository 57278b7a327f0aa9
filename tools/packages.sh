# SPDX-License-Identifier: Apache-2.0
# Sourced by the project's scripts (setup.sh, build-deb.sh,
# tests/fuzz/run.sh): install the Debian packages that are missing.
#   roar_need_packages WHO PACKAGE...
# WHO names the caller in messages.  Needs root only when something is
# missing; says exactly what to install otherwise, and exits 1.
roar_need_packages() {
	local who=$1 p
	local missing=()

	shift
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "ok installed" || missing+=("$p")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	echo "$who: installing ${missing[*]}" >&2
	if [ "$(id -u)" != 0 ]; then
		echo "$who: need root to install packages (or install them yourself): ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q "${missing[@]}" >/dev/null
}
