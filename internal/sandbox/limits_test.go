package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// requireControllersEnv turns a missing controller from a skip into a
// failure; the VM harness (make vm-test) sets it.
const requireControllersEnv = "GLEXEC_TEST_REQUIRE_CGROUP_CONTROLLERS"

// needController skips (or, when the VM harness asks for it, fails) unless
// the test's parent cgroup offers controller c.
func needController(t *testing.T, w *world, c string) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(w.unified, w.parent, "cgroup.controllers"))
	if slices.Contains(strings.Fields(string(b)), c) {
		return
	}
	if os.Getenv(requireControllersEnv) != "" {
		t.Fatalf("%s is set but the %s controller is not offered to %s (controllers: %q)", requireControllersEnv, c, w.parent, b)
	}
	t.Skipf("the %s controller is not available in this host's cgroup2 hierarchy; limits are tested in the VM target (make vm-test)", c)
}

// ownCgroup is a payload snippet that sets $cg to the payload's own cgroup
// directory; the snippets then read it with shell builtins only (a fork
// may be refused).
const ownCgroup = `cg=$(sed -n 's/^0:://p' /proc/self/cgroup); cg=/sys/fs/cgroup/${cg##*/}; `

func statLine(out, key string) (int64, bool) {
	for _, l := range lines(out) {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func TestMemoryLimitOOMKills(t *testing.T) {
	w := newWorld(t)
	needController(t, w, "memory")
	// The shell doubles a string until the kernel kills it.
	r := w.request("/bin/sh", "-c", `x=0123456789abcdef; while :; do x="$x$x"; done`)
	r.Limits.MemoryMax = 32 << 20
	o := w.run(r)
	if o.code == 0 {
		t.Errorf("payload growing without bound under a 32 MiB limit exited 0")
	}
	recs := w.records()
	if len(recs) != 1 || recs[0].OOMKills < 1 || recs[0].MemoryPeak < 16<<20 || recs[0].MemoryPeak > 33<<20 {
		t.Errorf("accounting %+v: want oom_kills >= 1 and a peak near 32 MiB", recs)
	}
	w.assertClean()
}

func TestPidsLimitCapsForkBomb(t *testing.T) {
	w := newWorld(t)
	needController(t, w, "pids")
	r := w.request("/bin/sh", "-c", ownCgroup+`(i=0; while [ $i -lt 100 ]; do sleep 3 & i=$((i+1)); done) 2>/dev/null
while read k v; do [ "$k" = max ] && echo "max=$v"; done < $cg/pids.events
while read v; do echo "peak=$v"; done < $cg/pids.peak`)
	r.Sandbox.PIDNamespace = false
	r.Limits.PidsMax = 20
	o := w.run(r)
	if n, ok := statLine(o.stdout, "max"); !ok || n < 1 {
		t.Errorf("pids.events max = %d (%v), want > 0; stdout %q stderr %q", n, ok, o.stdout, o.stderr)
	}
	if n, ok := statLine(o.stdout, "peak"); !ok || n > 20 {
		t.Errorf("pids.peak = %d (%v), want <= 20", n, ok)
	}
	w.assertClean()
}

func TestCPULimitThrottles(t *testing.T) {
	w := newWorld(t)
	needController(t, w, "cpu")
	r := w.request("/bin/sh", "-c", ownCgroup+`i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done
while read k v; do [ "$k" = nr_throttled ] && echo "throttled=$v"; done < $cg/cpu.stat`)
	r.Limits.CPUQuota, r.Limits.CPUPeriod = 20000, 100000
	o := w.run(r)
	if n, ok := statLine(o.stdout, "throttled"); !ok || n < 1 {
		t.Errorf("cpu.stat nr_throttled = %d (%v), want > 0; stdout %q stderr %q", n, ok, o.stdout, o.stderr)
	}
	recs := w.records()
	if len(recs) != 1 || recs[0].CPUUserSeconds+recs[0].CPUSystemSeconds > 0.3*recs[0].WallSeconds+0.05 {
		t.Errorf("accounting %+v: CPU time should stay near 20%% of wall time", recs)
	}
	w.assertClean()
}
