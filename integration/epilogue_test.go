package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// epilogueDir holds the test epilogues: root-owned 0755 below the world's
// root-owned prefix, so that the path is trusted-root.
func epilogueDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(world.Root, "epilogue")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// installEpilogue writes a /bin/sh script as the epilogue and returns its
// path.
func installEpilogue(t *testing.T, dir, body string, uid int, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, "epilogue")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, uid, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(p) })
	return p
}

// outDir is where an epilogue reports what it saw: writable by anyone, and
// not on the epilogue's path.
func outDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(world.Root, "epilogue-out-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// readVars reads "NAME=value" lines.
func readVars(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the epilogue left no report: %v", err)
	}
	vars := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		if _, dup := vars[k]; dup {
			t.Errorf("%s twice in the epilogue's report", k)
		}
		vars[k] = v
	}
	return vars
}

// reporter is an epilogue that writes its GLEXEC_EPILOG_* variables, its
// ids, its stdio and two payload variables to out/report.
func reporter(out string) string {
	return fmt.Sprintf(`stdio="$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2)"
{ env | grep '^GLEXEC_EPILOG_'
  echo "ID=$(id -u):$(id -g):$(id -G)"
  echo "STDIO=$stdio"
  echo "PATH=$PATH"
  echo "PROXY=$X509_USER_PROXY"
} > %s/report.tmp && mv %s/report.tmp %s/report`, out, out, out)
}

func TestEpilogue(t *testing.T) {
	g := setupGrid(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	dir := epilogueDir(t)
	for _, mode := range []string{"sandbox=no", "sandbox=yes"} {
		conf := func(extra ...string) string {
			if mode == "sandbox=yes" {
				// sandboxConf appends [sandbox]: [glexec] lines go first.
				return strings.Replace(g.sandboxConf(), "sandbox = yes", "sandbox = yes\n"+strings.Join(extra, "\n"), 1)
			}
			return g.conf(extra...)
		}
		t.Run(mode, func(t *testing.T) {
			t.Run("environment", func(t *testing.T) {
				out := outDir(t)
				epi := installEpilogue(t, dir, reporter(out), 0, 0o755)
				writeConf(t, conf("epilogue = "+epi))
				logs := listenSyslog(t)
				payload := `echo $$ > ` + out + `/payload-pid; exit 7`
				run := startAs(pilot, pilotEnv(px, "GLEXEC_EPILOG_TARGET_RC=99", "GLEXEC_EPILOG_EVIL=1"), "", world.Bin, world.Sh, "-c", payload)
				r := run.Wait()
				if r.Code != 7 {
					t.Fatalf("exit %d, want the payload's 7\nstderr: %s\nlog: %q", r.Code, r.Stderr, logs.Texts())
				}
				v := readVars(t, filepath.Join(out, "report"))
				pgid := unix.Getpgrp()
				sid, _ := unix.Getsid(0)
				want := map[string]string{
					"GLEXEC_EPILOG_ARGV0":        world.Sh,
					"GLEXEC_EPILOG_ARGV1":        "-c",
					"GLEXEC_EPILOG_ARGV2":        payload,
					"GLEXEC_EPILOG_GLEXEC_USER":  "pilot",
					"GLEXEC_EPILOG_GLEXEC_GROUP": "pilot",
					"GLEXEC_EPILOG_GLEXEC_UID":   fmt.Sprint(pilot.UID),
					"GLEXEC_EPILOG_GLEXEC_GID":   fmt.Sprint(pilot.GID),
					"GLEXEC_EPILOG_GLEXEC_SGIDS": "",
					"GLEXEC_EPILOG_TARGET_USER":  "alice",
					"GLEXEC_EPILOG_TARGET_GROUP": "alice",
					"GLEXEC_EPILOG_TARGET_UID":   fmt.Sprint(alice.UID),
					"GLEXEC_EPILOG_TARGET_GID":   fmt.Sprint(alice.GID),
					"GLEXEC_EPILOG_GLEXEC_PID":   fmt.Sprint(run.Cmd.Process.Pid),
					"GLEXEC_EPILOG_GLEXEC_PGID":  fmt.Sprint(pgid),
					"GLEXEC_EPILOG_GLEXEC_SID":   fmt.Sprint(sid),
					"GLEXEC_EPILOG_TARGET_RC":    "7",
					"ID":                         "0:0:0",
					"STDIO":                      "/dev/null /dev/null /dev/null",
					"PATH":                       "/usr/local/bin:/usr/bin:/bin",
				}
				if mode == "sandbox=no" {
					b, _ := os.ReadFile(filepath.Join(out, "payload-pid"))
					want["GLEXEC_EPILOG_TARGET_PID"] = strings.TrimSpace(string(b))
					want["GLEXEC_EPILOG_TARGET_PGID"] = fmt.Sprint(pgid)
				}
				for k, w := range want {
					if v[k] != w {
						t.Errorf("%s = %q, want %q", k, v[k], w)
					}
				}
				if s := v["GLEXEC_EPILOG_TARGET_SGIDS"]; !strings.HasPrefix(s, fmt.Sprintf("%d:650", alice.GID)) {
					t.Errorf("GLEXEC_EPILOG_TARGET_SGIDS = %q, want alice's gid and a tracking gid", s)
				}
				if pid, err := strconv.Atoi(v["GLEXEC_EPILOG_TARGET_PID"]); err != nil || pid == run.Cmd.Process.Pid {
					t.Errorf("GLEXEC_EPILOG_TARGET_PID = %q", v["GLEXEC_EPILOG_TARGET_PID"])
				}
				if _, ok := v["GLEXEC_EPILOG_EVIL"]; ok {
					t.Error("the caller's GLEXEC_EPILOG_EVIL reached the epilogue")
				}
				if !strings.HasPrefix(v["PROXY"], "/") {
					t.Errorf("X509_USER_PROXY = %q: the epilogue gets the payload's environment", v["PROXY"])
				}
				if _, ok := logs.WaitFor("epilogue "+epi+" succeeded", time.Second); !ok {
					t.Errorf("no success line in %q", logs.Texts())
				}
				assertNoLeases(t)
			})

			t.Run("epilogue_user and epilogue_group", func(t *testing.T) {
				out := outDir(t)
				// Owned by epilogue_user: trusted as well.
				epi := installEpilogue(t, dir, reporter(out), bob.UID, 0o755)
				writeConf(t, conf("epilogue = "+epi, "epilogue_user = bob", "epilogue_group = dteam"))
				r := runAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", "exit 0")
				if r.Code != 0 {
					t.Fatalf("exit %d\nstderr: %s", r.Code, r.Stderr)
				}
				v := readVars(t, filepath.Join(out, "report"))
				if w := fmt.Sprintf("%d:%d:%d", bob.UID, poolGID, poolGID); v["ID"] != w {
					t.Errorf("epilogue ids %q, want %q", v["ID"], w)
				}
				if v["STDIO"] != "/dev/null /dev/null /dev/null" || v["GLEXEC_EPILOG_TARGET_RC"] != "0" {
					t.Errorf("stdio %q, rc %q", v["STDIO"], v["GLEXEC_EPILOG_TARGET_RC"])
				}
			})

			for _, c := range []struct {
				name string
				body string
				code int
			}{
				{"epilogue exits 1", "exit 1", 202},
				{"epilogue exits 203", "exit 203", 204},
				{"epilogue killed after epilogue_timeout", "exec sleep 60", 202},
			} {
				t.Run(c.name, func(t *testing.T) {
					epi := installEpilogue(t, dir, c.body, 0, 0o755)
					writeConf(t, conf("epilogue = "+epi, "epilogue_timeout = 2"))
					logs := listenSyslog(t)
					start := time.Now()
					r := runAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", "echo payload-ran")
					if r.Code != c.code || r.Stdout != "payload-ran\n" {
						t.Fatalf("exit %d, stdout %q, want %d after the payload\nstderr: %s\nlog: %q", r.Code, r.Stdout, c.code, r.Stderr, logs.Texts())
					}
					if d := time.Since(start); d > 30*time.Second {
						t.Errorf("glexec took %s", d)
					}
					if _, ok := logs.WaitFor("epilogue: ", time.Second); !ok {
						t.Errorf("no epilogue error in %q", logs.Texts())
					}
					assertNoLeases(t)
				})
			}

			t.Run("untrusted epilogue is not run", func(t *testing.T) {
				out := outDir(t)
				open := filepath.Join(dir, "open")
				if err := os.Mkdir(open, 0o777); err != nil {
					t.Fatal(err)
				}
				os.Chmod(open, 0o777)
				defer os.RemoveAll(open)
				mark := "touch " + out + "/ran"
				for _, e := range []struct{ name, path string }{
					{"group-writable", installEpilogue(t, dir, mark, 0, 0o775)},
					{"in a world-writable directory", installEpilogue(t, open, mark, 0, 0o755)},
				} {
					if e.name == "group-writable" {
						os.Chown(e.path, 0, pilot.GID)
					}
					writeConf(t, conf("epilogue = "+e.path))
					r := runAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", "exit 0")
					if r.Code != 202 || !strings.Contains(r.Stderr, "epilogue") {
						t.Errorf("%s: exit %d, want 202\nstderr: %s", e.name, r.Code, r.Stderr)
					}
					if _, err := os.Stat(filepath.Join(out, "ran")); err == nil {
						t.Errorf("%s: the epilogue ran", e.name)
					}
				}
			})

			t.Run("the pilot cannot signal the lingering glexec", func(t *testing.T) {
				out := outDir(t)
				epi := installEpilogue(t, dir, "touch "+out+"/epilogue-ran", 0, 0o755)
				writeConf(t, conf("epilogue = "+epi))
				run := startAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", "sleep 4; exit 5")
				if !waitRootOnly(run.Cmd.Process.Pid, 30*time.Second) {
					run.Cmd.Process.Kill()
					t.Fatalf("glexec never dropped the pilot's real uid: %+v", run.Wait())
				}
				pid := fmt.Sprint(run.Cmd.Process.Pid)
				for _, sig := range []string{"TERM", "KILL"} {
					k := runAs(pilot, []string{"PATH=/usr/bin:/bin"}, "", world.Sh, "-c", "kill -"+sig+" "+pid)
					if k.Code == 0 {
						t.Errorf("the pilot's kill -%s of glexec succeeded", sig)
					}
				}
				r := run.Wait()
				if r.Code != 5 {
					t.Errorf("exit %d, want the payload's 5\nstderr: %s", r.Code, r.Stderr)
				}
				if _, err := os.Stat(filepath.Join(out, "epilogue-ran")); err != nil {
					t.Errorf("the epilogue did not run: %v", err)
				}
			})
		})
	}
}

// waitRootOnly waits until pid's real, effective, saved and file-system
// uids are all 0: the lingering glexec the caller can no longer signal.
func waitRootOnly(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return false
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "Uid:") && strings.Join(strings.Fields(l)[1:], " ") == "0 0 0 0" {
				return true
			}
		}
	}
	return false
}
