package epilogue

import (
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/failure"
)

// maxComponents bounds the path walk: far more than any real install path.
const maxComponents = 64

// Trust says who besides root may be able to write the epilogue.
type Trust struct {
	UID int // epilogue_user's uid (0 when root)
	GID int // epilogue_group's gid, -1 when none
}

// CheckTrusted proves that only root, t.UID or members of t.GID can write
// the epilogue at name or any directory on its way. It walks the path one
// component at a time through O_PATH|O_NOFOLLOW descriptors, each opened
// relative to the previous one, and refuses symbolic links anywhere: what
// is checked is exactly what the kernel will find when the epilogue is
// executed, and nobody untrusted can change that in between because
// nobody untrusted can write any of it.
func CheckTrusted(name string, t Trust) error {
	untrusted := func(subject, detail string) error {
		return failure.New(failure.System, ReasonUntrusted, subject, detail).
			WithHint("make %s and every directory above it owned by root and writable by root only", name)
	}
	if !path.IsAbs(name) || path.Clean(name) != name {
		return untrusted(name, "not a clean absolute path")
	}
	comps := strings.Split(strings.TrimPrefix(name, "/"), "/")
	if len(comps) > maxComponents {
		return untrusted(name, fmt.Sprintf("more than %d path components", maxComponents))
	}
	cur, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return failure.Wrap(failure.System, ReasonUntrusted, "/", err)
	}
	defer func() { unix.Close(cur) }()
	walked := "/"
	for i := -1; i < len(comps); i++ {
		if i >= 0 {
			next, err := unix.Openat(cur, comps[i], unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			walked = path.Join(walked, comps[i])
			if err != nil {
				return failure.Wrap(failure.System, ReasonUntrusted, walked, err)
			}
			unix.Close(cur)
			cur = next
		}
		var st unix.Stat_t
		if err := unix.Fstat(cur, &st); err != nil {
			return failure.Wrap(failure.System, ReasonUntrusted, walked, err)
		}
		last := i == len(comps)-1
		typ := st.Mode & unix.S_IFMT
		switch {
		case typ == unix.S_IFLNK:
			return untrusted(walked, "a symbolic link")
		case last && typ != unix.S_IFREG:
			return untrusted(walked, "not a regular file")
		case !last && typ != unix.S_IFDIR:
			return untrusted(walked, "not a directory")
		}
		if detail := t.writers(&st); detail != "" {
			return untrusted(walked, detail)
		}
	}
	return nil
}

// writers describes who untrusted could write st, or "" when nobody.
func (t Trust) writers(st *unix.Stat_t) string {
	switch {
	case st.Uid != 0 && int(st.Uid) != t.UID:
		return fmt.Sprintf("owned by uid %d", st.Uid)
	case st.Mode&0o002 != 0:
		return fmt.Sprintf("writable by everyone (mode %#o)", st.Mode&0o7777)
	case st.Mode&0o020 != 0 && st.Gid != 0 && int(st.Gid) != t.GID:
		return fmt.Sprintf("writable by group %d (mode %#o)", st.Gid, st.Mode&0o7777)
	}
	return ""
}
