// Package epilogue runs the site's optional epilogue after a lingering
// payload has ended (reference §1.4, gLExec's "epilogue functionality"):
// a trusted-root program, run as root or epilogue_user/epilogue_group with
// stdio on /dev/null, the payload's cleaned environment plus
// GLEXEC_EPILOG_* variables describing the call, SIGTERM'd and then
// SIGKILL'd after the configured timeout.
//
// A failed epilogue makes glexec exit 202, or 204 when the epilogue itself
// returned one of glexec's codes (201-204): see ExitCode.
package epilogue

import "github.com/glexec-ng/glexec/internal/failure"

// Reasons an epilogue fails. All are failure.System: the epilogue is the
// site's.
const (
	// ReasonUntrusted: the epilogue, or a directory above it, could be
	// written by someone other than root (or epilogue_user, or members of
	// epilogue_group), is not a regular file, or is reached through a
	// symbolic link. It is not run.
	ReasonUntrusted failure.Reason = "epilogue-untrusted"
	// ReasonStart: the epilogue could not be started.
	ReasonStart failure.Reason = "epilogue-start"
	// ReasonFailed: the epilogue exited non-zero or was killed.
	ReasonFailed failure.Reason = "epilogue-failed"
	// ReasonGlexecCode: the epilogue exited 201-204, which glexec reports
	// as 204 so it is not mistaken for glexec's own failure.
	ReasonGlexecCode failure.Reason = "epilogue-glexec-code"
	// ReasonTimeout: the epilogue ran longer than epilogue_timeout.
	ReasonTimeout failure.Reason = "epilogue-timeout"
)

// ExitCode is glexec's exit status after a failed epilogue: 204 when the
// epilogue returned 201-204, else 202.
func ExitCode(err error) int {
	if failure.ReasonOf(err) == ReasonGlexecCode {
		return 204
	}
	return int(failure.System)
}
