#!/bin/sh
# install-test.sh — make install into a temporary DESTDIR, twice: the
# layout and modes, and on the second run a site's changed glexec.conf is
# kept with the new version beside it as glexec.conf.new while the
# unchanged lcmaps.db gets no .new. Run from the source tree (make
# install-test).
set -eu
MAKE=${MAKE:-make}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fails=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; fails=$((fails + 1)); }

# expect PATH MODE: the octal mode (and root ownership when run as root).
expect() {
	f=$dest$1
	if [ ! -e "$f" ]; then fail "$1 missing"; return; fi
	got=$(stat -c %a "$f")
	[ "$got" = "$2" ] && pass "$1 mode $2" || fail "$1 mode $got, want $2"
	if [ "$(id -u)" = 0 ]; then
		own=$(stat -c %U:%G "$f")
		[ "$own" = root:root ] || fail "$1 owned by $own, want root:root"
	fi
}

$MAKE -s install DESTDIR="$dest" >/dev/null
expect /usr/sbin/glexec 4755
expect /usr/libexec/glexec 755
expect /usr/libexec/glexec/glexec-sandbox 700
expect /usr/libexec/glexec/provision.sh 755
expect /etc/glexec.conf 644
expect /etc/lcmaps.db 644
expect /usr/share/doc/glexec/examples/lcmaps.db.voms-pool 644
expect /usr/share/doc/glexec/examples/lcmaps.db.gums 644
expect /usr/share/man/man8/glexec.8 644
expect /usr/share/man/man5/glexec.conf.5 644
expect /usr/share/man/man5/lcmaps.db.5 644
expect /usr/lib/systemd/system/glexec-sweep.service 644
expect /usr/lib/systemd/system/glexec-sweep.timer 644
expect /var/lib/glexec 700
cmp -s configs/glexec.conf "$dest/etc/glexec.conf" && pass "glexec.conf is the example" || fail "glexec.conf differs from configs/glexec.conf"
cmp -s configs/lcmaps.db "$dest/etc/lcmaps.db" && pass "lcmaps.db is the example" || fail "lcmaps.db differs from configs/lcmaps.db"
grep -qx 'ExecStart=/usr/sbin/glexec --sweep' "$dest/usr/lib/systemd/system/glexec-sweep.service" &&
	pass "service runs glexec --sweep" || fail "service does not run /usr/sbin/glexec --sweep"
grep -qx 'OnUnitActiveSec=10min' "$dest/usr/lib/systemd/system/glexec-sweep.timer" &&
	pass "timer every 10 minutes" || fail "timer is not every 10 minutes"

# systemd's own check of the units, with ExecStart pointing into DESTDIR
# (it insists that the command exists). Any message is a failure: it
# only warns about unknown keys.
command -v systemd-analyze >/dev/null 2>&1 || { echo "install-test: systemd-analyze is missing: apt-get install systemd" >&2; exit 1; }
mkdir "$dest/verify"
sed "s|=/usr/sbin/glexec|=$dest/usr/sbin/glexec|" "$dest/usr/lib/systemd/system/glexec-sweep.service" > "$dest/verify/glexec-sweep.service"
cp "$dest/usr/lib/systemd/system/glexec-sweep.timer" "$dest/verify/"
if msg=$(systemd-analyze verify --man=no "$dest/verify/glexec-sweep.timer" "$dest/verify/glexec-sweep.service" 2>&1) && [ -z "$msg" ]; then
	pass "systemd-analyze verify: units clean"
else
	fail "systemd-analyze verify: $msg"
fi
rm -rf "$dest/verify"

# The site edits glexec.conf; a reinstall (an upgrade) must not touch it.
echo "# site change" >> "$dest/etc/glexec.conf"
site=$(cat "$dest/etc/glexec.conf")
out=$($MAKE -s install DESTDIR="$dest")
[ "$(cat "$dest/etc/glexec.conf")" = "$site" ] && pass "site glexec.conf kept" || fail "site glexec.conf overwritten"
cmp -s configs/glexec.conf "$dest/etc/glexec.conf.new" && pass "glexec.conf.new is the new example" || fail "no glexec.conf.new with the new example"
expect /etc/glexec.conf.new 644
echo "$out" | grep -q "glexec.conf kept; the new version is .*glexec.conf.new" && pass "install says where the new version is" || fail "install did not mention glexec.conf.new: $out"
[ ! -e "$dest/etc/lcmaps.db.new" ] && pass "unchanged lcmaps.db gets no .new" || fail "lcmaps.db.new written for an unchanged lcmaps.db"
expect /usr/sbin/glexec 4755
expect /usr/libexec/glexec/glexec-sandbox 700

# A site lcmaps.db likewise.
echo "# site policy" >> "$dest/etc/lcmaps.db"
$MAKE -s install DESTDIR="$dest" >/dev/null
grep -q '^# site policy$' "$dest/etc/lcmaps.db" && pass "site lcmaps.db kept" || fail "site lcmaps.db overwritten"
cmp -s configs/lcmaps.db "$dest/etc/lcmaps.db.new" && pass "lcmaps.db.new is the new example" || fail "no lcmaps.db.new"

if [ "$fails" -ne 0 ]; then
	echo "install-test: $fails check(s) failed" >&2
	exit 1
fi
echo "install-test: all checks passed"
