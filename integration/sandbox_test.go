package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// sandboxConf runs payloads in glexec-sandbox. On a hybrid host (this
// build machine) the helper uses the unified hierarchy in its private
// mount namespace; on a cgroup2 host (the VM) the setting does nothing.
func (g *grid) sandboxConf(extra ...string) string {
	c := strings.Replace(g.conf(), "sandbox = no", "sandbox = yes", 1)
	return c + strings.Join(append([]string{"[sandbox]", "cgroup_hybrid = private"}, extra...), "\n") + "\n"
}

// TestSandboxRun is the whole path through the helper: mapped ids and the
// tracking gid, no capabilities, no_new_privs, a read-only host, a private
// /tmp, the staged proxy at $X509_USER_PROXY, an accounting record, and
// nothing left behind.
func TestSandboxRun(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.sandboxConf())
	logs := listenSyslog(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	marker := filepath.Join("/tmp", "host-only-marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(marker)
	script := `id -u; id -g; id -G
grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status
touch /usr/glexec-must-fail 2>/dev/null && echo usr-writable || echo usr-readonly
test -e ` + marker + ` && echo tmp-shared || echo tmp-private
echo "proxy=$X509_USER_PROXY"
head -1 "$X509_USER_PROXY"
(sleep 300 & sleep 300 &) ; echo daemons-started`
	start := time.Now()
	r := runAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", script)
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s\nlog: %q", r.Code, r.Stdout, r.Stderr, logs.Texts())
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("glexec waited %v: the left-behind sleeps were not killed", d)
	}
	out := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	want := []string{fmt.Sprint(alice.UID), fmt.Sprint(alice.GID)}
	if len(out) < 11 || out[0] != want[0] || out[1] != want[1] {
		t.Fatalf("payload output:\n%s", r.Stdout)
	}
	groups := strings.Fields(out[2])
	if len(groups) != 2 || groups[0] != fmt.Sprint(alice.GID) || !strings.HasPrefix(groups[1], "650") {
		t.Errorf("groups %q: want alice's gid and one tracking gid", out[2])
	}
	for _, l := range out[3:6] {
		f := strings.Fields(l)
		if len(f) != 2 || (f[0] == "NoNewPrivs:" && f[1] != "1") || (f[0] != "NoNewPrivs:" && strings.Trim(f[1], "0") != "") {
			t.Errorf("status line %q", l)
		}
	}
	if out[6] != "usr-readonly" || out[7] != "tmp-private" {
		t.Errorf("filesystem view: %q %q", out[6], out[7])
	}
	if !strings.HasPrefix(out[8], "proxy=/tmp/glexec-proxy/x509up_u41001.glexec.") || out[9] != "-----BEGIN CERTIFICATE-----" {
		t.Errorf("proxy in the sandbox: %q %q", out[8], out[9])
	}
	if m, ok := logs.WaitFor("Terminated, CPU user", 2*time.Second); !ok || !strings.HasPrefix(m.Tag, "glexec.mon[") {
		t.Errorf("no glexec.mon accounting line (got %+v) in %q", m, logs.Texts())
	}
	acct, err := os.ReadFile(filepath.Join(world.StateDir, "accounting.jsonl"))
	if err != nil || !strings.Contains(string(acct), aliceDN) {
		t.Errorf("accounting record: %v %s", err, acct)
	}
	assertNoLeases(t)
}

// TestSandboxBadRequest: a site setting the helper would refuse (container
// root on the payload's own uid) fails in glexec with 202 naming the
// setting, before the helper runs, and leaves no staged proxy behind.
func TestSandboxBadRequest(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.sandboxConf(fmt.Sprintf("container_root_id = %d", alice.UID)))
	listenSyslog(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	r := runAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", "echo ran")
	if r.Code != 202 || r.Stdout != "" || !strings.Contains(r.Stderr, "container_root_id") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want 202 naming container_root_id", r.Code, r.Stdout, r.Stderr)
	}
	left, _ := filepath.Glob(filepath.Join(world.RunDir, "proxy", fmt.Sprint(alice.UID), "*"))
	if len(left) != 0 {
		t.Errorf("staged proxy left behind: %v", left)
	}
	assertNoLeases(t)
}

// TestSandboxEarlyHelper: glexec starts the helper before it reads the
// proxy, so that the helper's process start overlaps validation and
// mapping. A call refused after that leaves no helper behind and nothing
// from it on stderr, and a payload that does run still gets the caller's
// resource limits (glexec lowers RLIMIT_CORE for itself).
func TestSandboxEarlyHelper(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.sandboxConf())
	listenSyslog(t)

	r := runAs(pilot, pilotEnv(g.proxyFor(t, g.eve, credgen.ProxyOptions{})), "", world.Bin, "/bin/true")
	if r.Code != 203 || strings.Contains(r.Stderr, "glexec-sandbox") {
		t.Fatalf("unmapped DN: exit %d, stderr %q: want 203 and nothing from the helper", r.Code, r.Stderr)
	}
	if pids := helperProcesses(); len(pids) != 0 {
		t.Errorf("helper processes left after a refused call: %v", pids)
	}
	assertNoLeases(t)

	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	r = runAs(pilot, pilotEnv(px), "", world.Sh, "-c", `ulimit -S -c 2048 && exec "$0" "$1" -c 'ulimit -S -c'`, world.Bin, world.Sh)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "2048" {
		t.Fatalf("exit %d, stdout %q, stderr %q: want the caller's core limit 2048 in the payload", r.Code, r.Stdout, r.Stderr)
	}
}

// helperProcesses lists the pids of running glexec-sandbox processes.
func helperProcesses() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == world.Helper {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestSandboxSignal: without an epilogue the pilot can still signal a
// sandboxed glexec (its real uid stays the pilot's), and the signal reaches
// the payload through the helper, as in the classic lingering mode.
func TestSandboxSignal(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.sandboxConf())
	logs := listenSyslog(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	dir := filepath.Join(world.Root, "signal-test")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	t.Cleanup(func() { os.RemoveAll(dir) })
	ready, marker := filepath.Join(dir, "ready"), filepath.Join(dir, "trapped")
	payload := fmt.Sprintf(`trap 'echo TERM > %s; exit 7' TERM; : > %s; while :; do sleep 1; done`, marker, ready)
	run := startAs(pilot, pilotEnv(px), dir, world.Bin, world.Sh, "-c", payload)
	if !waitFile(ready, 20*time.Second) {
		run.Cmd.Process.Kill()
		t.Fatalf("payload did not start: %+v", run.Wait())
	}
	// As the pilot: kill(2) checks the sender's ids against glexec's.
	kill := exec.Command("kill", "-TERM", fmt.Sprint(run.Cmd.Process.Pid))
	kill.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(pilot.UID), Gid: uint32(pilot.GID)}}
	if out, err := kill.CombinedOutput(); err != nil {
		run.Cmd.Process.Kill()
		t.Fatalf("the pilot cannot signal glexec: %v %s", err, out)
	}
	r := run.Wait()
	expect(t, r, logs, want{code: 7, stdout: str("")})
	if b, err := os.ReadFile(marker); err != nil || string(b) != "TERM\n" {
		t.Errorf("the payload's TERM trap did not run: %q %v", b, err)
	}
	assertNoLeases(t)
}
