#!/bin/sh
# build.sh ROOT VERSION ARCH OUT — turn a "make install" tree into a Debian
# binary package with dpkg-deb: compressed man pages and changelog, the
# copyright file, lintian overrides, maintainer scripts, conffiles and
# md5sums. Ownership comes from dpkg-deb --root-owner-group, so the tree
# may have been installed by any user.
set -eu
root=$1 version=$2 arch=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)

for tool in dpkg-deb gzip md5sum du; do
	command -v "$tool" >/dev/null 2>&1 || { echo "deb: $tool is missing (apt-get install dpkg-dev)" >&2; exit 1; }
done
top=$(sed -n '1s/^glexec (\([^)]*\)).*/\1/p' "$here/changelog")
[ "$top" = "$version" ] || { echo "deb: version $version is not the changelog's latest ($top): add an entry to packaging/debian/changelog" >&2; exit 1; }
glibc=$(dpkg-query -W -f='${Version}' libc6-dev 2>/dev/null) ||
	{ echo "deb: libc6-dev is not installed (the helper links it statically; Built-Using needs its version)" >&2; exit 1; }

# The state directory is made by the postinst (provision.sh node), so
# dpkg does not own a 0700 directory it would then fight over.
rm -rf "$root/var/lib/glexec"
rmdir "$root/var/lib" "$root/var" 2>/dev/null || true

doc=$root/usr/share/doc/glexec
install -d -m 0755 "$doc" "$root/usr/share/lintian/overrides"
install -m 0644 "$here/copyright" "$doc/copyright"
gzip -9nc "$here/changelog" > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/glexec"
find "$root/usr/share/man" -type f ! -name '*.gz' -exec gzip -9nf {} +

ctl=$root/DEBIAN
rm -rf "$ctl"
install -d -m 0755 "$ctl"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$ctl/"
install -m 0644 "$here/conffiles" "$ctl/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f ! -path './etc/*' -print | sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) > "$ctl/md5sums"
chmod 0644 "$ctl/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@GLIBC@/$glibc/" \
	"$here/control.in" > "$ctl/control"
chmod 0644 "$ctl/control"

mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out"
