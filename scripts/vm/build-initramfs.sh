#!/bin/sh
# build-initramfs.sh OUT PAYLOADDIR
# Builds a gzip'ed cpio initramfs: busybox, the kernel modules the sandbox
# wants (overlay), a minimal /etc, and PAYLOADDIR copied to /vmtest
# (it must contain run.sh; its exit status becomes the VM's verdict).
set -eu
out=$1
payload=$2
here=$(cd "$(dirname "$0")" && pwd)
kver=${VM_KERNEL_VERSION:-$(ls /boot/vmlinuz-* | sort -V | tail -1 | sed 's|/boot/vmlinuz-||')}
busybox=$(command -v busybox || echo /bin/busybox)
[ -x "$busybox" ] || { echo "vm: busybox not found; apt-get install busybox-static" >&2; exit 1; }
[ -f "$payload/run.sh" ] || { echo "vm: $payload/run.sh missing" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/sbin" "$tmp/etc" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/lib/modules" \
	"$tmp/usr/bin" "$tmp/usr/sbin" "$tmp/root" "$tmp/home"
cp "$busybox" "$tmp/bin/busybox"
install -m 0755 "$here/init" "$tmp/init"
install -m 0755 "$here/init2" "$tmp/init2"
for mod in fs/overlayfs/overlay.ko; do
	src=/lib/modules/$kver/kernel/$mod
	[ -f "$src" ] || { echo "vm: kernel module $src missing; apt-get install linux-image-amd64" >&2; exit 1; }
	cp "$src" "$tmp/lib/modules/"
done
cat > "$tmp/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$tmp/etc/group" <<'GR'
root:x:0:
nogroup:x:65534:
GR
echo "127.0.0.1 localhost vmtest" > "$tmp/etc/hosts"
echo "hosts: files" > "$tmp/etc/nsswitch.conf"
cp -a "$payload" "$tmp/vmtest"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
