package launch

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/failure"
)

// ReasonHelper: the sandbox helper is missing or could have been written
// by someone other than root.
const ReasonHelper failure.Reason = "sandbox-helper"

// CheckHelper refuses a helper anyone but root could have written, since
// glexec runs it as root: it must be a regular root-owned file, writable by
// neither group nor others, and neither setuid nor setgid.
func CheckHelper(path string) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return failure.Wrap(failure.System, ReasonHelper, path, err).
			WithHint("install glexec-sandbox (make install), or set sandbox = no in glexec.conf")
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return failure.New(failure.System, ReasonHelper, path, "not a regular file").
			WithHint("install glexec-sandbox itself at %s, not a link or directory", path)
	case st.Uid != 0:
		return failure.New(failure.System, ReasonHelper, path, fmt.Sprintf("owned by uid %d, not root", st.Uid)).
			WithHint("chown root:root %s", path)
	case st.Mode&0o022 != 0 || st.Mode&(unix.S_ISUID|unix.S_ISGID) != 0:
		return failure.New(failure.System, ReasonHelper, path, fmt.Sprintf("mode %#o, want 0700", st.Mode&0o7777)).
			WithHint("chmod 0700 %s", path)
	}
	return nil
}
