package privop

import (
	"fmt"
	"syscall"

	"github.com/glexec-ng/glexec/internal/failure"
	"golang.org/x/sys/unix"
)

// SwitchProcess makes every thread of the process id, for good: the
// classic way of running a payload (sandbox = no) right before exec.
// Order matters: groups and gid while still root (both need CAP_SETGID,
// which setresuid away from 0 drops), uid last. Then it proves the switch:
// the kernel's real, effective and saved ids and the group list are read
// back, and for a non-root id an attempt to get uid 0 back must fail.
//
// It must not run concurrently with DoAs: setresuid resets every thread's
// fsuid.
func SwitchProcess(id Identity) error {
	if err := id.check(); err != nil {
		return err
	}
	fail := func(reason failure.Reason, err error) error {
		return failure.Wrap(failure.System, reason, id.String(), err)
	}
	// syscall's versions apply to all threads (unlike x/sys Setgroups).
	if err := syscall.Setgroups(id.Groups); err != nil {
		return fail(ReasonSwitchFailed, fmt.Errorf("setgroups: %w", err))
	}
	if err := syscall.Setresgid(id.GID, id.GID, id.GID); err != nil {
		return fail(ReasonSwitchFailed, fmt.Errorf("setresgid: %w", err))
	}
	if err := syscall.Setresuid(id.UID, id.UID, id.UID); err != nil {
		return fail(ReasonSwitchFailed, fmt.Errorf("setresuid: %w", err))
	}
	if err := verifyProcess(id); err != nil {
		return fail(ReasonSwitchUnverified, err)
	}
	return nil
}

// BecomeRoot is SwitchProcess(Root): real, effective and saved uid and gid
// 0 and no supplementary groups, so that the root-only sandbox helper glexec
// execs does not inherit the caller's ids or groups.
func BecomeRoot() error { return SwitchProcess(Root) }

func verifyProcess(id Identity) error {
	r, e, s := unix.Getresuid()
	if r != id.UID || e != id.UID || s != id.UID {
		return fmt.Errorf("uids are %d/%d/%d", r, e, s)
	}
	r, e, s = unix.Getresgid()
	if r != id.GID || e != id.GID || s != id.GID {
		return fmt.Errorf("gids are %d/%d/%d", r, e, s)
	}
	groups, err := unix.Getgroups()
	if err != nil {
		return err
	}
	if !sameGroups(groups, id.Groups) {
		return fmt.Errorf("groups are %v", groups)
	}
	if fs, _ := unix.SetfsuidRetUid(-1); fs != id.UID {
		return fmt.Errorf("fsuid is %d", fs)
	}
	if id.UID != 0 {
		// The raw call, on this thread only: if it succeeds, the switch
		// was not complete, and glexec must die rather than exec.
		if _, _, errno := unix.RawSyscall(unix.SYS_SETUID, 0, 0, 0); errno == 0 {
			return fmt.Errorf("setuid(0) succeeded after the switch")
		}
		if _, _, errno := unix.RawSyscall(unix.SYS_SETGID, 0, 0, 0); errno == 0 && id.GID != 0 {
			return fmt.Errorf("setgid(0) succeeded after the switch")
		}
	}
	return nil
}

// Credential returns the SysProcAttr credential that makes a forked child
// id before it execs (setgroups, setgid, setuid in the child, done by the
// Go runtime): the linger = yes way of starting a classic payload, where
// glexec itself stays root to wait for it.
func Credential(id Identity) (*syscall.Credential, error) {
	if err := id.check(); err != nil {
		return nil, err
	}
	c := &syscall.Credential{Uid: uint32(id.UID), Gid: uint32(id.GID)}
	for _, g := range id.Groups {
		c.Groups = append(c.Groups, uint32(g))
	}
	return c, nil
}
