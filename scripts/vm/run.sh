#!/bin/sh
# run.sh PAYLOADDIR [LOG]
# Boots the Debian kernel under qemu (TCG: KVM does not work on the build
# machine) with an initramfs holding PAYLOADDIR, runs PAYLOADDIR/run.sh as
# root on a cgroup-v2-only node, prints the console, and exits with the
# status run.sh returned (1 if the VM never reported one).
set -eu
payload=$1
log=${2:-$(mktemp)}
here=$(cd "$(dirname "$0")" && pwd)
kver=${VM_KERNEL_VERSION:-$(ls /boot/vmlinuz-* | sort -V | tail -1 | sed 's|/boot/vmlinuz-||')}
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || { echo "vm: $kernel missing; apt-get install linux-image-amd64" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "vm: qemu-system-x86_64 missing; apt-get install qemu-system-x86" >&2; exit 1; }
initrd=$(mktemp)
trap 'rm -f "$initrd"' EXIT
VM_KERNEL_VERSION=$kver sh "$here/build-initramfs.sh" "$initrd" "$payload"
timeout "${VM_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -m "${VM_MEMORY:-2048}" -smp 2 \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
	-nographic -no-reboot -nic none </dev/null | tee "$log" | tr -d '\r'
status=$(tr -d '\r' < "$log" | sed -n 's/^VMTEST-STATUS=\([0-9]*\)$/\1/p' | tail -1)
if [ -z "$status" ]; then
	echo "vm: the guest never reported a status (crash or timeout); console log: $log" >&2
	exit 1
fi
exit "$status"
