package privop

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/glexec-ng/glexec/internal/failure"
	"golang.org/x/sys/unix"
)

// fsCreds is a thread's file-system identity.
type fsCreds struct {
	uid, gid int
	groups   []int
}

// threadCreds reads the calling thread's fsuid, fsgid and groups.
// setfsuid(-1) changes nothing (-1 is invalid) and returns the current
// value: the way the man page recommends to read it.
func threadCreds() (fsCreds, error) {
	uid, _ := unix.SetfsuidRetUid(-1)
	gid, _ := unix.SetfsgidRetGid(-1)
	groups, err := unix.Getgroups() // raw getgroups: this thread's list
	return fsCreds{uid, gid, groups}, err
}

// setThread sets the calling thread's file-system identity and reads it
// back. Switching away from root, groups and fsgid go first, while fsuid is
// still 0; switching back (restore), fsuid goes first so that root's file
// capabilities return before anything else is touched.
func setThread(c fsCreds, restore bool) error {
	if restore {
		unix.SetfsuidRetUid(c.uid) // returns the old value, never an error worth trusting
	}
	// x/sys Setgroups is the raw system call: this thread only.
	if err := unix.Setgroups(c.groups); err != nil {
		return fmt.Errorf("setgroups %v: %w", c.groups, err)
	}
	unix.SetfsgidRetGid(c.gid)
	if !restore {
		unix.SetfsuidRetUid(c.uid)
	}
	got, err := threadCreds()
	if err != nil {
		return err
	}
	if got.uid != c.uid || got.gid != c.gid || !sameGroups(got.groups, c.groups) {
		return fmt.Errorf("kernel reports fsuid %d fsgid %d groups %v after setting fsuid %d fsgid %d groups %v",
			got.uid, got.gid, got.groups, c.uid, c.gid, c.groups)
	}
	return nil
}

// restoreThread puts a DoAs thread's identity back. It is a variable only
// so that a test can make the restore fail and watch the thread die.
var restoreThread = func(c fsCreds) error { return setThread(c, true) }

// DoAs runs fn on a locked OS thread whose fsuid, fsgid and supplementary
// groups are those of id, then restores them. Files fn opens or creates
// are checked against, and owned by, id; the rest of the process keeps
// its identity. fn must do its file work itself, on its own goroutine:
// goroutines it starts run on other threads, as root.
//
// A panic in fn is re-raised in the caller after the thread is restored.
// If the restore fails, DoAs returns ReasonRestoreFailed and the thread is
// destroyed rather than reused.
//
// In a process that is not root (a non-setuid install) DoAs can only "switch"
// to the process's own identity, which it does by running fn directly;
// anything else is ReasonNotPrivileged.
func DoAs(id Identity, fn func() error) error {
	if err := id.check(); err != nil {
		return err
	}
	if unix.Geteuid() != 0 {
		if id.UID == unix.Geteuid() && id.GID == unix.Getegid() {
			return fn()
		}
		return failure.New(failure.System, ReasonNotPrivileged, id.String(),
			fmt.Sprintf("cannot act as another account with euid %d", unix.Geteuid())).
			WithHint("install glexec setuid root, or run as that account")
	}
	type result struct {
		err      error
		panicked any
		didPanic bool
	}
	done := make(chan result, 1)
	go func() {
		// Locked for the whole goroutine; unlocked only once the thread
		// is proven clean again. A goroutine that exits while locked takes
		// its thread with it.
		runtime.LockOSThread()
		var r result
		defer func() { done <- r }()
		saved, err := threadCreds()
		if err != nil {
			r.err = failure.Wrap(failure.System, ReasonSwitchFailed, id.String(), err)
			return
		}
		if err := setThread(fsCreds{id.UID, id.GID, id.Groups}, false); err != nil {
			r.err = failure.Wrap(failure.System, ReasonSwitchUnverified, id.String(), err)
			if rerr := restoreThread(saved); rerr != nil {
				r.err = errors.Join(r.err, failure.Wrap(failure.System, ReasonRestoreFailed, id.String(), rerr))
				return // thread stays locked and dies
			}
			runtime.UnlockOSThread()
			return
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.panicked, r.didPanic = p, true
				}
			}()
			r.err = fn()
		}()
		if rerr := restoreThread(saved); rerr != nil {
			r.err = errors.Join(r.err, failure.Wrap(failure.System, ReasonRestoreFailed, id.String(), rerr))
			return // thread stays locked and dies
		}
		runtime.UnlockOSThread()
	}()
	r := <-done
	if r.didPanic {
		panic(r.panicked)
	}
	return r.err
}
