package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/cgroup"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/launch"
)

// Reasons for refusing to run.
const (
	// ReasonNamespace: the helper is not in a private mount namespace.
	ReasonNamespace failure.Reason = "sandbox-mount-namespace"
	// ReasonSetup: preparing the sandbox (directories, mounts) failed.
	ReasonSetup failure.Reason = "sandbox-setup"
	// ReasonStart: libcontainer could not start the payload.
	ReasonStart failure.Reason = "sandbox-start"
	// ReasonNestedUserns: the site forbids nested user namespaces, which
	// this build cannot enforce.
	ReasonNestedUserns failure.Reason = "sandbox-nested-userns"
)

const defaultUnified = "/sys/fs/cgroup/unified"

// checkPrivateMounts refuses to go on in the mount namespace of the
// process that started the helper (glexec, in the host's namespace).
func checkPrivateMounts() error {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return failure.Wrap(failure.System, ReasonNamespace, "/proc/self/ns/mnt", err)
	}
	parentNS := fmt.Sprintf("/proc/%d/ns/mnt", os.Getppid())
	parent, err := os.Readlink(parentNS)
	if err != nil {
		return failure.Wrap(failure.System, ReasonNamespace, parentNS, err)
	}
	if self == parent {
		return failure.New(failure.System, ReasonNamespace, "glexec-sandbox", "running in its caller's mount namespace").
			WithHint("run the glexec-sandbox binary, whose constructor unshares the mount namespace")
	}
	return nil
}

// hostView mounts the whole cgroup2 hierarchy at <RunDir>/cgroup2 in the
// helper's namespace and returns that path. On a cgroup2 host the source is
// /sys/fs/cgroup; on a hybrid host, with cgroup_hybrid = private, the
// unified hierarchy (never a v1 one). The view outlives the bind of the
// payload's parent over /sys/fs/cgroup.
func hostView(s *launch.Sandbox) (string, error) {
	src := cgroup.DefaultMountpoint
	ok, err := cgroup.IsUnified(src)
	if err != nil {
		return "", failure.Wrap(failure.System, cgroup.ReasonNotUnified, src, err)
	}
	if !ok {
		if s.CgroupHybrid != launch.HybridPrivate {
			return "", cgroup.CheckUnified(src)
		}
		src = s.CgroupMount
		if src == "" {
			src = defaultUnified
		}
		if err := cgroup.CheckUnified(src); err != nil {
			return "", err
		}
	}
	view := filepath.Join(s.RunDir, "cgroup2")
	if err := os.MkdirAll(view, 0o700); err != nil {
		return "", failure.Wrap(failure.System, ReasonSetup, view, err)
	}
	if err := unix.Mount(src, view, "", unix.MS_BIND, ""); err != nil {
		return "", failure.Wrap(failure.System, ReasonSetup, view, fmt.Errorf("bind %s: %w", src, err))
	}
	return view, nil
}

// confineCgroupRoot binds the payload's parent cgroup over /sys/fs/cgroup.
// libcontainer's cgroup v2 manager writes every controller it finds in
// /sys/fs/cgroup/cgroup.controllers into the subtree_control of every
// ancestor of its cgroup, from /sys/fs/cgroup down; with this bind the only
// ancestor it sees is the parent, and the only controllers it finds are the
// ones the parent offers.
func confineCgroupRoot(view, parent string) error {
	src := filepath.Join(view, parent)
	if err := unix.Mount(src, cgroup.DefaultMountpoint, "", unix.MS_BIND, ""); err != nil {
		return failure.Wrap(failure.System, ReasonSetup, cgroup.DefaultMountpoint, fmt.Errorf("bind %s: %w", src, err))
	}
	return cgroup.CheckUnified(cgroup.DefaultMountpoint)
}

// hostbindRoot makes dir show the host's / recursively read-only, nosuid
// and nodev (lab §3.2). A rootfs of / itself cannot be pivoted into (lab
// P2). Readonlyfs would only remount the top mount, hence mount_setattr.
func hostbindRoot(dir string) error {
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return failure.Wrap(failure.System, ReasonSetup, dir, err)
	}
	if err := unix.Mount("/", dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return failure.Wrap(failure.System, ReasonSetup, dir, fmt.Errorf("rbind /: %w", err))
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(-1, dir, unix.AT_RECURSIVE, attr); err != nil {
		return failure.Wrap(failure.System, ReasonSetup, dir, fmt.Errorf("mount_setattr read-only: %w", err))
	}
	return nil
}
