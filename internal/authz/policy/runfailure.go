package policy

import (
	"errors"

	"github.com/glexec-ng/glexec/internal/failure"
)

// RunFailure gives a failed Run gLExec's exit class: once LCMAPS is
// initialised, any failure of lcmaps_run is an authorisation failure
// (203), whatever the plugin's reason (an account missing from the
// password file, a mapping service that cannot be reached, a policy
// missing from lcmaps.db); pilots retry on it. Only a policy loop, which
// LCMAPS would hang on, stays a configuration error. The Reason and the
// message are kept, so glexec --check still says what an administrator
// must fix.
func RunFailure(err error) error {
	if err == nil || failure.ClassOf(err) == failure.Authz || failure.ReasonOf(err) == ReasonPolicyLoop {
		return err
	}
	var fe *failure.Error
	if !errors.As(err, &fe) {
		return failure.Wrap(failure.Authz, ReasonNotMapped, "lcmaps", err)
	}
	c := *fe
	c.Class = failure.Authz
	return &c
}
