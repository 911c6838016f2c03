package diagnose

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/glexec-ng/glexec/internal/config"
)

// hostState is a state for the sandbox checks over fake /proc and /sys
// trees; files maps paths below the temporary root to contents.
func hostState(t *testing.T, files map[string]string, sc func(*config.SandboxConf)) *state {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.File = "/etc/glexec.conf"
	if sc != nil {
		sc(&cfg.SandboxConf)
	}
	return &state{in: &Input{Privileged: true, Root: true, Proc: filepath.Join(root, "proc"), Sys: filepath.Join(root, "sys")}, cfg: cfg}
}

// TestHostChecks runs the user-namespace, overlay and cgroup checks over
// fake kernel interfaces (the integration suite makes the same faults on
// the real ones).
func TestHostChecks(t *testing.T) {
	fs := "nodev\tproc\nnodev\toverlay\n"
	tests := []struct {
		name   string
		run    func(*state)
		files  map[string]string
		sc     func(*config.SandboxConf)
		status Status
		code   string
	}{
		{"userns enabled", checkUserns, map[string]string{"proc/sys/user/max_user_namespaces": "100\n"}, nil, OK, ""},
		{"userns disabled", checkUserns, map[string]string{"proc/sys/user/max_user_namespaces": "0\n"}, nil, Fail, "userns-disabled"},
		{"unprivileged clone off", checkUserns, map[string]string{"proc/sys/kernel/unprivileged_userns_clone": "0\n"}, nil, Warn, "userns-unprivileged-disabled"},
		{"unprivileged clone off, no nesting", checkUserns, map[string]string{"proc/sys/kernel/unprivileged_userns_clone": "0\n"},
			func(sc *config.SandboxConf) { sc.NestedUserns = false }, OK, ""},
		{"apparmor restricts", checkUserns, map[string]string{"proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n"}, nil, Warn, "userns-apparmor-restricted"},
		{"apparmor allows", checkUserns, map[string]string{"proc/sys/kernel/apparmor_restrict_unprivileged_userns": "0\n"}, nil, OK, ""},
		{"overlay listed", checkOverlay, map[string]string{"proc/filesystems": fs}, nil, OK, ""},
		{"overlay module", checkOverlay, map[string]string{"proc/filesystems": "nodev\tproc\n", "sys/module/overlay/refcnt": "0\n"}, nil, OK, ""},
		{"overlay missing", checkOverlay, map[string]string{"proc/filesystems": "nodev\tproc\n"}, nil, Warn, "overlay-missing"},
		{"cgroup v1 refused", checkCgroup, map[string]string{"sys/fs/cgroup/cpu/tasks": ""}, nil, Fail, "cgroup-v2-missing"},
		{"cgroup private mount missing", checkCgroup, map[string]string{"sys/fs/cgroup/cpu/tasks": ""},
			func(sc *config.SandboxConf) { sc.CgroupHybrid = config.HybridPrivate }, Fail, "cgroup-v2-missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := hostState(t, tc.files, tc.sc)
			s.check = "x"
			tc.run(s)
			if len(s.out) != 1 {
				t.Fatalf("%d results: %+v", len(s.out), s.out)
			}
			res := s.out[0]
			if res.Status != tc.status || res.Code != tc.code {
				t.Errorf("got %s", res.Line())
			}
			if res.Status == Fail && res.Exit != 202 {
				t.Errorf("exit %d, want 202", res.Exit)
			}
			if res.Status != OK && res.Fix == "" {
				t.Errorf("no fix: %s", res.Line())
			}
		})
	}
}

// TestSandboxChecksOff: without the sandbox (or without root) none of the
// host checks runs.
func TestSandboxChecksOff(t *testing.T) {
	s := hostState(t, map[string]string{"proc/sys/user/max_user_namespaces": "0\n"}, nil)
	s.cfg.Sandbox = false
	for _, f := range []func(*state){checkHelper, checkCgroup, checkUserns, checkOverlay} {
		f(s)
	}
	if len(s.out) != 0 {
		t.Errorf("sandbox checks ran with sandbox = no: %+v", s.out)
	}
}

func TestOwnCgroup(t *testing.T) {
	s := hostState(t, map[string]string{"proc/self/cgroup": "12:pids:/x\n0::/system.slice/condor.service\n"}, nil)
	if got := ownCgroup(s.in.proc()); got != "/system.slice/condor.service" {
		t.Errorf("ownCgroup = %q", got)
	}
	if got := ownCgroup(t.TempDir()); got != "/" {
		t.Errorf("without /proc: %q", got)
	}
}
