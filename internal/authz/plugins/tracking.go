package plugins

import (
	"os"
	"path/filepath"

	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/tracking"
)

// glexecTracking is lcmaps_glexec_tracking.mod: it leases a tracking gid
// from -min-gid..-max-gid, unique among the node's live payloads, and adds
// it as a secondary gid. The lease belongs to this process (glexec
// supervises the payload to its end); it is released when the policy's
// data is reset, and at once in a dry run. The options of the old
// glexec_monitor/procd machinery are accepted with a notice: tracking
// (cgroup, leases) is built into glexec.
type glexecTracking struct {
	base
	min, max int
}

func newGlexecTracking(argv []string, env *policy.Env) (policy.Plugin, error) {
	p := &glexecTracking{base: base{module: "lcmaps_glexec_tracking", short: "glexec_tracking", env: env},
		min: tracking.DefaultMin, max: tracking.DefaultMax}
	a := &args{list: argv}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		switch opt {
		case "-min-gid", "-max-gid":
			v, _ := a.value()
			n, ok := atoiStrict(v)
			if !ok {
				return nil, p.initErr("option %s needs to be followed by a valid number", opt)
			}
			if opt == "-min-gid" {
				p.min = n
			} else {
				p.max = n
			}
		case "-exec", "-procddir", "-logdir", "-log-level", "-log-facility":
			v, _ := a.value()
			p.log().Noticef("%s-plugin_initialize(): option %s %s ignored: process tracking is built into glexec", p.module, opt, v)
		case "-datetime-local", "-dont-kill-leftovers":
			p.log().Noticef("%s-plugin_initialize(): option %s ignored: process tracking is built into glexec", p.module, opt)
		default:
			return nil, p.unknown(opt)
		}
	}
	if err := tracking.CheckRange(p.min, p.max); err != nil {
		return nil, p.initErr("invalid tracking gid range -min-gid %d -max-gid %d", p.min, p.max)
	}
	return p, nil
}

func (p *glexecTracking) Run(req *policy.Request, cd *policy.CredData) error {
	return p.done(p.run(cd))
}

// Verify is Run: the payload needs its tracking gid in either mode.
func (p *glexecTracking) Verify(req *policy.Request, cd *policy.CredData) error {
	return p.Run(req, cd)
}

func (p *glexecTracking) run(cd *policy.CredData) error {
	if p.env == nil || p.env.StateDir == "" {
		p.log().Errorf("%s-plugin_run(): no state directory for tracking gid leases", p.module)
		return failure.New(failure.System, tracking.ReasonUnusable, p.module+".mod", "no state directory configured")
	}
	pool := tracking.Pool{Dir: filepath.Join(p.env.StateDir, "tracking"), Min: p.min, Max: p.max}
	lease, err := pool.Acquire(os.Getpid())
	if err != nil {
		p.log().Errorf("%s-plugin_run(): cannot lease a tracking gid: %v", p.module, err)
		return err
	}
	cd.TrackingGID = lease.GID
	cd.AddSGID(lease.GID)
	if p.env.DryRun {
		if err := lease.Release(); err != nil {
			return err
		}
		p.log().Infof("%s-plugin_run(): tracking gid %d is free (dry run, not kept)", p.module, lease.GID)
		return nil
	}
	cd.TrackingLease = lease.Path
	cd.OnReset(func() { tracking.Release(lease.Path) })
	p.log().Infof("%s-plugin_run(): leased tracking gid %d", p.module, lease.GID)
	return nil
}
