package integration

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/logging"
	"github.com/glexec-ng/glexec/internal/logging/logtest"
)

// listenSyslog puts a fresh syslog listener at /dev/log for one test,
// writable by everyone as a syslog daemon's socket is (a glexec without
// the setuid bit logs as its caller).
func listenSyslog(t testing.TB) *logtest.Listener {
	t.Helper()
	os.Remove("/dev/log")
	l := logtest.Listen(t, "/dev/log")
	if err := os.Chmod("/dev/log", 0o666); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestWorld checks the harness itself: accounts resolve through the
// bind-mounted copies, /dev/log reaches the listener, and the installed
// binary is setuid root and runs for an unprivileged caller.
func TestWorld(t *testing.T) {
	u, err := accounts.System.LookupUser("pilot")
	if err != nil || u.UID != pilot.UID {
		t.Fatalf("pilot account: %+v, %v", u, err)
	}
	if g, err := accounts.System.LookupGroup("glexec49"); err != nil || g.GID != trackingFirst+49 {
		t.Fatalf("tracking group glexec49: %+v, %v", g, err)
	}
	logs := listenSyslog(t)
	l, err := logging.New(logging.Options{Destination: "syslog", Level: 3})
	if err != nil {
		t.Fatal(err)
	}
	l.Noticef("harness check")
	l.Close()
	if _, ok := logs.WaitFor("harness check", 2*time.Second); !ok {
		t.Fatalf("syslog listener got %q", logs.Texts())
	}
	fi, err := os.Stat(world.Bin)
	if err != nil || fi.Mode()&os.ModeSetuid == 0 {
		t.Fatalf("glexec binary %s: %v %v", world.Bin, fi.Mode(), err)
	}
	r := runAs(pilot, nil, "", world.Bin, "-v")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "glexec itest") {
		t.Fatalf("glexec -v as pilot: %+v", r)
	}
	r = runAs(pilot, nil, "", world.Bin, "-V")
	if r.Code != 201 {
		t.Fatalf("glexec -V as pilot: exit %d, want 201 (root only)", r.Code)
	}
}
