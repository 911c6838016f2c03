package privop

import (
	"github.com/glexec-ng/glexec/internal/failure"
	"golang.org/x/sys/unix"
)

// Caller returns the identity of whoever ran glexec: the real uid and gid,
// which a setuid exec leaves alone, and the supplementary groups, which it
// leaves alone too. It is what proxies are opened as.
func Caller() (Identity, error) {
	groups, err := unix.Getgroups()
	if err != nil {
		return Identity{}, failure.Wrap(failure.System, ReasonSwitchFailed, "getgroups", err)
	}
	return Identity{UID: unix.Getuid(), GID: unix.Getgid(), Groups: groups}, nil
}

// Elevated reports whether the process has an identity its caller does
// not: it was started through a setuid or setgid bit by someone else. An
// unelevated glexec (run by root, or a non-setuid install) may honour
// overrides such as --config; an elevated one must not.
func Elevated() bool {
	return unix.Geteuid() != unix.Getuid() || unix.Getegid() != unix.Getgid()
}
