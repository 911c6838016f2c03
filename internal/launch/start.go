package launch

import (
	"os"
	"os/exec"

	"github.com/glexec-ng/glexec/internal/failure"
)

// ReasonStart: the helper could not be started.
const ReasonStart failure.Reason = "helper-start"

// Start runs the helper at path with r on a pipe at fd 3 and stdio as the
// payload's standard streams, and returns the running command for the
// caller to Wait on. The helper gets an empty environment: nothing the
// caller of glexec set (in particular _LIBCONTAINER_*, which runc's nsenter
// constructor obeys before main) reaches it.
//
// glexec starts the helper itself, early, as root without groups and killed
// with glexec (cmd/glexec, helperCmd); Start is the plain hand-off the
// sandbox package's tests use to drive the helper without glexec.
func Start(path string, r *Request, stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
	pr, err := Pipe(r)
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	cmd := exec.Command(path)
	cmd.Env = []string{} // non-nil: a nil Env would inherit ours
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.ExtraFiles = []*os.File{pr}
	if err := cmd.Start(); err != nil {
		return nil, failure.Wrap(failure.System, ReasonStart, path, err)
	}
	return cmd, nil
}
