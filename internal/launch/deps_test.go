package launch

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The setuid front end imports this package. runc's nsenter constructor
// obeys _LIBCONTAINER_INITPIPE before main runs, so nothing it imports may
// pull in libcontainer or any other opencontainers/containerd code (DESIGN
// "Privilege model"). The fence covers cmd/glexec once it exists.
func TestDependencyFence(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		t.Fatalf("go toolchain not found at %s: %v", goBin, err)
	}
	pkgs := []string{"github.com/glexec-ng/glexec/internal/launch"}
	if _, err := os.Stat("../../cmd/glexec"); err == nil {
		pkgs = append(pkgs, "github.com/glexec-ng/glexec/cmd/glexec")
	}
	for _, pkg := range pkgs {
		cmd := exec.Command(goBin, "list", "-deps", pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, bad := range []string{"github.com/opencontainers/", "github.com/containerd/"} {
				if strings.HasPrefix(dep, bad) {
					t.Errorf("%s depends on %s: the setuid front end must not link libcontainer or cgroup code", pkg, dep)
				}
			}
			// Every glexec call starts all it links: net/http alone was
			// 1-1.5 ms of a 12 ms glexec --map (BenchmarkMapProcess).
			if dep == "net/http" {
				t.Errorf("%s depends on net/http: keep it out of the front end (internal/authz/xacml/post.go)", pkg)
			}
		}
	}
}
