package plugins

import (
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/gridmap"
	"github.com/glexec-ng/glexec/internal/logging"
)

// vomsGroup is lcmaps_voms_localgroup.mod and lcmaps_voms_poolgroup.mod:
// each FQAN, in credential order, is looked up in the group-mapfile
// (wildcards on) and mapped to a Unix group, directly or through a
// groupmapdir lease named after the FQAN. The first FQAN gives the primary
// gid (unless --map-to-secondary-groups), the others secondary gids.
type vomsGroup struct {
	base
	file   string
	mapmin int
	mapall bool
	toSec  bool

	pool   bool
	dir    gridmap.Dir
	dirSet bool
}

func newVOMSLocalGroup(argv []string, env *policy.Env) (policy.Plugin, error) {
	return newVOMSGroup(argv, &vomsGroup{base: base{module: "lcmaps_voms_localgroup", short: "voms_localgroup", env: env}})
}

func newVOMSPoolGroup(argv []string, env *policy.Env) (policy.Plugin, error) {
	p := &vomsGroup{base: base{module: "lcmaps_voms_poolgroup", short: "voms_poolgroup", env: env}, pool: true}
	p.dir.Strict = true
	return newVOMSGroup(argv, p)
}

func newVOMSGroup(argv []string, p *vomsGroup) (policy.Plugin, error) {
	a := &args{list: argv}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		switch {
		case isUp(opt, "-groupmapfile", "-groupmap"):
			if err := p.fileArg(a, opt, &p.file); err != nil {
				return nil, err
			}
		case is(opt, "-mapmin"):
			v, ok := a.value()
			if !ok {
				return nil, p.initErr("option %s needs to be followed by a valid number", opt)
			}
			n, ok := atoiStrict(v)
			if !ok {
				return nil, p.initErr("Illegal value for \"%s\" (%s): Should be in integer>=0 (failure)", opt, v)
			}
			p.mapmin = n
		case is(opt, "-mapall"):
			p.mapall = true
		case is(opt, "--map-to-secondary-groups"):
			p.toSec = true
		default:
			if !p.pool {
				return nil, p.unknown(opt)
			}
			known, err := p.poolOption(a, opt, nil, &p.dir, &p.dirSet, "-groupmapdir", nil)
			if err != nil {
				return nil, err
			}
			if !known {
				return nil, p.unknown(opt)
			}
		}
	}
	if p.file == "" {
		return nil, p.initErr("No group-mapfile was provided, use option -groupmapfile")
	}
	if p.pool && !p.dirSet {
		p.log().Infof("%s-plugin_initialize(): No groupmapdir was provided, will try environment variable.", p.module)
	}
	return p, nil
}

func (p *vomsGroup) Run(req *policy.Request, cd *policy.CredData) error {
	return p.done(p.run(req, cd, false))
}

// Verify maps as Run does, but a pool group must already be leased.
func (p *vomsGroup) Verify(req *policy.Request, cd *policy.CredData) error {
	return p.done(p.run(req, cd, true))
}

func (p *vomsGroup) run(req *policy.Request, cd *policy.CredData, verify bool) error {
	var dir gridmap.Dir
	if p.pool {
		var err error
		if dir, err = p.mapdir(p.dir, p.dirSet, "GROUPMAPDIR", "groupmapdir"); err != nil {
			return err
		}
	}
	list := fqans(req)
	if len(list) == 0 {
		return p.runErr(logging.Info, failure.Authz, ReasonNoFQAN, "no (valid) VOMS groups found --> no mapping")
	}
	kind := "localgroup"
	if p.pool {
		kind = "poolgroup"
	}
	mapped := 0
	for i, fqan := range list {
		res, found, err := gridmap.Lookup(p.file, gridmap.Query{
			Subject: fqan, Wildcards: true,
			Accept: acceptMapping(p.pool, ""),
		}, p.log())
		if err != nil {
			return err
		}
		group := res.Mapping
		if found && p.pool {
			lease := gridmap.LeaseName(fqan, nil)
			var lerr error
			if verify {
				group, lerr = dir.Leased(res.Mapping[1:], lease)
			} else {
				group, lerr = dir.Acquire(res.Mapping[1:], lease, fqan)
			}
			// A full pool leaves the FQAN unmapped, like a missing line.
			found = lerr == nil
		}
		if !found {
			if p.mapall {
				prio := logging.Warning
				if p.pool {
					prio = logging.Err
				}
				return p.runErr(prio, failure.Authz, ReasonTooFewGroups,
					"No match for a VOMS %s for FQAN %d, \"%s\"", kind, i+1, fqan)
			}
			continue
		}
		g, err := p.lookupGroup(group)
		if err != nil {
			return err
		}
		if i == 0 && !p.toSec {
			cd.AddPGID(g.GID)
		} else {
			cd.AddSGID(g.GID)
		}
		cd.AddVOMapping(authz.VOMapping{FQAN: fqan, GID: g.GID, Group: g.Name})
		mapped++
	}
	if mapped < p.mapmin {
		return p.runErr(logging.Warning, failure.Authz, ReasonTooFewGroups,
			"Not enough groups found. The minimum is set to %d. The plugin found %d", p.mapmin, mapped)
	}
	return nil
}
