package proxy

import (
	"errors"
	"strings"
	"time"

	"github.com/glexec-ng/glexec/internal/config"
	"golang.org/x/sys/unix"
)

// openNoSymlinks opens an absolute path relative to the calling thread's
// identity, refusing a symbolic link in any component with ELOOP. flags
// get O_NOFOLLOW and O_CLOEXEC added.
func openNoSymlinks(p string, flags int) (int, error) {
	fd, err := unix.Openat2(unix.AT_FDCWD, p, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_NOFOLLOW | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	// Some seccomp profiles answer openat2 with EPERM instead of ENOSYS.
	// openat2 itself returns EPERM only for O_NOATIME, which we never ask
	// for, so EPERM also means "no openat2 here".
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		return walkOpen(p, flags)
	}
	return fd, err
}

// walkOpen is openNoSymlinks for kernels without openat2 (before 5.6): it
// opens each directory with O_PATH|O_NOFOLLOW|O_DIRECTORY from the one
// before, so a symbolic link is never followed, then opens the last
// component with O_NOFOLLOW. ".." is resolved by the kernel from the
// directory descriptor, as openat2 does.
func walkOpen(p string, flags int) (int, error) {
	parts := strings.Split(p, "/")
	last := len(parts) - 1
	for last > 0 && parts[last] == "" { // trailing slashes
		last--
	}
	cur, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	for _, comp := range parts[1:last] {
		if comp == "" || comp == "." {
			continue
		}
		next, err := unix.Openat(cur, comp, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOTDIR) {
			var st unix.Stat_t
			if unix.Fstatat(cur, comp, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				err = unix.ELOOP
			}
		}
		unix.Close(cur)
		if err != nil {
			return -1, err
		}
		cur = next
	}
	defer unix.Close(cur)
	name := parts[last]
	if name == "" { // p was "/"
		name = "."
	}
	return unix.Openat(cur, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// lockPoll is how often a busy lock is retried.
const lockPoll = 10 * time.Millisecond

// defaultLockWait is how long glexec waits for a proxy file's lock before
// giving up (ReasonLocked): long enough for any renewal, short enough that
// a lock held forever does not pin a root process.
const defaultLockWait = 30 * time.Second

var errLockTimeout = errors.New("lock held by another process")

// lockFD takes a lock on fd with the configured mechanism, waiting up to
// wait. fcntl locks are open-file-description locks (F_OFD_SETLK): they
// conflict with classic POSIX locks and flock emulation on NFS alike, but
// are not dropped when some other descriptor of the file is closed.
// Closing fd releases either kind.
func lockFD(fd int, mech config.LockMechanism, exclusive bool, wait time.Duration) error {
	var try func() error
	switch mech {
	case config.LockDisabled:
		return nil
	case config.LockFcntl:
		lk := unix.Flock_t{Type: unix.F_RDLCK}
		if exclusive {
			lk.Type = unix.F_WRLCK
		}
		try = func() error { return unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk) }
	default:
		how := unix.LOCK_SH
		if exclusive {
			how = unix.LOCK_EX
		}
		try = func() error { return unix.Flock(fd, how|unix.LOCK_NB) }
	}
	if wait <= 0 {
		wait = defaultLockWait
	}
	deadline := time.Now().Add(wait)
	for {
		err := try()
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EACCES) {
			return err
		}
		if time.Now().After(deadline) {
			return errLockTimeout
		}
		time.Sleep(lockPoll)
	}
}
