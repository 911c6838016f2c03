package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// helperBin is glexec-sandbox built for the tests, the way it ships
// (static, cgo, netgo/osusergo), in a directory of its own: libcontainer
// seals the binary with an overlayfs whose lower layer is that directory,
// which must not overlap the state directory (lab P9).
var helperBin string

// helperEnv names a prebuilt glexec-sandbox to test instead of building one.
const helperEnv = "GLEXEC_SANDBOX_HELPER"

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() != 0 {
			return m.Run() // the root tests skip themselves
		}
		// A VM without a Go toolchain passes a prebuilt helper.
		if p := os.Getenv(helperEnv); p != "" {
			helperBin = p
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "glexec-sandbox-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		os.Chmod(dir, 0o755)
		helperBin = filepath.Join(dir, "glexec-sandbox")
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		cmd := exec.Command(goBin, "build", "-tags", "netgo,osusergo", "-ldflags", "-s -w -extldflags -static",
			"-o", helperBin, "github.com/glexec-ng/glexec/cmd/glexec-sandbox")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build glexec-sandbox (needs gcc and the static glibc of libc6-dev): %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}
