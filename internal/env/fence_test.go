package env

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/glexec-ng/glexec/internal/fencetest"
)

// envFuncs read or change the process environment.
var envFuncs = fencetest.Names{
	"os": {"Getenv": true, "LookupEnv": true, "Environ": true, "ExpandEnv": true,
		"Setenv": true, "Unsetenv": true, "Clearenv": true},
	"syscall": {"Getenv": true, "Environ": true, "Setenv": true, "Unsetenv": true, "Clearenv": true},
	"golang.org/x/sys/unix": {"Getenv": true, "Environ": true, "Setenv": true,
		"Unsetenv": true, "Clearenv": true},
}

// TestOnlyEnvReadsTheEnvironment enforces the house rule that the process
// environment is read in one place, after hardening: no non-test file
// outside internal/env may touch it.
func TestOnlyEnvReadsTheEnvironment(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	envDir := filepath.Dir(self)
	root := filepath.Join(envDir, "..", "..")
	hits, files, err := fencetest.Walk(root, []string{envDir}, envFuncs)
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("walked only %d files under %s: wrong module root?", files, root)
	}
	for _, h := range hits {
		t.Errorf("%s: only internal/env may read or change the process environment (HACKING.md)", h)
	}
}
