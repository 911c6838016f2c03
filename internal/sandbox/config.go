package sandbox

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/launch"
)

// containerConfig builds the libcontainer configuration of one payload
// (lab §3.3). rootfs is the hostbind directory, cgroupPath the payload
// cgroup as seen below the confined /sys/fs/cgroup.
func containerConfig(r *launch.Request, rootfs, cgroupPath string) *configs.Config {
	s := &r.Sandbox
	a := &r.Account
	ns := configs.Namespaces{
		{Type: configs.NEWUSER}, {Type: configs.NEWNS}, {Type: configs.NEWIPC}, {Type: configs.NEWUTS},
	}
	if s.PIDNamespace {
		ns = append(ns, configs.Namespace{Type: configs.NEWPID})
	}
	// Container root must be mapped: nsexec switches to 0 inside the user
	// namespace before dropping to the payload ids. It maps to an unused
	// host id, never to the payload user and never to host root, whose
	// inodes (stdio included, lab P12) would otherwise be chowned.
	root := int64(s.ContainerRootID)
	uids := []configs.IDMap{{ContainerID: 0, HostID: root, Size: 1}, {ContainerID: int64(a.UID), HostID: int64(a.UID), Size: 1}}
	gids := []configs.IDMap{{ContainerID: 0, HostID: root, Size: 1}}
	for _, g := range payloadGIDs(a) {
		gids = append(gids, configs.IDMap{ContainerID: int64(g), HostID: int64(g), Size: 1})
	}
	return &configs.Config{
		Rootfs:     rootfs,
		Readonlyfs: false, // the hostbind root is already recursively read-only
		Namespaces: ns,
		// Every supplementary gid is mapped 1:1, the tracking gid
		// included, or setgroups fails with EINVAL (lab P5).
		UIDMappings: uids,
		GIDMappings: gids,
		Mounts:      mounts(r),
		Devices:     stdDevices(),
		// Resources must be non-nil; empty means libcontainer writes no
		// limit (internal/cgroup has written them). SkipDevices stays
		// false (lab P1) and, with the cgroups/devices package not
		// linked, no device filter is installed: the user namespace
		// already forbids mknod.
		Cgroups: &cgroups.Cgroup{Path: cgroupPath, Resources: &cgroups.Resources{}},
		// Empty, not nil: nil keeps the full bounding set (lab P7).
		Capabilities:    &configs.Capabilities{},
		NoNewPrivileges: true,
		// Ineffective for the payload (lab P11); the cgroup sweep is
		// what catches payloads of a killed helper.
		ParentDeathSignal: int(syscall.SIGKILL),
		MaskPaths:         append([]string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"}, s.RunDir, s.StateDir),
		ReadonlyPaths:     []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"},
	}
}

// payloadGIDs is the primary gid and every supplementary gid, once each,
// sorted.
func payloadGIDs(a *launch.Account) []int {
	g := append([]int{a.PGID}, a.SGIDs...)
	slices.Sort(g)
	return slices.Compact(g)
}

const (
	bindRO = unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV
	bindRW = unix.MS_BIND | unix.MS_REC | unix.MS_NOSUID | unix.MS_NODEV
)

var recRO = &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}

func mounts(r *launch.Request) []*configs.Mount {
	s := &r.Sandbox
	var m []*configs.Mount
	if s.PIDNamespace {
		m = append(m, &configs.Mount{Source: "proc", Destination: "/proc", Device: "proc", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC})
	} else {
		// A fresh procfs needs its own pid namespace (lab P6).
		m = append(m, &configs.Mount{Source: "/proc", Destination: "/proc", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC})
	}
	tmpData := "mode=1777"
	if s.TmpSize > 0 {
		tmpData += fmt.Sprintf(",size=%d", s.TmpSize)
	}
	m = append(m,
		&configs.Mount{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"},
		// No gid=5: gid 5 is not mapped in the user namespace.
		&configs.Mount{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620"},
		&configs.Mount{Source: "shm", Destination: "/dev/shm", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Data: "mode=1777,size=65536k"},
		&configs.Mount{Source: "tmpfs", Destination: "/tmp", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_NODEV, Data: tmpData},
	)
	for _, p := range s.BindRO {
		m = append(m, &configs.Mount{Source: p, Destination: p, Device: "bind", Flags: bindRO, RecAttr: recRO})
	}
	for _, p := range s.BindRW {
		m = append(m, &configs.Mount{Source: p, Destination: p, Device: "bind", Flags: bindRW})
	}
	// The working directory is bound at its own path, read-write when
	// the account may write it. Below /tmp the bind is what makes it
	// exist at all; / and /tmp themselves stay as the sandbox has them.
	switch {
	case r.Cwd == "/" || r.Cwd == "/tmp":
	case r.CwdWritable:
		m = append(m, &configs.Mount{Source: r.Cwd, Destination: r.Cwd, Device: "bind", Flags: bindRW})
	case under(r.Cwd, "/tmp"):
		m = append(m, &configs.Mount{Source: r.Cwd, Destination: r.Cwd, Device: "bind", Flags: bindRO, RecAttr: recRO})
	}
	if p := r.Proxy; p != nil {
		// The directory, not the file: glexec renews the proxy by
		// renaming a new file over the old one, and a file bind would
		// keep showing the old inode.
		m = append(m, &configs.Mount{Source: filepath.Dir(p.HostPath), Destination: filepath.Dir(p.Path), Device: "bind",
			Flags: bindRO | unix.MS_NOEXEC, RecAttr: recRO})
	}
	return m
}

func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// stdDevices are the nodes of the fresh /dev. In a user namespace
// libcontainer bind-mounts the host's nodes instead of calling mknod.
func stdDevices() []*devices.Device {
	dev := func(path string, major, minor int64) *devices.Device {
		return &devices.Device{Rule: devices.Rule{Type: devices.CharDevice, Major: major, Minor: minor, Permissions: "rwm", Allow: true},
			Path: path, FileMode: 0o666}
	}
	return []*devices.Device{
		dev("/dev/null", 1, 3), dev("/dev/zero", 1, 5), dev("/dev/full", 1, 7),
		dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0),
	}
}
