#!/bin/sh
# Installs, on a fresh Debian machine, every package the test suites use.
# Missing tools are never a silent skip: tests fail when a tool is absent,
# so this script must be run (as root) before them. Run as non-root it only
# reports what is missing.
set -eu

PACKAGES="
  openssl
  voms-clients
  voms-dev
  globus-proxy-utils
  globus-gsi-cert-utils-progs
  lcmaps-plugins-verify-proxy
  liblcmaps-dev
  lcmaps-plugins-basic-bandn
  lcmaps-plugins-basic-dummy
  lcmaps-plugins-basic-localaccount
  lcmaps-plugins-basic-poolaccount
  lcmaps-plugins-basic-posixenf
  lcmaps-plugins-voms
  gcc
  g++
  make
  pkg-config
  qemu-system-x86
  linux-image-amd64
  busybox-static
  cpio
  kmod
  runc
  crun
  bubblewrap
  hyperfine
  lintian
  dpkg-dev
  init-system-helpers
  systemd
  libc6-dev
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "test-deps: missing Debian packages:$missing" >&2
	echo "test-deps: run 'make test' as root (it installs them) or: apt-get install$missing" >&2
	exit 1
fi
echo "test-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
