package privop

import (
	"fmt"
	"slices"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Reasons for a failed identity change. A failed switch is the site's or
// glexec's problem, never the caller's: all are failure.System (202).
const (
	// ReasonInvalidIdentity: a uid or gid outside 0..2^32-2 (-1 and
	// 4294967295 mean "unchanged" to the kernel), or too many groups.
	ReasonInvalidIdentity failure.Reason = "invalid-identity"
	// ReasonSwitchFailed: a system call refused the change.
	ReasonSwitchFailed failure.Reason = "identity-switch-failed"
	// ReasonSwitchUnverified: the kernel reports a different identity than
	// the one set, or a dropped privilege could be regained.
	ReasonSwitchUnverified failure.Reason = "identity-switch-unverified"
	// ReasonRestoreFailed: the identity of a DoAs thread could not be put
	// back; the thread was retired.
	ReasonRestoreFailed failure.Reason = "identity-restore-failed"
	// ReasonNotPrivileged: a switch to another account was asked of a
	// process that is not root (a non-setuid install).
	ReasonNotPrivileged failure.Reason = "not-privileged"
)

// maxGroups is the kernel's NGROUPS_MAX.
const maxGroups = 65536

// maxID is the largest valid uid or gid; (uid_t)-1 means "no change".
const maxID = 1<<32 - 2

// Identity is a Unix identity: a uid, a primary gid and supplementary gids
// (which should include the primary gid, as initgroups(3) makes them).
type Identity struct {
	UID    int
	GID    int
	Groups []int
}

// Root is uid 0, gid 0, no supplementary groups.
var Root = Identity{}

func (id Identity) String() string {
	return fmt.Sprintf("uid %d gid %d groups %v", id.UID, id.GID, id.Groups)
}

func (id Identity) check() error {
	bad := func(what string, v int) error {
		return failure.New(failure.System, ReasonInvalidIdentity, id.String(), fmt.Sprintf("%s %d out of range", what, v))
	}
	if id.UID < 0 || id.UID > maxID {
		return bad("uid", id.UID)
	}
	if id.GID < 0 || id.GID > maxID {
		return bad("gid", id.GID)
	}
	if len(id.Groups) > maxGroups {
		return failure.New(failure.System, ReasonInvalidIdentity, id.String(), "more than NGROUPS_MAX groups")
	}
	for _, g := range id.Groups {
		if g < 0 || g > maxID {
			return bad("group", g)
		}
	}
	return nil
}

// sameGroups compares group sets: the kernel keeps them sorted.
func sameGroups(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
