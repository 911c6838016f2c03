package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// successLine is glexec's log line when it hands over to the payload.
func successLine(caller, mapped Account, cwd string, argv ...string) string {
	return fmt.Sprintf(`real_user(%s),real_group(%s)->mapped_user(%s),mapped_group(%s) cwd: %q cmd: %q (=%q)`,
		caller.Name, caller.Name, mapped.Name, mapped.Name, cwd, strings.Join(argv, " "), argv[0])
}

// TestPayloadEnvironment sets what attackers and careless pilots set and
// checks what reaches the payload, and that none of it takes effect.
func TestPayloadEnvironment(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf("preserve_env_variables = SITE_VAR, CONDOR_*"))
	logs := listenSyslog(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	// Would leave a marker if a shell ever sourced it.
	bashEnv := placeFile(t, "/tmp/bash_env.sh", []byte("echo sourced > /tmp/bash_env.ran\n"), 0, 0, 0o755)
	t.Cleanup(func() { os.Remove("/tmp/bash_env.ran") })
	hostile := []string{
		"LD_PRELOAD=/nonexistent/evil.so",
		"LD_LIBRARY_PATH=/nonexistent",
		"GODEBUG=x509negativeserial=1",
		"GOTRACEBACK=crash",
		"_LIBCONTAINER_INITPIPE=3",
		"BASH_ENV=" + bashEnv,
		"ENV=" + bashEnv,
		"MALLOC_CHECK_=3",
		"MALLOC_PERTURB_=165",
		"OTHER=dropped",
	}
	env := append(pilotEnv(px, hostile...),
		"GLEXEC_ENV=eJwLycxNVUjOzytJzSsBAB0JBIQ=",
		"GLEXEC_JOB=42",
		"SITE_VAR=kept",
		"CONDOR_INHERIT=kept too",
		"X509_USER_PROXY="+px,
		"USER=pilot",
		"LOGNAME=pilot",
	)
	r := runAs(pilot, env, "", world.Bin, world.Sh, "-c", `env; if [ -x /bin/bash ]; then /bin/bash -c true; fi`)
	expect(t, r, logs, want{code: 0})
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		k, v, _ := strings.Cut(l, "=")
		got[k] = v
	}
	for _, kv := range hostile {
		k, _, _ := strings.Cut(kv, "=")
		if v, ok := got[k]; ok {
			t.Errorf("%s reached the payload: %q", k, v)
		}
	}
	for k, v := range map[string]string{
		"GLEXEC_ENV":         "eJwLycxNVUjOzytJzSsBAB0JBIQ=",
		"GLEXEC_JOB":         "42",
		"GLEXEC_CLIENT_CERT": px,
		"SITE_VAR":           "kept",
		"CONDOR_INHERIT":     "kept too",
		"PATH":               "/usr/local/bin:/usr/bin:/bin",
		"HOME":               alice.Home,
		"USER":               "alice",
		"LOGNAME":            "alice",
	} {
		if got[k] != v {
			t.Errorf("payload %s=%q, want %q", k, got[k], v)
		}
	}
	if p := got["X509_USER_PROXY"]; !strings.HasPrefix(p, fmt.Sprintf("/tmp/x509up_u%d.glexec.", alice.UID)) {
		t.Errorf("payload X509_USER_PROXY=%q, want the staged proxy", p)
	}
	// No effect either: the loader never saw LD_PRELOAD, no shell sourced
	// BASH_ENV (TestGodebug covers glexec's own runtime).
	for _, s := range []string{"ld.so", "evil.so"} {
		if strings.Contains(r.Stderr, s) {
			t.Errorf("stderr shows %q took effect: %s", s, r.Stderr)
		}
	}
	if _, err := os.Stat("/tmp/bash_env.ran"); err == nil {
		t.Errorf("a shell sourced the caller's BASH_ENV")
	}
}

// TestGodebug: the Go runtime reads GODEBUG before glexec's main can
// clear it, and keeps some settings for good (schedtrace makes a root
// process print scheduler state on the payload's stderr as long as it
// lingers). glexec must start afresh without it: at most the first image's
// first trace line may show.
func TestGodebug(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	logs := listenSyslog(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	r := runAs(pilot, pilotEnv(px, "GODEBUG=schedtrace=200"), "", world.Bin, world.Sh, "-c", "sleep 2")
	expect(t, r, logs, want{code: 0, stdout: str("")})
	if n := strings.Count(r.Stderr, "SCHED "); n > 1 {
		t.Errorf("GODEBUG=schedtrace took effect in glexec: %d trace lines:\n%s", n, r.Stderr)
	}
}

// TestExitCodes: the payload's status passes through, except where it
// would read as one of glexec's own; a command glexec cannot run is the
// caller's error (201), named.
func TestExitCodes(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	notExec := placeFile(t, "/tmp/not-executable", []byte("#!/bin/sh\nexit 0\n"), 0, 0, 0o644)
	// Executable by mode, but no format the kernel knows: execve fails.
	garbage := placeFile(t, "/tmp/garbage", []byte("\x00\x01\x02 not a program\n"), 0, 0, 0o755)
	link := "/tmp/sh-link"
	if err := os.Symlink(world.Sh, link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(link) })
	for _, tc := range []struct {
		name string
		argv []string
		want want
	}{
		{"exit 0", []string{world.Sh, "-c", "exit 0"}, want{code: 0, logs: []string{
			successLine(pilot, alice, alice.Home, world.Sh, "-c", "exit 0"),
		}, logParts: []string{"ended (exit 0)"}}},
		{"exit 1", []string{world.Sh, "-c", "exit 1"}, want{code: 1, logParts: []string{"ended (exit 1)"}}},
		{"exit 202 collides with glexec's codes", []string{world.Sh, "-c", "exit 202"}, want{code: 204, logParts: []string{"ended (exit 202)"}}},
		{"killed by SIGKILL", []string{world.Sh, "-c", "kill -9 $$"}, want{code: 137, logParts: []string{"ended (killed by SIGKILL)"}}},
		{"command missing", []string{"/nonexistent/payload"}, want{code: 201,
			stderr: []string{"[gLExec]:  /nonexistent/payload: the command does not exist"},
			logs:   []string{"/nonexistent/payload: the command does not exist"}}},
		{"command not executable", []string{notExec}, want{code: 201,
			stderr: []string{"[gLExec]:  " + notExec + ": the command is not executable by the target account"},
			logs:   []string{notExec + ": the command is not executable by the target account"}}},
		{"exec fails", []string{garbage}, want{code: 126,
			stderr: []string{"[gLExec]:  cannot execute " + garbage + ": exec format error"},
			logs:   []string{"cannot execute " + garbage + ": exec format error"}}},
		{"command is a symbolic link", []string{link, "-c", "exit 0"}, want{code: 201,
			stderr: []string{"[gLExec]:  " + link + ": the command is a symbolic link"},
			logs:   []string{link + ": the command is a symbolic link"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := listenSyslog(t)
			px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
			r := runAs(pilot, pilotEnv(px), "", append([]string{world.Bin}, tc.argv...)...)
			tc.want.stdout = str("")
			expect(t, r, logs, tc.want)
			assertNoLeases(t)
		})
	}
}

// TestLinger: a lingering glexec passes SIGTERM and the other job-control
// signals on to the payload; with
// linger = no the payload takes over glexec's process.
func TestLinger(t *testing.T) {
	g := setupGrid(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})

	// The signals pilots and batch systems use to stop or poke a job: each
	// reaches the payload, whose trap records it and exits.
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGQUIT} {
		name := strings.TrimPrefix(strings.ToUpper(unix.SignalName(sig)), "SIG")
		t.Run("SIG"+name+" is forwarded", func(t *testing.T) {
			writeConf(t, g.conf())
			logs := listenSyslog(t)
			ready, marker := "/tmp/linger-ready", "/tmp/linger-trapped"
			t.Cleanup(func() { os.Remove(ready); os.Remove(marker) })
			payload := fmt.Sprintf(`trap 'echo %s > %s; exit 7' %s; : > %s; while :; do sleep 1; done`, name, marker, name, ready)
			run := startAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", payload)
			if !waitFile(ready, 20*time.Second) {
				run.Cmd.Process.Kill()
				t.Fatalf("payload did not start: %+v", run.Wait())
			}
			if err := run.Cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			r := run.Wait()
			expect(t, r, logs, want{code: 7, stdout: str(""), logParts: []string{"ended (exit 7)"}})
			if b, err := os.ReadFile(marker); err != nil || string(b) != name+"\n" {
				t.Errorf("the payload's %s trap did not run: %q %v", name, b, err)
			}
			assertNoLeases(t)
		})
	}

	t.Run("linger = no execs the payload", func(t *testing.T) {
		writeConf(t, strings.Replace(g.conf(), "linger = yes", "linger = no", 1))
		logs := listenSyslog(t)
		run := startAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", `echo $$; id -u`)
		r := run.Wait()
		out := fmt.Sprintf("%d\n%d\n", run.Cmd.Process.Pid, alice.UID)
		expect(t, r, logs, want{code: 0, stdout: &out, logs: []string{
			successLine(pilot, alice, alice.Home, world.Sh, "-c", `echo $$; id -u`),
		}})
		// The tracking lease went with the process to the payload; it is
		// stale now that the payload has ended, and the next lease would
		// reclaim it. Check it names the payload, then clear it for the
		// tests that follow.
		ents, _ := filepath.Glob(filepath.Join(world.StateDir, "tracking", "[0-9]*"))
		if len(ents) != 1 {
			t.Fatalf("tracking leases after linger = no: %q, want the payload's", ents)
		}
		if b, _ := os.ReadFile(ents[0]); !strings.HasPrefix(string(b), fmt.Sprint(run.Cmd.Process.Pid)+" ") {
			t.Errorf("lease %s = %q, want it owned by pid %d", ents[0], b, run.Cmd.Process.Pid)
		}
		os.Remove(ents[0])
	})
}

// TestLoggingOnly: a copy of glexec without the setuid bit (same
// compiled-in paths) maps and logs, then runs the payload as the caller.
func TestLoggingOnly(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	logs := listenSyslog(t)
	bin := filepath.Join(world.Root, "sbin/glexec-logging-only")
	data, err := os.ReadFile(world.Bin)
	if err != nil {
		t.Fatal(err)
	}
	placeFile(t, bin, data, 0, 0, 0o755)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	r := runAs(pilot, pilotEnv(px), "", bin, world.Sh, "-c", "id -u; pwd")
	out := fmt.Sprintf("%d\n%s\n", pilot.UID, pilot.Home)
	expect(t, r, logs, want{code: 0, stdout: &out, logs: []string{
		successLine(pilot, alice, pilot.Home, world.Sh, "-c", "id -u; pwd"),
	}, logParts: []string{`lcmaps: LCMAPS CRED FINAL: DN:"` + aliceDN + `"`}})
	assertNoLeases(t)
}

// TestGlexecID: GLEXEC_ID reaches the log, but a newline in it cannot
// start a forged line.
func TestGlexecID(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	logs := listenSyslog(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	r := runAs(pilot, pilotEnv(px, "GLEXEC_ID=job-42\nglexec[1]: forged success"), "", world.Bin, world.Sh, "-c", "exit 0")
	expect(t, r, logs, want{code: 0, logs: []string{"GLEXEC_ID: job-42?glexec[1]: forged success"}})
	for _, m := range logs.Messages() {
		if strings.Contains(m.Raw, "\n") || strings.HasPrefix(m.Text, "glexec[1]") {
			t.Errorf("forged log line: %q", m.Raw)
		}
	}
}
