package cgroup

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/failure"
)

// DefaultMountpoint is where the helper expects the unified hierarchy.
const DefaultMountpoint = "/sys/fs/cgroup"

// Reasons for refusing to track a payload. All are System (202) failures.
const (
	// ReasonNotUnified: the cgroup mountpoint is not cgroup2 (a v1 or
	// hybrid host) and the configuration does not allow the private mount.
	ReasonNotUnified failure.Reason = "cgroup-not-unified"
	// ReasonCreate: the payload cgroup could not be created or configured.
	ReasonCreate failure.Reason = "cgroup-create"
	// ReasonCaller: the caller's cgroup could not be determined.
	ReasonCaller failure.Reason = "cgroup-caller"
	// ReasonCleanup: the payload cgroup could not be emptied or removed.
	ReasonCleanup failure.Reason = "cgroup-cleanup"
)

// IsUnified reports whether path is the root of a cgroup2 mount.
func IsUnified(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false, err
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC, nil
}

// CheckUnified refuses a mountpoint that is not cgroup2. libcontainer
// silently falls back to cgroup v1 there and would create cgroups in every
// v1 hierarchy (lab P10), so this check runs before anything else.
func CheckUnified(mountpoint string) error {
	ok, err := IsUnified(mountpoint)
	if err != nil {
		return failure.Wrap(failure.System, ReasonNotUnified, mountpoint, err)
	}
	if !ok {
		return failure.New(failure.System, ReasonNotUnified, mountpoint, "not a cgroup2 mount (hybrid or v1 host)").
			WithHint("boot with systemd.unified_cgroup_hierarchy=1, or set sandbox cgroup_hybrid = private")
	}
	return nil
}

// ensureDir creates dir (and parents) root-only.
func ensureDir(dir string) error {
	return os.MkdirAll(dir, 0o700)
}
