package plugins

import (
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// ngroups is the secondary gid limit lcmaps_posix_enf.mod enforces (its
// NGROUPS, 32 on Linux builds).
const ngroups = 32

// posixEnf is lcmaps_posix_enf.mod's checks: the counts of gathered ids
// against -maxuid/-maxpgid/-maxsgid and the refusal of root. The identity
// switch itself is the launcher's, so -set_only_euid/-set_only_egid are
// accepted but cannot weaken it. Like the C plugin it ignores options it
// does not know.
type posixEnf struct {
	base
	maxUID, maxPGID, maxSGID int // -1: no limit
}

func newPosixEnf(argv []string, env *policy.Env) (policy.Plugin, error) {
	p := &posixEnf{base: base{module: "lcmaps_plugin_posix_enf", short: "posix_enf", env: env},
		maxUID: -1, maxPGID: -1, maxSGID: -1}
	a := &args{list: argv}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		switch {
		case isUp(opt, "-maxuid", "-maxpgid", "-maxsgid"):
			v, _ := a.value()
			n, ok := atoiStrict(v)
			if !ok {
				return nil, p.initErr("Error: maybe found some digits, but there is at least one char corrupting this parameter: %s", v)
			}
			switch {
			case isUp(opt, "-maxuid"):
				p.maxUID = n
			case isUp(opt, "-maxpgid"):
				p.maxPGID = n
			default:
				if n > ngroups {
					return nil, p.initErr("Error: The preferred set maximum of %d Secondary Gid's exceeds the system maximum of NGROUPS witch is set to %d on this system", n, ngroups)
				}
				p.maxSGID = n
			}
		case is(opt, "-set_only_euid", "-set_only_egid"):
			v, _ := a.value()
			if v != "yes" && v != "no" {
				return nil, p.initErr("use \"yes\" or \"no\" for option %s", opt)
			}
			if v == "yes" {
				p.log().Noticef("%s-plugin_initialize(): %s yes ignored: glexec always sets real and effective ids", p.module, opt)
			}
		}
	}
	if p.maxSGID < 0 {
		p.maxSGID = ngroups
		p.log().Infof("%s-plugin_initialize(): Auto set maximum Secondary Gid's to system maximum of NGROUPS witch is set to %d on this system", p.module, ngroups)
	}
	return p, nil
}

func (p *posixEnf) Run(req *policy.Request, cd *policy.CredData) error { return p.done(p.run(cd)) }

// Verify is Run: the checks do not depend on the mode.
func (p *posixEnf) Verify(req *policy.Request, cd *policy.CredData) error { return p.Run(req, cd) }

func (p *posixEnf) run(cd *policy.CredData) error {
	limit := func(format string, max, n int) error {
		return p.runErr(logging.Err, failure.Authz, ReasonIDLimits, format, max, n-max)
	}
	switch {
	case p.maxUID >= 0 && len(cd.UIDs) > p.maxUID:
		return limit("Error: The set amount of uid's gathered exceeds the maximum of %d uid('s) by %d", p.maxUID, len(cd.UIDs))
	case p.maxPGID >= 0 && len(cd.PGIDs) > p.maxPGID:
		return limit("Error: The set amount of primary gid's gathered exceeds the maximum of %d primary gid('s) by %d", p.maxPGID, len(cd.PGIDs))
	case len(cd.SGIDs) > p.maxSGID:
		return limit("Error: The set amount of secondary gid's gathered exceeds the maximum of %d secundary gid's by %d", p.maxSGID, len(cd.SGIDs))
	case len(cd.PGIDs) == 0:
		return p.runErr(logging.Err, failure.Authz, ReasonIDLimits, "No primary group IDs found, need at least 1 !")
	case len(cd.UIDs) == 0:
		return p.runErr(logging.Err, failure.Authz, ReasonIDLimits, "No user IDs found, need at least 1 !")
	case cd.UIDs[0] == 0:
		return p.runErr(logging.Err, failure.Authz, ReasonRootMapping, "real and or effective uid == 0, which is not allowed at this stage")
	case cd.PGIDs[0] == 0:
		return p.runErr(logging.Err, failure.Authz, ReasonRootMapping, "real and or effective gid == 0, which is not allowed at this stage")
	}
	return nil
}
