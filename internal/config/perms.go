package config

import (
	"fmt"
	"path"
	"strings"

	"github.com/glexec-ng/glexec/internal/failure"
	"golang.org/x/sys/unix"
)

// maxSymlinks bounds how many symbolic links CheckFilePerms follows, as
// the kernel's own resolution does (40 on Linux).
const maxSymlinks = 40

// CheckFilePerms refuses (System, ReasonUnsafe) a file or directory glexec
// trusts as root — glexec.conf, lcmaps.db, the CA directory — unless it
// and every directory above it are owned by root and writable by neither
// group nor others. Anyone who could write one of them could map
// themselves to any account.
//
// The walk goes component by component through descriptors (openat with
// O_PATH|O_NOFOLLOW) and checks each with fstat, so a rename during the
// walk cannot swap a checked directory for an unchecked one. Symbolic
// links are followed, checking the target's path too: a link in a
// root-only directory was put there by root. A missing or unreadable path
// is ReasonUnreadable.
func CheckFilePerms(name string) error {
	if !path.IsAbs(name) {
		return failure.New(failure.System, ReasonUnreadable, name, "not an absolute path")
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return failure.Wrap(failure.System, ReasonUnreadable, "/", err)
	}
	cur := root
	defer func() { unix.Close(cur) }()
	if err := trusted(cur, "/"); err != nil {
		return err
	}
	todo := strings.Split(name, "/")
	walked := "/" // the path of cur, for messages
	links := 0
	for len(todo) > 0 {
		comp := todo[0]
		todo = todo[1:]
		if comp == "" || comp == "." {
			continue
		}
		next, err := unix.Openat(cur, comp, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		here := path.Join(walked, comp)
		if err != nil {
			return failure.Wrap(failure.System, ReasonUnreadable, here, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(next, &st); err != nil {
			unix.Close(next)
			return failure.Wrap(failure.System, ReasonUnreadable, here, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target, err := readlink(next)
			unix.Close(next)
			if err != nil {
				return failure.Wrap(failure.System, ReasonUnreadable, here, err)
			}
			if links++; links > maxSymlinks {
				return failure.New(failure.System, ReasonUnreadable, name, "too many levels of symbolic links")
			}
			todo = append(strings.Split(target, "/"), todo...)
			if strings.HasPrefix(target, "/") {
				unix.Close(cur)
				if cur, err = unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
					return failure.Wrap(failure.System, ReasonUnreadable, "/", err)
				}
				walked = "/"
			}
			continue
		}
		unix.Close(cur)
		cur, walked = next, here
		if err := check(&st, here); err != nil {
			return err
		}
	}
	return nil
}

func trusted(fd int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return failure.Wrap(failure.System, ReasonUnreadable, name, err)
	}
	return check(&st, name)
}

func check(st *unix.Stat_t, name string) error {
	if st.Uid != 0 {
		return failure.New(failure.System, ReasonUnsafe, name, fmt.Sprintf("owned by uid %d, not root", st.Uid)).
			WithHint("chown root %s", name)
	}
	if st.Mode&0o022 != 0 {
		return failure.New(failure.System, ReasonUnsafe, name, fmt.Sprintf("mode %#o is writable by group or others", st.Mode&0o7777)).
			WithHint("chmod go-w %s", name)
	}
	return nil
}

// readlink reads the target of the symlink open as an O_PATH descriptor.
func readlink(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	if n >= len(buf) {
		return "", fmt.Errorf("symbolic link target longer than %d bytes", len(buf))
	}
	return string(buf[:n]), nil
}
