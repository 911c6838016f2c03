package epilogue

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/privop"
)

func TestEnv(t *testing.T) {
	base := []string{"PATH=/bin", "GLEXEC_EPILOG_TARGET_RC=0", "GLEXEC_ENV=x"}
	got := Env(base, Info{
		Argv:      []string{"/bin/true", "a b"},
		Glexec:    Who{User: "pilot", Group: "pilot", UID: 10, GID: 11, SGIDs: []int{11, 12}},
		Target:    Who{User: "alice", Group: "dteam", UID: 20, GID: 21},
		GlexecPID: 1, GlexecSID: 2, GlexecPGID: 3, TargetPID: 4, TargetPGID: 5, TargetRC: 7,
	})
	want := []string{"PATH=/bin", "GLEXEC_ENV=x",
		"GLEXEC_EPILOG_ARGV0=/bin/true", "GLEXEC_EPILOG_ARGV1=a b",
		"GLEXEC_EPILOG_GLEXEC_USER=pilot", "GLEXEC_EPILOG_GLEXEC_GROUP=pilot", "GLEXEC_EPILOG_GLEXEC_UID=10",
		"GLEXEC_EPILOG_GLEXEC_GID=11", "GLEXEC_EPILOG_GLEXEC_SGIDS=11:12",
		"GLEXEC_EPILOG_TARGET_USER=alice", "GLEXEC_EPILOG_TARGET_GROUP=dteam", "GLEXEC_EPILOG_TARGET_UID=20",
		"GLEXEC_EPILOG_TARGET_GID=21", "GLEXEC_EPILOG_TARGET_SGIDS=",
		"GLEXEC_EPILOG_GLEXEC_PID=1", "GLEXEC_EPILOG_GLEXEC_SID=2", "GLEXEC_EPILOG_GLEXEC_PGID=3",
		"GLEXEC_EPILOG_TARGET_PID=4", "GLEXEC_EPILOG_TARGET_PGID=5", "GLEXEC_EPILOG_TARGET_RC=7"}
	if !slices.Equal(got, want) {
		t.Errorf("Env:\n got %q\nwant %q", got, want)
	}
}

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		reason failure.Reason
		want   int
	}{{ReasonGlexecCode, 204}, {ReasonFailed, 202}, {ReasonTimeout, 202}, {ReasonUntrusted, 202}, {ReasonStart, 202}} {
		if got := ExitCode(failure.New(failure.System, c.reason, "x", "y")); got != c.want {
			t.Errorf("%s: ExitCode = %d, want %d", c.reason, got, c.want)
		}
	}
}

// trustedDir is a root-owned 0755 directory whose every ancestor is
// trusted: t.TempDir() lives below the world-writable /tmp.
func trustedDir(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("requires root: the epilogue must be root-owned")
	}
	dir, err := os.MkdirTemp("/run", "epilogue-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	return dir
}

func script(t *testing.T, dir, name, body string, mode os.FileMode) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode)
	return p
}

func TestCheckTrusted(t *testing.T) {
	dir := trustedDir(t)
	good := script(t, dir, "good", "", 0o755)
	sub := filepath.Join(dir, "open")
	os.Mkdir(sub, 0o777)
	os.Chmod(sub, 0o777)
	inOpen := script(t, sub, "e", "", 0o755)
	os.Symlink(good, filepath.Join(dir, "link"))
	grp := script(t, dir, "grp", "", 0o775)
	os.Chown(grp, 0, 4242)
	owned := script(t, dir, "owned", "", 0o755)
	os.Chown(owned, 4243, 0)
	for _, c := range []struct {
		name  string
		path  string
		trust Trust
		ok    bool
	}{
		{"root 0755", good, Trust{GID: -1}, true},
		{"world-writable", script(t, dir, "world", "", 0o757), Trust{GID: -1}, false},
		{"group-writable, foreign group", grp, Trust{GID: -1}, false},
		{"group-writable, epilogue_group", grp, Trust{GID: 4242}, true},
		{"owned by another user", owned, Trust{GID: -1}, false},
		{"owned by epilogue_user", owned, Trust{UID: 4243, GID: -1}, true},
		{"in a world-writable directory", inOpen, Trust{GID: -1}, false},
		{"through a symbolic link", filepath.Join(dir, "link"), Trust{GID: -1}, false},
		{"a directory", dir, Trust{GID: -1}, false},
		{"missing", filepath.Join(dir, "none"), Trust{GID: -1}, false},
		{"relative", "run/x", Trust{GID: -1}, false},
		{"unclean", dir + "/../" + filepath.Base(dir) + "/good", Trust{GID: -1}, false},
		{"too deep", "/" + strings.Repeat("a/", maxComponents) + "x", Trust{GID: -1}, false},
	} {
		err := CheckTrusted(c.path, c.trust)
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && failure.ReasonOf(err) != ReasonUntrusted {
			t.Errorf("%s: got %v, want %s", c.name, err, ReasonUntrusted)
		}
	}
}

func TestRun(t *testing.T) {
	dir := trustedDir(t)
	nobody := privop.Identity{UID: 65534, GID: 65534, Groups: []int{65534}}
	for _, c := range []struct {
		name   string
		body   string
		as     privop.Identity
		reason failure.Reason // "" = success
	}{
		{"success", "exit 0", privop.Root, ""},
		{"fails", "exit 1", privop.Root, ReasonFailed},
		{"glexec code", "exit 203", privop.Root, ReasonGlexecCode},
		{"killed", "kill -9 $$", privop.Root, ReasonFailed},
		{"hangs", "trap '' TERM; sleep 30", privop.Root, ReasonTimeout},
		{"as nobody", "test \"$(id -u):$(id -g)\" = 65534:65534", nobody, ""},
		{"stdio on /dev/null", "test \"$(readlink /proc/$$/fd/0)$(readlink /proc/$$/fd/1)$(readlink /proc/$$/fd/2)\" = /dev/null/dev/null/dev/null", privop.Root, ""},
		{"environment", "test \"$GLEXEC_EPILOG_TARGET_RC\" = 9 && test \"$FOO\" = bar", privop.Root, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := script(t, dir, "e", c.body, 0o755)
			start := time.Now()
			err := Run(Spec{Path: p, As: c.as, Trust: Trust{GID: -1}, Timeout: time.Second, Grace: 500 * time.Millisecond,
				Env: Env([]string{"FOO=bar", "PATH=/usr/bin:/bin"}, Info{TargetRC: 9})})
			if got := failure.ReasonOf(err); got != c.reason {
				t.Errorf("Run: %v, want reason %q", err, c.reason)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Run took %s", d)
			}
		})
	}
}

func TestRunUntrustedNotRun(t *testing.T) {
	dir := trustedDir(t)
	mark := filepath.Join(dir, "ran")
	p := script(t, dir, "e", "touch "+mark, 0o777)
	err := Run(Spec{Path: p, As: privop.Root, Trust: Trust{GID: -1}, Timeout: time.Second})
	if failure.ReasonOf(err) != ReasonUntrusted {
		t.Fatalf("Run: %v, want %s", err, ReasonUntrusted)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Error("an untrusted epilogue ran")
	}
}
