package integration

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// nsMarker tells the re-executed test binary that it already runs in its
// private mount namespace.
const nsMarker = "GLEXEC_ITEST_IN_NAMESPACE"

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "integration: requires root (the suite installs a setuid binary and test accounts in a private mount namespace); run 'make test' as root")
		os.Exit(1)
	}
	if os.Getenv(nsMarker) == "" {
		os.Exit(reexecInNamespace())
	}
	w, err := buildWorld()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: setting up the test world:", err)
		os.Exit(1)
	}
	world = w
	code := m.Run()
	if err := w.teardown(); err != nil {
		fmt.Fprintln(os.Stderr, "integration: tearing down the test world:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// reexecInNamespace runs this test binary again with the same arguments
// in a new mount namespace. Go cannot unshare a mount namespace for a
// whole running process (threads already exist), so a child does it.
func reexecInNamespace() int {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Env = append(os.Environ(), nsMarker+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "integration: re-exec in a mount namespace:", err)
		return 1
	}
	return 0
}
