package plugins

import (
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/gridmap"
	"github.com/glexec-ng/glexec/internal/logging"
)

// ban is lcmaps_ban_dn.mod and lcmaps_ban_fqan.mod: the plugin fails when
// the DN (or any FQAN) matches a line of the ban list, wildcards allowed.
type ban struct {
	base
	file  string
	wild  bool
	fqans bool
}

func newBanDN(argv []string, env *policy.Env) (policy.Plugin, error) {
	return newBan(argv, env, &ban{base: base{module: "lcmaps_ban_dn", short: "ban_dn", env: env}})
}

func newBanFQAN(argv []string, env *policy.Env) (policy.Plugin, error) {
	return newBan(argv, env, &ban{base: base{module: "lcmaps_ban_fqan", short: "ban_fqan", env: env}, fqans: true})
}

func newBan(argv []string, env *policy.Env, p *ban) (policy.Plugin, error) {
	p.wild = true
	a := &args{list: argv}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		switch {
		case isUp(opt, "-banmapfile", "-ban_mapfile", "-gridmapfile", "-gridmap"):
			if err := p.fileArg(a, opt, &p.file); err != nil {
				return nil, err
			}
		case is(opt, "-no_wildcard", "-disablewildcard", "-disablewildcards", "--disablewildcard", "--disablewildcards"):
			p.wild = false
		default:
			return nil, p.unknown(opt)
		}
	}
	if p.file == "" {
		return nil, p.initErr("Error: No banmapfile was provided. Use the option -banmapfile <banmapfile> to set one.")
	}
	return p, nil
}

func (p *ban) Run(req *policy.Request, cd *policy.CredData) error { return p.done(p.run(req, cd)) }

// Verify is Run: a ban applies whatever the mode.
func (p *ban) Verify(req *policy.Request, cd *policy.CredData) error { return p.Run(req, cd) }

func (p *ban) run(req *policy.Request, cd *policy.CredData) error {
	if !p.fqans {
		dn := subjectDN(req, cd)
		cd.DN = dn
		return p.check("DN", dn)
	}
	if len(fqans(req)) == 0 {
		p.log().Infof("%s-plugin_run(): no (valid) VOMS groups found --> no mapping", p.module)
	}
	for _, f := range fqans(req) {
		if err := p.check("FQAN", f); err != nil {
			return err
		}
	}
	return nil
}

func (p *ban) check(kind, subject string) error {
	res, found, err := gridmap.Lookup(p.file, gridmap.Query{Subject: subject, Wildcards: p.wild, SubjectOnly: true}, p.log())
	if err != nil {
		p.log().Errorf("%s-plugin_run(): error while looking up %s in banmapfile %s", p.module, kind, p.file)
		return err
	}
	if !found {
		return nil
	}
	p.log().Infof("lcmaps_gridmapfile: Found match (line %d) \"%s\"", res.Line, res.Pattern)
	return p.runErr(logging.Notice, failure.Authz, ReasonBanned, "%s \"%s\" is found on the ban list.", kind, subject)
}
