package config

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/glexec-ng/glexec/internal/failure"
	"golang.org/x/sys/unix"
)

// Bounds on CheckTree. A CA directory holds a few hundred CAs times a
// handful of files; a vomsdir is two levels deep.
const (
	maxTreeDepth   = 4
	maxTreeEntries = 100000
)

// CheckTree is CheckFilePerms for a directory glexec reads files from as
// root — the CA directory, the vomsdir — and for everything in it, down to
// maxTreeDepth levels: each file and subdirectory must be owned by root and
// not writable by group or others, and each symbolic link must lead, by
// CheckFilePerms's rules, to such a file. A CA directory whose own mode is
// fine but which holds one world-writable CA file would let anyone add a
// trust anchor.
func CheckTree(dir string) error {
	if err := CheckFilePerms(dir); err != nil {
		return err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return failure.Wrap(failure.System, ReasonUnreadable, dir, err)
	}
	entries := 0
	return checkEntries(fd, path.Clean(dir), 1, &entries)
}

// checkEntries checks every entry of the open directory fd (and closes it).
func checkEntries(fd int, dir string, depth int, entries *int) error {
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return failure.Wrap(failure.System, ReasonUnreadable, dir, err)
	}
	for _, name := range names {
		if *entries++; *entries > maxTreeEntries {
			return failure.New(failure.System, ReasonUnreadable, dir, fmt.Sprintf("more than %d entries", maxTreeEntries))
		}
		full := path.Join(dir, name)
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return failure.Wrap(failure.System, ReasonUnreadable, full, err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			buf := make([]byte, unix.PathMax)
			n, err := unix.Readlinkat(fd, name, buf)
			if err != nil {
				return failure.Wrap(failure.System, ReasonUnreadable, full, err)
			}
			target := string(buf[:n])
			if !strings.Contains(target, "/") {
				continue // a sibling (hash.0 -> ca.pem): checked as an entry itself
			}
			if !path.IsAbs(target) {
				target = path.Join(dir, target)
			}
			if err := CheckFilePerms(target); err != nil {
				return err
			}
		case unix.S_IFDIR:
			if err := check(&st, full); err != nil {
				return err
			}
			if depth >= maxTreeDepth {
				return failure.New(failure.System, ReasonUnreadable, full, fmt.Sprintf("deeper than %d levels", maxTreeDepth))
			}
			sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return failure.Wrap(failure.System, ReasonUnreadable, full, err)
			}
			if err := checkEntries(sub, full, depth+1, entries); err != nil {
				return err
			}
		default:
			if err := check(&st, full); err != nil {
				return err
			}
		}
	}
	return nil
}
