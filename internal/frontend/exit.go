package frontend

import (
	"errors"
	"syscall"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Exit codes besides the failure classes (201, 202, 203).
const (
	// ExitCollision replaces a payload exit status that would be mistaken
	// for one of glexec's own (201-204).
	ExitCollision = 204
	// ExitExecFailed is returned when the payload could not be executed.
	ExitExecFailed = 126
)

// ExitCode is the exit status for an error that stopped glexec before or
// instead of the payload: its failure class, or 202 for anything
// unclassified (an unexpected error is the site's to look at).
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var fe *failure.Error
	if errors.As(err, &fe) {
		return int(fe.Class)
	}
	return int(failure.System)
}

// PayloadExitCode turns the payload's wait status into glexec's exit
// status: its own code, except that 201-204 become 204 so that a pilot
// never mistakes a payload's status for a glexec failure, and death by
// signal N becomes 128+N, the shell convention pilots already decode.
func PayloadExitCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Signaled():
		return 128 + int(ws.Signal())
	case ws.Exited():
		return CollisionSafe(ws.ExitStatus())
	}
	return int(failure.System)
}

// CollisionSafe maps an exit status in 201-204 to 204.
func CollisionSafe(code int) int {
	if code >= 201 && code <= 204 {
		return ExitCollision
	}
	return code
}
