#!/bin/sh
# provision.sh STEP... — set up a worker node for glexec. One script for
# every place a node is made: the Vagrantfile runs "deps build node",
# the qemu guest of make vm-test runs "node", and so do a root make
# install and the Debian package's postinst (make install puts this script
# in /usr/libexec/glexec/provision.sh).
#
#   deps   Debian packages the build and the tests use, and Go if missing
#   build  make build && make install (from the source tree in $SRC)
#   node   the glexec system account and group, the tracking groups
#          glexec00..glexec49 (gids 65000..65049), the state directories
set -eu
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
GO_VERSION=${GO_VERSION:-1.26.8}
TRACKING_FIRST=${TRACKING_FIRST:-65000}
TRACKING_COUNT=${TRACKING_COUNT:-50}

have() { command -v "$1" >/dev/null 2>&1; }

group_exists() { grep -q "^$1:" /etc/group; }
user_exists() { grep -q "^$1:" /etc/passwd; }

# free_system_id FILE: the highest id below 1000 not used in FILE.
free_system_id() {
	id=999
	while cut -d: -f3 "$1" | grep -qx "$id"; do id=$((id - 1)); done
	echo "$id"
}

add_group() { # name gid(optional, "" = system)
	group_exists "$1" && return 0
	if have groupadd; then
		if [ -n "$2" ]; then groupadd -g "$2" "$1"; else groupadd -r "$1"; fi
	else # minimal systems (the busybox test guest) have no shadow tools
		echo "$1:x:${2:-$(free_system_id /etc/group)}:" >> /etc/group
	fi
}

step_deps() {
	sh "$SRC/scripts/test-deps.sh"
	if ! have go && [ ! -x /usr/local/go/bin/go ]; then
		echo "provision: installing Go $GO_VERSION in /usr/local/go"
		tarball=go$GO_VERSION.linux-amd64.tar.gz
		(cd /tmp && curl -fsSLO "https://go.dev/dl/$tarball" && tar -C /usr/local -xzf "$tarball" && rm -f "$tarball")
	fi
}

step_build() {
	PATH=$PATH:/usr/local/go/bin
	make -C "$SRC" build install
}

step_node() {
	add_group glexec ""
	if ! user_exists glexec; then
		if have useradd; then
			useradd -r -g glexec -d / -s /usr/sbin/nologin -c "glexec" glexec
		else
			gid=$(grep '^glexec:' /etc/group | cut -d: -f3)
			echo "glexec:x:$(free_system_id /etc/passwd):$gid:glexec:/:/usr/sbin/nologin" >> /etc/passwd
		fi
	fi
	i=0
	while [ "$i" -lt "$TRACKING_COUNT" ]; do
		add_group "$(printf 'glexec%02d' "$i")" "$((TRACKING_FIRST + i))"
		i=$((i + 1))
	done
	mkdir -p /var/lib/glexec /run/glexec
	chown root:root /var/lib/glexec /run/glexec
	chmod 0700 /var/lib/glexec
	chmod 0755 /run/glexec
}

[ $# -gt 0 ] || { echo "usage: provision.sh deps|build|node ..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "provision: must run as root (it installs packages and creates accounts)" >&2; exit 1; }
for step in "$@"; do
	case "$step" in
	deps) step_deps ;;
	build) step_build ;;
	node) step_node ;;
	*) echo "provision: unknown step '$step' (deps, build, node)" >&2; exit 2 ;;
	esac
done
