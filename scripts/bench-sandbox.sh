#!/bin/bash
# Benchmarks one sandboxed /bin/true: glexec-sandbox against runc run and
# crun run of an equivalent bundle and bwrap, in one run on this machine,
# and reports medians, p90 and ratios to runc, plus the RSS of the helper
# while it waits for a payload (budget 12 MiB).
#
#   sudo scripts/bench-sandbox.sh [runs]     (default 30 runs per variant)
#
# Everything runs inside a private mount and cgroup namespace rooted at a
# leaf of the cgroup2 hierarchy, with cgroup2 mounted at /sys/fs/cgroup:
# runc and crun must never see (and create cgroups in) the v1 hierarchies
# of a hybrid host. Nothing outside a temporary directory and that leaf is
# touched; both are removed at the end.
set -euo pipefail

RUNS=${RUNS:-${1:-30}}
die() { echo "bench-sandbox: $*" >&2; exit 1; }

if [ -z "${GLEXEC_BENCH_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || die "must run as root"
	for t in hyperfine:hyperfine runc:runc crun:crun bwrap:bubblewrap python3:python3 gcc:gcc unshare:util-linux; do
		command -v "${t%%:*}" >/dev/null || die "${t%%:*} not found: apt-get install ${t#*:} (scripts/test-deps.sh)"
	done
	GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
	root=$(cd "$(dirname "$0")/.." && pwd)
	work=$(mktemp -d /tmp/glexec-bench.XXXXXX)
	chmod 711 "$work"
	unified=
	for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		if [ "$(stat -f -c %T "$m" 2>/dev/null)" = cgroup2fs ]; then unified=$m; break; fi
	done
	[ -n "$unified" ] || die "no cgroup2 hierarchy"
	leaf=$unified/glexec-bench-$$
	cleanup() {
		rmdir "$leaf/ctl" "$leaf" 2>/dev/null || echo "bench-sandbox: $leaf left behind" >&2
		rm -rf "$work"
	}
	trap cleanup EXIT
	# The helper is installed in a directory of its own: libcontainer seals
	# it with an overlayfs over that directory, which must not overlap its
	# state (lab P9), or it copies 10 MB into a memfd on every launch.
	mkdir -p "$work/bin"
	(cd "$root" && CGO_ENABLED=1 "$GO" build -tags netgo,osusergo -ldflags '-s -w -extldflags -static' \
		-o "$work/bin/glexec-sandbox" ./cmd/glexec-sandbox)
	mkdir "$leaf"
	(
		echo "$BASHPID" >"$leaf/cgroup.procs"
		exec env GLEXEC_BENCH_INNER=1 WORK="$work" RUNS="$RUNS" \
			unshare -m -C --propagation slave bash "$0"
	)
	exit
fi

# Inside the private namespaces.
mount -t cgroup2 none /sys/fs/cgroup
# The shell leaves the namespace's root cgroup for a child: a cgroup with
# processes of its own cannot enable controllers for its children, and
# crun retries that for seconds when the host offers any (hugetlb here).
mkdir /sys/fs/cgroup/ctl /sys/fs/cgroup/bench
echo $$ >/sys/fs/cgroup/ctl/cgroup.procs
trap 'rmdir /sys/fs/cgroup/bench 2>/dev/null || echo "bench-sandbox: payload cgroups left: $(ls /sys/fs/cgroup/bench)" >&2' EXIT
W=$WORK
HELPER=$W/bin/glexec-sandbox
ROOTID=2147480000

# The staged proxy, in a directory owned by the payload user.
mkdir -m 700 "$W/proxy"
echo proxy >"$W/proxy/x509up_u1234"
chmod 600 "$W/proxy/x509up_u1234"
chown -R 1234:1234 "$W/proxy"

request() { # argv as a JSON list
	cat <<JSON
{"version":1,"kind":"run",
 "account":{"user":"bench","uid":1234,"pgid":1234,"sgids":[1234,65000],"home":"/"},
 "argv":$1,"env":["PATH=/usr/bin:/bin"],"cwd":"/","cwd_writable":false,
 "proxy":{"host_path":"$W/proxy/x509up_u1234","path":"/tmp/.glexec-proxy/x509up_u1234"},
 "tracking_gid":65000,"caller_pid":0,
 "accounting":{"dn":"/CN=bench","fqan":""},
 "limits":{"memory_max":0,"pids_max":0,"cpu_quota_us":0,"cpu_period_us":0},"linger":false,
 "sandbox":{"root_mode":"hostbind","bind_ro":null,"bind_rw":null,"tmp_size":0,"pid_namespace":true,
  "nested_userns":true,"container_root_id":$ROOTID,"cgroup_parent":"/bench","cgroup_hybrid":"refuse",
  "cgroup_mount":"","state_dir":"$W/state","run_dir":"$W/run"},
 "log":{"destination":"$2","file":"$W/helper.log","facility":"","level":${3:-0},"monitor_pid":0,"glexec_pid":0}}
JSON
}
export REQ_TRUE REQ_SLEEP
REQ_TRUE=$(request '["/bin/true"]' "")
REQ_SLEEP=$(request '["/bin/sleep","1"]' "")

# Sanity: the payload runs, and the exe is sealed by overlayfs, not copied.
"$HELPER" 3<<<"$(request '["/usr/bin/id"]' file 5)" </dev/null || die "glexec-sandbox failed"
grep -q "using overlayfs for sealed /proc/self/exe" "$W/helper.log" ||
	die "libcontainer did not use the overlayfs seal (memfd fallback); see $W/helper.log"

# The equivalent OCI bundle: skeleton root with read-only host trees, user
# namespace with the same mappings, no capabilities, no_new_privs, pid/ipc/
# uts/mount namespaces, host network, fresh /proc, /dev, private /tmp, the
# proxy's directory bound read-only.
B=$W/bundle
mkdir -p "$B/rootfs"/{usr,etc,proc,dev,tmp,sys,var,opt}
for l in bin lib lib64 sbin; do [ -L "/$l" ] && ln -s "$(readlink "/$l")" "$B/rootfs/$l"; done
cat >"$B/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"terminal":false,"user":{"uid":1234,"gid":1234,"additionalGids":[1234,65000]},
  "args":["/bin/true"],"env":["PATH=/usr/bin:/bin","X509_USER_PROXY=/tmp/.glexec-proxy/x509up_u1234","HOME=/"],
  "cwd":"/","capabilities":{"bounding":[],"effective":[],"permitted":[],"inheritable":[],"ambient":[]},
  "noNewPrivileges":true},
 "root":{"path":"rootfs","readonly":true},
 "mounts":[
  {"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
  {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},
  {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},
  {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777"]},
  {"destination":"/usr","type":"bind","source":"/usr","options":["rbind","ro","nosuid","nodev"]},
  {"destination":"/etc","type":"bind","source":"/etc","options":["rbind","ro","nosuid","nodev"]},
  {"destination":"/var","type":"bind","source":"/var","options":["rbind","ro","nosuid","nodev"]},
  {"destination":"/opt","type":"bind","source":"/opt","options":["rbind","ro","nosuid","nodev"]},
  {"destination":"/tmp/.glexec-proxy","type":"bind","source":"$W/proxy","options":["rbind","ro","nosuid","nodev","noexec"]}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"user"}],
  "uidMappings":[{"containerID":0,"hostID":$ROOTID,"size":1},{"containerID":1234,"hostID":1234,"size":1}],
  "gidMappings":[{"containerID":0,"hostID":$ROOTID,"size":1},{"containerID":1234,"hostID":1234,"size":1},{"containerID":65000,"hostID":65000,"size":1}],
  "cgroupsPath":"/bench/oci",
  "maskedPaths":["/proc/kcore","/proc/keys","/proc/timer_list","/sys/firmware"],
  "readonlyPaths":["/proc/sys","/proc/sysrq-trigger","/proc/irq","/proc/bus"]}}
JSON
chmod -R go+rX "$B"

runc --root "$W/runc" run -b "$B" sanity </dev/null || die "runc run of the bundle failed"
crun --root "$W/crun" run -b "$B" sanity </dev/null || die "crun run of the bundle failed"

BWRAP="bwrap --unshare-all --share-net --uid 1234 --gid 1234 --cap-drop ALL --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp --dir /tmp/.glexec-proxy --ro-bind $W/proxy /tmp/.glexec-proxy"
$BWRAP /bin/true || die "bwrap failed"

# Container ids must be unique per run: runc/crun run deletes them on exit.
# The runs are split into rounds that cycle through the variants, so that a
# burst of load on a shared machine hits all of them, not just one.
ROUNDS=5
per=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
for round in $(seq "$ROUNDS"); do
	hyperfine --shell=bash --warmup 1 --runs "$per" --style none --export-json "$W/bench-$round.json" \
		-n glexec-sandbox "$HELPER 3<<<\"\$REQ_TRUE\" </dev/null" \
		-n runc "runc --root $W/runc run -b $B r\$RANDOM\$RANDOM </dev/null" \
		-n crun "crun --root $W/crun run -b $B c\$RANDOM\$RANDOM </dev/null" \
		-n bwrap "$BWRAP /bin/true" >/dev/null
done

# RSS of the helper while it waits for a one-second payload.
"$HELPER" 3<<<"$REQ_SLEEP" </dev/null &
pid=$!
sleep 0.5
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
grep -E "^(RssAnon|RssFile)" "/proc/$pid/status" >&2
wait "$pid"

python3 - "$rss" "$W"/bench-*.json <<'PY'
import json, sys
rows = {}
for f in sys.argv[2:]:
    for r in json.load(open(f))["results"]:
        rows.setdefault(r["command"], []).extend(t * 1000 for t in r["times"])
def q(v, p):
    v = sorted(v); i = (len(v) - 1) * p; lo = int(i); hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (i - lo)
base = q(rows["runc"], .5)
load = open("/proc/loadavg").read().split()[0]
print(f"{'variant':16} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'vs runc':>8}  (runs {len(rows['runc'])}, load {load})")
for name, t in rows.items():
    print(f"{name:16} {q(t,.5):10.2f} {q(t,.9):8.2f} {min(t):8.2f} {q(t,.5)/base:8.2f}")
rss = int(sys.argv[1])
print(f"waiting glexec-sandbox RSS: {rss/1024:.1f} MiB (budget 12 MiB) {'OK' if rss <= 12*1024 else 'OVER BUDGET'}")
PY
left=$(find /sys/fs/cgroup/bench -mindepth 1 -type d)
[ -z "$left" ] || die "cgroups left behind: $left"
