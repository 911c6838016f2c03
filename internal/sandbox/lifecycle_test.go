package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/launch"
)

// A renewal (a new file renamed over the staged one) is visible to the
// running payload.
func TestProxyRenewal(t *testing.T) {
	w := newWorld(t)
	cmd, out, errf := w.start(w.request("/bin/sh", "-c", `
p=$X509_USER_PROXY; cat "$p"; echo
i=0
while [ $i -lt 200 ]; do
	if [ "$(cat "$p")" = proxy-v2 ]; then echo saw-renewal; exit 0; fi
	sleep 0.05; i=$((i+1))
done
exit 1`))
	waitFor(t, "the payload to read the first proxy", func() bool {
		b, _ := os.ReadFile(out.Name())
		return strings.Contains(string(b), "proxy-v1")
	})
	w.writeProxy("proxy-v2")
	o := finishCmd(t, cmd, out, errf)
	if o.code != 0 || o.stdout != "proxy-v1\nsaw-renewal\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want the renewal seen", o.code, o.stdout, o.stderr)
	}
	w.assertClean()
}

// Daemonised children do not outlive the helper, with or without a pid
// namespace.
func TestDaemonsLeaveNothing(t *testing.T) {
	for _, pidns := range []bool{false, true} {
		t.Run(fmt.Sprintf("pid_namespace=%v", pidns), func(t *testing.T) {
			w := newWorld(t)
			r := w.request("/bin/sh", "-c", `setsid sleep 300 </dev/null >/dev/null 2>&1 & (sleep 301 </dev/null >/dev/null 2>&1 &); exit 0`)
			r.Sandbox.PIDNamespace = pidns
			o := w.run(r)
			if o.code != 0 {
				t.Fatalf("exit %d, stderr %q", o.code, o.stderr)
			}
			w.assertClean()
			if left := sleepers(t, "300", "301"); len(left) != 0 {
				t.Errorf("daemons survived the payload: pids %v", left)
			}
		})
	}
}

// sleepers finds processes running "sleep <arg>" as the payload uid.
func sleepers(t *testing.T, args ...string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		st, err := os.Stat(filepath.Join("/proc", e.Name()))
		if err != nil || st.Sys().(*syscall.Stat_t).Uid != payloadUID {
			continue
		}
		for _, a := range args {
			if string(b) == "sleep\x00"+a+"\x00" {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// SIGKILL of the helper leaves the payload running (lab P11); the sweep
// kills it, accounts it as an orphan and removes every trace.
func TestSweepAfterHelperKilled(t *testing.T) {
	w := newWorld(t)
	r := w.request("/bin/sh", "-c", `setsid sleep 302 </dev/null >/dev/null 2>&1 & exec sleep 303`)
	r.Sandbox.PIDNamespace = false
	cmd, out, errf := w.start(r)
	waitFor(t, "both payload processes", func() bool { return len(sleepers(t, "302", "303")) == 2 })
	cmd.Process.Signal(syscall.SIGKILL)
	finishCmd(t, cmd, out, errf)
	if len(sleepers(t, "302", "303")) != 2 || len(w.children()) != 1 {
		t.Fatalf("expected the payload to survive its helper: sleepers %v, cgroups %v", sleepers(t, "302", "303"), w.children())
	}
	sw := w.request()
	sw.Kind = launch.KindSweep
	if o := w.run(sw); o.code != 0 {
		t.Fatalf("sweep: exit %d, stderr %q", o.code, o.stderr)
	}
	if left := sleepers(t, "302", "303"); len(left) != 0 {
		t.Errorf("processes survived the sweep: %v", left)
	}
	w.assertClean()
	recs := w.records()
	if len(recs) != 1 || recs[0].Event != "orphan" || recs[0].ExitStatus != -1 || recs[0].UID != payloadUID {
		t.Errorf("accounting after the sweep: %+v, want one orphan record", recs)
	}
}

// 32 payloads at once get 32 distinct cgroups and tracking gids, and all of
// them are cleaned up.
func TestConcurrentPayloads(t *testing.T) {
	const n = 32
	w := newWorld(t)
	type res struct {
		o   outcome
		gid int
	}
	results := make([]res, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := w.request("/bin/sh", "-c", `grep '^0::' /proc/self/cgroup; id -G; sleep 0.3`)
			gid := trackingGID + 1 + i
			r.Account.SGIDs = []int{payloadUID, gid}
			r.TrackingGID = gid
			results[i] = res{w.run(r), gid}
		}(i)
	}
	wg.Wait()
	cgroups := map[string]bool{}
	for i, r := range results {
		l := lines(r.o.stdout)
		if r.o.code != 0 || len(l) != 2 {
			t.Errorf("payload %d: exit %d, stdout %q, stderr %q", i, r.o.code, r.o.stdout, r.o.stderr)
			continue
		}
		if !strings.HasPrefix(l[0], "0::"+w.parent+"/glexec-") {
			t.Errorf("payload %d ran in %q, not below %s", i, l[0], w.parent)
		}
		cgroups[l[0]] = true
		if want := fmt.Sprintf("1234 %d", r.gid); l[1] != want {
			t.Errorf("payload %d: groups %q, want %q", i, l[1], want)
		}
	}
	if len(cgroups) != n {
		t.Errorf("%d distinct cgroups for %d payloads", len(cgroups), n)
	}
	w.assertClean()
	recs := w.records()
	var got []string
	for _, r := range recs {
		got = append(got, r.Cgroup)
	}
	sort.Strings(got)
	if len(recs) != n {
		t.Errorf("%d accounting records, want %d: %v", len(recs), n, got)
	}
}

// Exit statuses pass through; signals become 128+N; glexec's own codes
// 201-204 become 204.
func TestExitStatus(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		script string
		code   int
	}{
		{"exit 0", 0},
		{"exit 7", 7},
		{"kill -KILL $$", 137},
		{"kill -TERM $$", 143},
		{"exit 201", 204},
		{"exit 204", 204},
		{"exit 205", 205},
	} {
		r := w.request("/bin/sh", "-c", tc.script)
		r.Sandbox.PIDNamespace = false // pid 1 would ignore its own SIGTERM
		if o := w.run(r); o.code != tc.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tc.script, o.code, tc.code, o.stderr)
		}
	}
	w.assertClean()
}

// SIGTERM to the helper reaches the payload.
func TestSignalForwarding(t *testing.T) {
	w := newWorld(t)
	cmd, out, errf := w.start(w.request("/bin/sh", "-c", `trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done`))
	waitFor(t, "the payload to start", func() bool {
		b, _ := os.ReadFile(out.Name())
		return strings.Contains(string(b), "ready")
	})
	cmd.Process.Signal(syscall.SIGTERM)
	o := finishCmd(t, cmd, out, errf)
	if o.code != 3 || o.stdout != "ready\ngot-term\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want the trapped SIGTERM", o.code, o.stdout, o.stderr)
	}
	w.assertClean()
}

// _LIBCONTAINER_INITPIPE in the caller's environment does nothing: runc's
// nsenter constructor would read a bootstrap message from that fd (here
// the request pipe itself) as root.
func TestLibcontainerEnvIgnored(t *testing.T) {
	w := newWorld(t)
	// Through launch.Start, which passes no environment at all.
	t.Setenv("_LIBCONTAINER_INITPIPE", "3")
	t.Setenv("_LIBCONTAINER_LOGLEVEL", "5")
	if o := w.run(w.request("/usr/bin/id", "-u")); o.code != 0 || o.stdout != "1234\n" {
		t.Errorf("via launch.Start: exit %d, stdout %q, stderr %q", o.code, o.stdout, o.stderr)
	}
	// Exec'd directly with the variables set: the helper's constructor
	// drops them before nsexec can see them.
	pr, pw, _ := os.Pipe()
	cmd := exec.Command(helperBin)
	cmd.Env = []string{"_LIBCONTAINER_INITPIPE=3", "_LIBCONTAINER_LOGPIPE=2", "_LIBCONTAINER_LOGLEVEL=5"}
	cmd.ExtraFiles = []*os.File{pr}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	launch.Encode(pw, w.request("/usr/bin/id", "-u"))
	pw.Close()
	cmd.Wait()
	if cmd.ProcessState.ExitCode() != 0 || stdout.String() != "1234\n" || strings.Contains(stderr.String(), "nsexec") {
		t.Errorf("direct exec: exit %d, stdout %q, stderr %q", cmd.ProcessState.ExitCode(), stdout.String(), stderr.String())
	}
	w.assertClean()
}

// The helper refuses to run for anyone but root, and takes its request
// only from a pipe.
func TestHelperRefuses(t *testing.T) {
	w := newWorld(t)
	req := w.request("/usr/bin/id")

	// Not root.
	pr, pw, _ := os.Pipe()
	cmd := exec.Command(helperBin)
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{pr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	launch.Encode(pw, req)
	pw.Close()
	cmd.Wait()
	if cmd.ProcessState.ExitCode() != 202 || !strings.Contains(stderr.String(), "real uid 65534") {
		t.Errorf("as uid 65534: exit %d, stderr %q; want 202 naming the uid", cmd.ProcessState.ExitCode(), stderr.String())
	}

	// Request from a regular file.
	f, _ := os.CreateTemp(w.base, "req")
	launch.Encode(f, req)
	f.Seek(0, 0)
	cmd = exec.Command(helperBin)
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{f}
	stderr.Reset()
	cmd.Stderr = &stderr
	cmd.Run()
	f.Close()
	if cmd.ProcessState.ExitCode() != 202 || !strings.Contains(stderr.String(), "want a pipe") {
		t.Errorf("request from a file: exit %d, stderr %q; want 202", cmd.ProcessState.ExitCode(), stderr.String())
	}
	w.assertClean()
	if recs := w.records(); len(recs) != 0 {
		t.Errorf("refused requests wrote accounting records: %+v", recs)
	}
}

// On a hybrid host /sys/fs/cgroup is not cgroup2: with cgroup_hybrid =
// refuse the helper exits 202 and creates nothing.
func TestHybridRefused(t *testing.T) {
	w := newWorld(t)
	if w.unified == "/sys/fs/cgroup" {
		t.Skip("this host is cgroup2-only: no hybrid hierarchy to refuse")
	}
	r := w.request("/usr/bin/id")
	r.Sandbox.CgroupHybrid = launch.HybridRefuse
	o := w.run(r)
	if o.code != 202 || !strings.Contains(o.stderr, "not a cgroup2 mount") {
		t.Errorf("exit %d, stderr %q; want 202 naming the hybrid hierarchy", o.code, o.stderr)
	}
	w.assertClean()
}

// The payload cgroup goes below the caller's own cgroup by default.
func TestCallerCgroupDefault(t *testing.T) {
	w := newWorld(t)
	fd, err := os.Open(filepath.Join(w.unified, w.parent))
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	caller := exec.Command("/bin/sleep", "30")
	caller.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(fd.Fd())}
	if err := caller.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { caller.Process.Kill(); caller.Wait() }()
	r := w.request("/bin/sh", "-c", "grep '^0::' /proc/self/cgroup")
	r.Sandbox.CgroupParent = ""
	r.CallerPID = caller.Process.Pid
	o := w.run(r)
	if o.code != 0 || !strings.HasPrefix(o.stdout, "0::"+w.parent+"/glexec-") {
		t.Errorf("exit %d, stdout %q, stderr %q; want a cgroup below the caller's %s", o.code, o.stdout, o.stderr, w.parent)
	}
	w.assertClean()
}

// With linger the helper waits for the payload's last process, not just
// the main one.
func TestLinger(t *testing.T) {
	w := newWorld(t)
	r := w.request("/bin/sh", "-c", `setsid sh -c 'sleep 0.6; echo daemon-done' & exit 0`)
	r.Sandbox.PIDNamespace = false
	r.Linger = true
	start := time.Now()
	o := w.run(r)
	if o.code != 0 || o.stdout != "daemon-done\n" || time.Since(start) < 500*time.Millisecond {
		t.Errorf("exit %d after %v, stdout %q, stderr %q; want the helper to wait for the daemon", o.code, time.Since(start), o.stdout, o.stderr)
	}
	w.assertClean()
}

// A site that forbids nested user namespaces gets a refusal, not a
// sandbox that silently allows them.
func TestNestedUsernsRefused(t *testing.T) {
	w := newWorld(t)
	r := w.request("/usr/bin/id")
	r.Sandbox.NestedUserns = false
	if o := w.run(r); o.code != 202 || !strings.Contains(o.stderr, "seccomp") {
		t.Errorf("exit %d, stderr %q; want 202 explaining the missing seccomp build", o.code, o.stderr)
	}
	w.assertClean()
}

// The accounting record is read before the cgroup goes away: a busy
// payload shows CPU time (cpu.stat exists even without controllers).
func TestAccountingSeesCPU(t *testing.T) {
	w := newWorld(t)
	if o := w.run(w.request("/bin/sh", "-c", `i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done`)); o.code != 0 {
		t.Fatalf("exit %d, stderr %q", o.code, o.stderr)
	}
	recs := w.records()
	if len(recs) != 1 || recs[0].CPUUserSeconds+recs[0].CPUSystemSeconds <= 0 || recs[0].WallSeconds <= 0 {
		t.Errorf("accounting %+v: want CPU and wall time", recs)
	}
	w.assertClean()
}

// The working directory and the site's read-write binds are writable, the
// rest of the host is not.
func TestWritableDirectories(t *testing.T) {
	w := newWorld(t)
	mk := func(name string) string {
		d := filepath.Join(w.base, name)
		os.Mkdir(d, 0o755)
		os.Chown(d, payloadUID, payloadUID)
		return d
	}
	cwd, scratch, other := mk("cwd"), mk("scratch"), mk("other")
	for _, tc := range []struct {
		name        string
		cwdWritable bool
		bindRW      []string
		want        string
	}{
		{"cwd writable, scratch bound rw", true, []string{scratch}, "cwd:ok scratch:ok other:ro"},
		{"cwd read-only, no binds", false, nil, "cwd:ro scratch:ro other:ro"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.request("/bin/sh", "-c", `for d in cwd:. scratch:"$1" other:"$2"; do
	n=${d%%:*}; p=${d#*:}
	if touch "$p/probe" 2>/dev/null; then printf "%s:ok " $n; else printf "%s:ro " $n; fi
done`, "sh", scratch, other)
			r.Cwd, r.CwdWritable, r.Sandbox.BindRW = cwd, tc.cwdWritable, tc.bindRW
			o := w.run(r)
			if got := strings.TrimSpace(o.stdout); o.code != 0 || got != tc.want {
				t.Errorf("exit %d, got %q, want %q (stderr %q)", o.code, got, tc.want, o.stderr)
			}
		})
	}
	w.assertClean()
}
