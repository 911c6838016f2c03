#!/bin/sh
# Runs the cgroup and sandbox test suites as root inside a qemu guest (TCG)
# booted from the Debian kernel with a pure cgroup v2 hierarchy and the
# memory, pids and cpu controllers, where the limit tests must pass rather
# than skip (GLEXEC_TEST_REQUIRE_CGROUP_CONTROLLERS=1).
#
#   sudo scripts/vm-test-sandbox.sh [test regexp]
#
# Needs qemu-system-x86, linux-image-amd64, busybox-static, cpio (see
# scripts/test-deps.sh). The guest's busybox initramfs switches root to a
# tmpfs first: an initramfs root cannot be pivoted into (lab P4); and it
# loads overlay.ko so libcontainer seals its binary with overlayfs (P9).
set -eu

die() { echo "vm-test-sandbox: $*" >&2; exit 1; }
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
root=$(cd "$(dirname "$0")/.." && pwd)
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || die "no kernel in /boot: apt-get install linux-image-amd64"
kver=${kernel#/boot/vmlinuz-}
overlay=$(find "/lib/modules/$kver" -name 'overlay.ko*' | head -n 1)
[ -n "$overlay" ] || die "no overlay module for $kver: apt-get install linux-image-amd64"
for t in qemu-system-x86_64:qemu-system-x86 cpio:cpio; do
	command -v "${t%%:*}" >/dev/null || die "${t%%:*} not found: apt-get install ${t#*:}"
done
busybox=$(command -v busybox) || die "busybox not found: apt-get install busybox-static"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || die "$busybox is not static: apt-get install busybox-static"

work=$(mktemp -d /tmp/glexec-vmtest.XXXXXX)
trap 'rm -rf "$work"' EXIT
r=$work/root
mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/opt/glexec" "$r/t" "$r/newroot" "$r/proc" "$r/etc"
cd "$root"
CGO_ENABLED=1 "$GO" build -tags netgo,osusergo -ldflags '-s -w -extldflags -static' -o "$r/opt/glexec/glexec-sandbox" ./cmd/glexec-sandbox 2>/dev/null
for p in sandbox cgroup; do
	CGO_ENABLED=1 "$GO" test -c -tags netgo,osusergo -ldflags '-s -w -extldflags -static' -o "$r/t/$p.test" "./internal/$p" 2>/dev/null
done
cp "$busybox" "$r/bin/busybox"
case $overlay in
*.xz) xz -dc "$overlay" >"$r/t/overlay.ko" ;;
*.zst) zstd -dc "$overlay" >"$r/t/overlay.ko" ;;
*) cp "$overlay" "$r/t/overlay.ko" ;;
esac
echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
echo 'root:x:0:' >"$r/etc/group"
cat >"$r/init" <<'EOS'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t tmpfs -o size=700m tmpfs /newroot
for d in bin sbin usr opt t etc; do cp -a /$d /newroot/; done
mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run /newroot/var/tmp
chmod 1777 /newroot/tmp /newroot/var/tmp
cp /stage2 /newroot/stage2
exec switch_root /newroot /stage2
EOS
cat >"$r/stage2" <<'EOS'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t cgroup2 none /sys/fs/cgroup
insmod /t/overlay.ko
echo "+memory +pids +cpu" >/sys/fs/cgroup/cgroup.subtree_control
run=$(sed -n 's/.*testrun=\([^ ]*\).*/\1/p' /proc/cmdline)
rc=0
cd /t
for p in cgroup sandbox; do
	GLEXEC_SANDBOX_HELPER=/opt/glexec/glexec-sandbox GLEXEC_TEST_REQUIRE_CGROUP_CONTROLLERS=1 \
		./$p.test -test.v -test.count=1 -test.timeout 20m ${run:+-test.run "$run"} 2>&1 || rc=1
done
echo "VM-TESTS-EXIT=$rc"
poweroff -f
EOS
chmod +x "$r/init" "$r/stage2"
(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$work/initrd.gz")
timeout 1800 qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1${1:+ testrun=$1}" | tee "$work/console.log" |
	grep -E -- '^(=== RUN|--- |    |ok|FAIL|PASS|VM-TESTS-EXIT)' || true
grep -q 'VM-TESTS-EXIT=0' "$work/console.log"
