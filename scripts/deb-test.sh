#!/bin/sh
# deb-test.sh — build the Debian package and check it: the contents and
# modes (setuid glexec, 0700 helper, compressed man pages and changelog,
# units), the control data and conffiles, the maintainer scripts run in a
# private mount namespace over copies of /etc, /var/lib, /run and the
# package's files (root only: the machine's own accounts are never
# touched), and lintian with no errors. Run from the source tree (make
# deb-test).
set -eu
MAKE=${MAKE:-make}
fails=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; fails=$((fails + 1)); }
need() { # tool package
	command -v "$1" >/dev/null 2>&1 || { echo "deb-test: $1 is missing: apt-get install $2 (or make deps)" >&2; exit 1; }
}
need dpkg-deb dpkg
need lintian lintian
need unshare util-linux
need deb-systemd-helper init-system-helpers

$MAKE -s deb >/dev/null
version=$(sed -n 1p packaging/debian/changelog | tr -d '()' | cut -d' ' -f2)
deb=build/glexec_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || { echo "deb-test: $deb was not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"

# --- contents ------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' > "$work/contents"
has() { # mode owner path
	if grep -qx -e "$1 $2 ./$3" "$work/contents"; then pass "$3 $1 $2"; else
		fail "$3: want $1 $2, have: $(grep -e " ./$3\$" "$work/contents" || echo missing)"; fi
}
has -rwsr-xr-x root/root usr/sbin/glexec
has drwxr-xr-x root/root usr/libexec/glexec/
has -rwx------ root/root usr/libexec/glexec/glexec-sandbox
has -rwxr-xr-x root/root usr/libexec/glexec/provision.sh
has -rw-r--r-- root/root etc/glexec.conf
has -rw-r--r-- root/root etc/lcmaps.db
has -rw-r--r-- root/root usr/share/man/man8/glexec.8.gz
has -rw-r--r-- root/root usr/share/man/man5/glexec.conf.5.gz
has -rw-r--r-- root/root usr/share/man/man5/lcmaps.db.5.gz
has -rw-r--r-- root/root usr/share/doc/glexec/copyright
has -rw-r--r-- root/root usr/share/doc/glexec/changelog.gz
has -rw-r--r-- root/root usr/share/doc/glexec/examples/lcmaps.db.voms-pool
has -rw-r--r-- root/root usr/share/doc/glexec/examples/lcmaps.db.gums
has -rw-r--r-- root/root usr/lib/systemd/system/glexec-sweep.service
has -rw-r--r-- root/root usr/lib/systemd/system/glexec-sweep.timer
if grep -q ' \./var/' "$work/contents"; then fail "the state directory is shipped (the postinst makes it)"; else pass "no /var in the package"; fi
if grep -Eq '\./usr/share/man/.*[0-9]$' "$work/contents"; then fail "uncompressed man page"; else pass "man pages all compressed"; fi

# --- control data --------------------------------------------------------
[ "$(dpkg-deb -f "$deb" Package)" = glexec ] && pass "Package: glexec" || fail "Package field"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] && pass "Version: $version" || fail "Version field"
mkdir "$work/ctl"
dpkg-deb -e "$deb" "$work/ctl"
printf '/etc/glexec.conf\n/etc/lcmaps.db\n' | cmp -s - "$work/ctl/conffiles" &&
	pass "conffiles: /etc/glexec.conf /etc/lcmaps.db" || fail "conffiles: $(cat "$work/ctl/conffiles")"
for s in postinst prerm postrm; do
	[ "$(stat -c %a "$work/ctl/$s")" = 755 ] && sh -n "$work/ctl/$s" && pass "$s executable, valid sh" || fail "$s"
done
dpkg-deb -I "$deb" | grep -q 'md5sums' && pass "md5sums present" || fail "no md5sums"

# --- maintainer scripts --------------------------------------------------
# postinst configure (twice, as on an upgrade), then postrm purge, in a
# private mount namespace: /etc is a copy, /var/lib and /run are empty
# tmpfs, the unit and libexec directories tmpfs with the package's files,
# so the real accounts and systemd state are never touched. There is no
# /run/systemd/system there: the timer is enabled, not started.
if [ "$(id -u)" != 0 ]; then
	echo "ok - maintainer scripts # SKIP requires root: they create accounts (in a private mount namespace)"
else
	mkdir "$work/root"
	dpkg-deb -x "$deb" "$work/root"
	cat > "$work/scripts.sh" <<'SCRIPT'
set -eu
work=$1
mount --make-rprivate /
cp -a /etc "$work/etc"
mount --bind "$work/etc" /etc
cp -a /usr/lib/systemd/system "$work/units"
for d in /var/lib /run /usr/lib/systemd/system /usr/libexec; do mount -t tmpfs tmpfs "$d"; done
cp -a "$work/units/." "$work/root/usr/lib/systemd/system/." /usr/lib/systemd/system/
cp -a "$work/root/usr/libexec/." /usr/libexec/
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
# What dpkg tells a maintainer script (deb-systemd-helper insists on it).
maint() { DPKG_MAINTSCRIPT_PACKAGE=glexec DPKG_MAINTSCRIPT_NAME=$1 sh "$work/ctl/$1" "$2"; }
maint postinst configure
check "postinst: glexec system account" 'grep -q "^glexec:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$" /etc/passwd'
check "postinst: glexec group" 'grep -q "^glexec:x:" /etc/group'
check "postinst: glexec00 is gid 65000" 'grep -q "^glexec00:x:65000:" /etc/group'
check "postinst: glexec49 is gid 65049" 'grep -q "^glexec49:x:65049:" /etc/group'
check "postinst: 50 tracking groups" '[ "$(grep -c "^glexec[0-9][0-9]:x:650[0-4][0-9]:" /etc/group)" = 50 ]'
check "postinst: /var/lib/glexec 0700 root" '[ "$(stat -c "%a %U" /var/lib/glexec)" = "700 root" ]'
check "postinst: timer enabled" '[ -L /etc/systemd/system/timers.target.wants/glexec-sweep.timer ]'
maint postinst configure
check "postinst again: no duplicate entries" '[ "$(grep -c "^glexec" /etc/group)" = 51 ] && [ "$(grep -c "^glexec:" /etc/passwd)" = 1 ]'
maint prerm remove
maint postrm purge
check "postrm purge: state directory removed" '[ ! -e /var/lib/glexec ]'
check "postrm purge: timer link removed" '[ ! -e /etc/systemd/system/timers.target.wants/glexec-sweep.timer ]'
SCRIPT
	if unshare -m sh "$work/scripts.sh" "$work" > "$work/scripts.out" 2>&1; then :; else
		echo "not ok - maintainer scripts exited with an error"; fails=$((fails + 1)); fi
	cat "$work/scripts.out"
	n=$(grep -c '^not ok' "$work/scripts.out" || true)
	fails=$((fails + n))
fi

# --- lintian -------------------------------------------------------------
# Run unprivileged where possible (lintian warns about root). The gate is
# --fail-on error; the listing shows every tag, overridden ones included.
cp "$deb" "$work/"
chmod 0644 "$work/$(basename "$deb")"
lint() {
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$work" TMPDIR="$work" lintian "$@"
	else
		lintian "$@"
	fi
}
echo "# lintian -I -E --pedantic --show-overrides:"
(cd "$work" && lint -I -E --pedantic --show-overrides "$work/$(basename "$deb")" 2>&1 | grep -v '^N:' | sed 's/^/#   /') || true
if (cd "$work" && lint --fail-on error "$work/$(basename "$deb")" > "$work/lintian.out" 2>&1); then
	pass "lintian: no errors"
else
	fail "lintian reported errors:"
	cat "$work/lintian.out"
fi

if [ "$fails" -ne 0 ]; then
	echo "deb-test: $fails check(s) failed" >&2
	exit 1
fi
echo "deb-test: all checks passed"
