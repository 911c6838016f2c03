package privop

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/glexec-ng/glexec/internal/fencetest"
)

// identityFuncs change who the process or a thread is. syscall.Credential
// is listed too: a fork with SysProcAttr.Credential is an identity switch,
// and goes through privop.Credential.
var identityFuncs = func() fencetest.Names {
	set := map[string]bool{}
	for _, n := range []string{"Setuid", "Setgid", "Setreuid", "Setregid", "Setresuid", "Setresgid",
		"Setgroups", "Setfsuid", "Setfsgid", "SetfsuidRetUid", "SetfsgidRetGid", "AllThreadsSyscall",
		"AllThreadsSyscall6", "Credential"} {
		set[n] = true
	}
	return fencetest.Names{"syscall": set, "golang.org/x/sys/unix": set}
}()

// TestOnlyPrivopSwitchesIdentity enforces the closed privileged surface
// (SECURITY.md): no non-test file outside internal/privop changes uids,
// gids or groups.
func TestOnlyPrivopSwitchesIdentity(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)
	root := filepath.Join(dir, "..", "..")
	hits, files, err := fencetest.Walk(root, []string{dir}, identityFuncs)
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("walked only %d files under %s: wrong module root?", files, root)
	}
	for _, h := range hits {
		t.Errorf("%s: only internal/privop may change identities (SECURITY.md)", h)
	}
}
