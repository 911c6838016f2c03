package plugins

import (
	"fmt"

	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
)

// dummyGood is lcmaps_dummy_good.mod: it always succeeds, adding the
// configured uid, primary and one secondary gid. Unknown options are
// ignored, as in the C plugin.
type dummyGood struct {
	base
	uid, gid, sgid int // -1 when not configured
}

func newDummyGood(argv []string, env *policy.Env) (policy.Plugin, error) {
	p := &dummyGood{base: base{module: "lcmaps_dummy_good", short: "good", env: env}, uid: -1, gid: -1, sgid: -1}
	a := &args{list: argv}
	number := func() (int, error) {
		v, _ := a.value()
		n, ok := atoiStrict(v)
		if !ok {
			return 0, p.initErr("Error: maybe found some digits, but there is at least one char corrupting this parameter: %s", v)
		}
		return n, nil
	}
	group := func() (int, error) {
		v, _ := a.value()
		g, err := p.accounts().LookupGroup(v)
		if err != nil {
			return 0, p.initErr("no valid group found with the name \"%s\"", v)
		}
		return g.GID, nil
	}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		var err error
		switch opt {
		case "--dummy-uid":
			p.uid, err = number()
		case "--dummy-username":
			v, _ := a.value()
			u, lerr := p.accounts().LookupUser(v)
			if lerr != nil {
				return nil, p.initErr("no valid user account found with the name \"%s\"", v)
			}
			p.uid = u.UID
		case "--dummy-gid":
			p.gid, err = number()
		case "--dummy-group":
			p.gid, err = group()
		case "--dummy-sec-gid":
			p.sgid, err = number()
		case "--dummy-sec-group":
			p.sgid, err = group()
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *dummyGood) Run(req *policy.Request, cd *policy.CredData) error {
	if p.uid >= 0 {
		cd.AddUID(p.uid)
	}
	if p.gid >= 0 {
		cd.AddPGID(p.gid)
	}
	if p.sgid >= 0 {
		cd.AddSGID(p.sgid)
	}
	if p.uid >= 0 && p.gid >= 0 {
		cd.PoolIndex = fmt.Sprintf("dummy%%20%d%%20%d", p.uid, p.gid)
	}
	return p.done(nil)
}

// Verify is Run.
func (p *dummyGood) Verify(req *policy.Request, cd *policy.CredData) error { return p.Run(req, cd) }

// dummyBad is lcmaps_dummy_bad.mod: it always fails. OSG completes
// one-plugin policies with "good | bad".
type dummyBad struct{ base }

func newDummyBad(argv []string, env *policy.Env) (policy.Plugin, error) {
	return &dummyBad{base{module: "lcmaps_dummy_bad", short: "bad", env: env}}, nil
}

func (p *dummyBad) Run(req *policy.Request, cd *policy.CredData) error {
	p.log().Infof("%s-plugin_run(): bad plugin successfully failed by design", p.module)
	return failure.New(failure.Authz, ReasonDummyBad, p.module+".mod", "fails by design")
}

// Verify is Run.
func (p *dummyBad) Verify(req *policy.Request, cd *policy.CredData) error { return p.Run(req, cd) }
