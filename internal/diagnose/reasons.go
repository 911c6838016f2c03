package diagnose

import "github.com/glexec-ng/glexec/internal/failure"

// Reasons of the findings this package makes itself; the others carry the
// reason of the failure the real code path returned.
const (
	// ReasonNotWhitelisted: the caller is not on user_white_list (the
	// front end refuses with the same reason).
	ReasonNotWhitelisted failure.Reason = "caller-not-whitelisted"
	// ReasonTrackingSmall: the tracking gid range has fewer than
	// GIDsPerSlot gids per job slot.
	ReasonTrackingSmall failure.Reason = "tracking-range-small"
	// ReasonCgroupV2: the sandbox finds no cgroup v2 hierarchy to use.
	ReasonCgroupV2 failure.Reason = "cgroup-v2-missing"
	// ReasonCgroupDelegation: the parent cgroup lacks a controller the
	// sandbox limits need, or cannot be read.
	ReasonCgroupDelegation failure.Reason = "cgroup-not-delegated"
	// ReasonUserns: user namespaces are disabled (max_user_namespaces 0).
	ReasonUserns failure.Reason = "userns-disabled"
	// ReasonUnprivUserns: kernel.unprivileged_userns_clone = 0 keeps
	// payloads from nesting user namespaces.
	ReasonUnprivUserns failure.Reason = "userns-unprivileged-disabled"
	// ReasonAppArmorUserns: AppArmor restricts unprivileged user
	// namespaces, with the same effect.
	ReasonAppArmorUserns failure.Reason = "userns-apparmor-restricted"
	// ReasonOverlay: the overlay filesystem is unavailable; launches are
	// slow.
	ReasonOverlay failure.Reason = "overlay-missing"
)
