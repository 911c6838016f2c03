package env

import (
	"encoding/json"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// hardenReport is what the child process tells the parent.
type hardenReport struct {
	Err         string
	Environ     []string
	ClientCert  Var
	Dropped     int
	Umask       int
	Stdin       string
	CoreCur     uint64
	FsizeCur    uint64
	FsizeMax    uint64
	CoreAfter   uint64
	FsizeAfter  uint64
	CoreOrigCur uint64
	// Inside WithCallerLimits, and after it.
	CoreWith, FsizeWith   uint64
	CoreAgain, FsizeAgain uint64
}

const childVar = "GLEXEC_TEST_HARDEN_CHILD"

// TestHardenChild is the child half of TestHarden; it does nothing unless
// run by it.
func TestHardenChild(t *testing.T) {
	if os.Getenv(childVar) != "1" {
		return
	}
	var r hardenReport
	// Make the caller's limits visible: core dumps allowed, a small file
	// size soft limit, a permissive umask.
	var core, fsize unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_CORE, &core)
	core.Cur = core.Max
	unix.Setrlimit(unix.RLIMIT_CORE, &core)
	r.CoreOrigCur = core.Cur
	unix.Getrlimit(unix.RLIMIT_FSIZE, &fsize)
	fsize.Cur = 4096
	unix.Setrlimit(unix.RLIMIT_FSIZE, &fsize)
	unix.Umask(0)

	s, err := Harden()
	if err != nil {
		r.Err = err.Error()
	}
	r.Environ = os.Environ()
	r.ClientCert = s.ClientCert()
	r.Dropped = s.Dropped
	r.Umask = unix.Umask(0o22)
	r.Stdin, _ = os.Readlink("/proc/self/fd/0")
	unix.Getrlimit(unix.RLIMIT_CORE, &core)
	unix.Getrlimit(unix.RLIMIT_FSIZE, &fsize)
	r.CoreCur, r.FsizeCur, r.FsizeMax = core.Cur, fsize.Cur, fsize.Max
	if err := s.WithCallerLimits(func() error {
		unix.Getrlimit(unix.RLIMIT_CORE, &core)
		unix.Getrlimit(unix.RLIMIT_FSIZE, &fsize)
		r.CoreWith, r.FsizeWith = core.Cur, fsize.Cur
		return nil
	}); err != nil {
		r.Err += err.Error()
	}
	unix.Getrlimit(unix.RLIMIT_CORE, &core)
	unix.Getrlimit(unix.RLIMIT_FSIZE, &fsize)
	r.CoreAgain, r.FsizeAgain = core.Cur, fsize.Cur
	if err := s.RestoreLimits(); err != nil {
		r.Err += err.Error()
	}
	unix.Getrlimit(unix.RLIMIT_CORE, &core)
	unix.Getrlimit(unix.RLIMIT_FSIZE, &fsize)
	r.CoreAfter, r.FsizeAfter = core.Cur, fsize.Cur
	json.NewEncoder(os.NewFile(3, "report")).Encode(&r)
}

// TestHarden runs Harden in a child started with stdin closed, a hostile
// environment, a zero umask and odd resource limits.
func TestHarden(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	closed := ^uintptr(0) // ForkExec closes a descriptor given as -1
	pid, err := syscall.ForkExec(exe, []string{exe, "-test.run=^TestHardenChild$"}, &syscall.ProcAttr{
		Env: []string{childVar + "=1", "GLEXEC_CLIENT_CERT=/tmp/p", "GLEXEC_CLIENT_CERT=/tmp/q",
			"GODEBUG=x509negativeserial=1", "GOGC=off", "LD_PRELOAD=/nonexistent.so", "1BAD=1"},
		Files: []uintptr{closed, os.Stderr.Fd(), os.Stderr.Fd(), wr.Fd()},
	})
	wr.Close()
	if err != nil {
		t.Fatal(err)
	}
	var r hardenReport
	decErr := json.NewDecoder(rd).Decode(&r)
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	if decErr != nil {
		t.Fatalf("child (%v) sent no report: %v", ws, decErr)
	}
	if r.Err != "" {
		t.Errorf("Harden: %s", r.Err)
	}
	if len(r.Environ) != 0 {
		t.Errorf("environment after Harden = %q, want empty", r.Environ)
	}
	if r.ClientCert.Value != "/tmp/p" {
		t.Errorf("snapshot ClientCert = %+v", r.ClientCert)
	}
	// The Go runtime already drops later duplicates (keeping the first,
	// as Capture would), so only the invalid name is left to drop.
	if r.Dropped != 1 {
		t.Errorf("Dropped = %d, want 1 (the invalid name)", r.Dropped)
	}
	if r.Umask != 0o22 {
		t.Errorf("umask = %#o, want 022", r.Umask)
	}
	if r.Stdin != "/dev/null" {
		t.Errorf("fd 0 = %q, want /dev/null", r.Stdin)
	}
	if r.CoreCur != 0 {
		t.Errorf("RLIMIT_CORE soft = %d, want 0", r.CoreCur)
	}
	if r.FsizeCur != r.FsizeMax {
		t.Errorf("RLIMIT_FSIZE soft = %d, want the hard limit %d", r.FsizeCur, r.FsizeMax)
	}
	if r.CoreWith != r.CoreOrigCur || r.FsizeWith != 4096 {
		t.Errorf("inside WithCallerLimits core=%d fsize=%d, want %d and 4096", r.CoreWith, r.FsizeWith, r.CoreOrigCur)
	}
	if r.CoreAgain != 0 || r.FsizeAgain != r.FsizeMax {
		t.Errorf("after WithCallerLimits core=%d fsize=%d, want 0 and %d again", r.CoreAgain, r.FsizeAgain, r.FsizeMax)
	}
	if r.CoreAfter != r.CoreOrigCur || r.FsizeAfter != 4096 {
		t.Errorf("after RestoreLimits core=%d fsize=%d, want %d and 4096", r.CoreAfter, r.FsizeAfter, r.CoreOrigCur)
	}
}

// TestOpenStdioNoop checks the common case: all three open, nothing to do.
func TestOpenStdioNoop(t *testing.T) {
	if err := openStdio(); err != nil {
		t.Fatal(err)
	}
}

// TestPayloadEnvFromExec proves a payload started with PayloadEnv sees
// neither the loader nor the shell variables: bash with BASH_ENV would
// print its marker otherwise.
func TestPayloadEnvFromExec(t *testing.T) {
	sh, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash not found: install the Debian package bash")
	}
	rc := t.TempDir() + "/rc"
	if err := os.WriteFile(rc, []byte("echo INJECTED\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Capture([]string{"BASH_ENV=" + rc, "ENV=" + rc, "GLEXEC_X=1"})
	cmd := exec.Command(sh, "-c", `echo "$GLEXEC_X:$PATH"`)
	cmd.Env = PayloadEnv(s, []string{"BASH_ENV", "ENV"}, Account{Name: "u", Home: "/"}, "")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "1:"+PayloadPath+"\n"; got != want {
		t.Errorf("payload printed %q, want %q", got, want)
	}
}
