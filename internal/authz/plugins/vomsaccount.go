package plugins

import (
	"strconv"

	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/gridmap"
	"github.com/glexec-ng/glexec/internal/logging"
)

// vomsAccount is lcmaps_voms_localaccount.mod and
// lcmaps_voms_poolaccount.mod: the FQANs, in credential order, are looked
// up in a grid-mapfile of FQAN patterns; the first that maps gives the
// account, directly or through a gridmapdir lease. The lease of the pool
// variant is named after the DN and the groups already mapped, so a
// change of VOMS groups yields another account.
type vomsAccount struct {
	base
	mapfile mapfileOpt

	// Which ids of the mapped account join the result: --use-account-gid
	// and --use-voms-gid set the default, the --add-*/--do-not-add-*
	// options decide one kind of id each (0 unset, 1 add, -1 do not).
	useAccountGID     bool
	useSet            string // the --use-* option given, for conflicts
	addPGID, addSGIDs int
	addPGIDAsSec      bool

	pool       bool
	dir        gridmap.Dir
	dirSet     bool
	mappings   int
	requirePG  int // 0 unset, 1 require, -1 do not require
	noSecInKey bool
}

func newVOMSLocalAccount(argv []string, env *policy.Env) (policy.Plugin, error) {
	p := &vomsAccount{base: base{module: "lcmaps_voms_localaccount", short: "voms_localaccount", env: env},
		useAccountGID: true}
	return newVOMSAccount(argv, p)
}

func newVOMSPoolAccount(argv []string, env *policy.Env) (policy.Plugin, error) {
	p := &vomsAccount{base: base{module: "lcmaps_voms_poolaccount", short: "voms_poolaccount", env: env},
		pool: true, mappings: 1}
	p.dir.Strict = true
	return newVOMSAccount(argv, p)
}

func newVOMSAccount(argv []string, p *vomsAccount) (policy.Plugin, error) {
	p.mapfile.useWild = true
	a := &args{list: argv}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		switch {
		case isUp(opt, "-gridmapfile", "-gridmap"):
			if err := p.fileArg(a, opt, &p.mapfile.path); err != nil {
				return nil, err
			}
		case is(opt, "--use-voms-gid", "--use_voms_gid", "-use_voms_gid"):
			if p.useSet == "--use-account-gid" {
				return nil, p.initErr("cannot specify both %s and --use-account-gid", opt)
			}
			p.useAccountGID, p.useSet = false, "--use-voms-gid"
		case is(opt, "--use-account-gid"):
			if p.useSet == "--use-voms-gid" {
				return nil, p.initErr("cannot specify both %s and --use-voms-gid", opt)
			}
			p.useAccountGID, p.useSet = true, opt
		case is(opt, "--add-primary-gid-from-mapped-account", "--add-primary-gid-as-secondary-gid-from-mapped-account"):
			if p.addPGID < 0 {
				return nil, p.initErr("cannot specify both %s and --do-not-add-primary-gid-from-mapped-account", opt)
			}
			if opt == "--add-primary-gid-from-mapped-account" {
				p.addPGID = 1
			} else {
				p.addPGIDAsSec = true
			}
		case is(opt, "--do-not-add-primary-gid-from-mapped-account"):
			if p.addPGID > 0 || p.addPGIDAsSec {
				return nil, p.initErr("cannot specify both %s and --add-primary-gid-from-mapped-account or --add-primary-gid-as-secondary-gid-from-mapped-account", opt)
			}
			p.addPGID = -1
		case is(opt, "--add-secondary-gids-from-mapped-account"):
			if p.addSGIDs < 0 {
				return nil, p.initErr("cannot specify both %s and --do-not-add-secondary-gids-from-mapped-account", opt)
			}
			p.addSGIDs = 1
		case is(opt, "--do-not-add-secondary-gids-from-mapped-account"):
			if p.addSGIDs > 0 {
				return nil, p.initErr("cannot specify both %s and --add-secondary-gids-from-mapped-account", opt)
			}
			p.addSGIDs = -1
		case p.pool && is(opt, "--require-primary-gid"):
			if p.requirePG < 0 {
				return nil, p.initErr("cannot specify both %s and --do-not-require-primary-gid", opt)
			}
			p.requirePG = 1
		case p.pool && is(opt, "--do-not-require-primary-gid", "-do_not_require_primary_gid", "-do_not-require-primary-gid"):
			if p.requirePG > 0 {
				return nil, p.initErr("cannot specify both %s and --require-primary-gid", opt)
			}
			p.requirePG = -1
		case p.pool && is(opt, "--do-not-use-secondary-gids", "-do_not_use_secondary_gids", "-do_not-use-secondary-gids"):
			p.noSecInKey = true
		default:
			if !p.pool {
				return nil, p.unknown(opt)
			}
			known, err := p.poolOption(a, opt, nil, &p.dir, &p.dirSet, "-gridmapdir", &p.mappings)
			if err != nil {
				return nil, err
			}
			if !known {
				return nil, p.unknown(opt)
			}
		}
	}
	noteDefaultMapfile(&p.base, &p.mapfile)
	if p.pool && !p.dirSet {
		p.log().Infof("%s-plugin_initialize(): No gridmapdir was provided, will try environment variable.", p.module)
	}
	return p, nil
}

func (p *vomsAccount) Run(req *policy.Request, cd *policy.CredData) error {
	return p.done(p.run(req, cd, false))
}

// Verify accepts only the requested account, and for pools only an
// existing lease.
func (p *vomsAccount) Verify(req *policy.Request, cd *policy.CredData) error {
	return p.done(p.run(req, cd, true))
}

// leaseName is the lease: the DN, then the names of the primary and
// (unless disabled) secondary groups already mapped.
func (p *vomsAccount) leaseName(dn string, cd *policy.CredData) string {
	gids := append([]int(nil), cd.PGIDs...)
	if !p.noSecInKey {
		gids = append(gids, cd.SGIDs...)
	}
	names := make([]string, len(gids))
	for i, gid := range gids {
		if g, err := p.accounts().LookupGID(gid); err == nil {
			names[i] = g.Name
		} else {
			names[i] = strconv.Itoa(gid)
		}
	}
	return gridmap.LeaseName(dn, names)
}

func (p *vomsAccount) run(req *policy.Request, cd *policy.CredData, verify bool) error {
	dn := subjectDN(req, cd)
	want, err := p.requestedUser(req)
	if err != nil {
		return err
	}
	if verify && want == "" {
		return p.runErr(logging.Err, failure.Authz, ReasonVerifyMismatch, noRequestInVerify)
	}
	file, dflt := p.gridmapfile(&p.mapfile)
	var dir gridmap.Dir
	var lease string
	if p.pool {
		cd.DN = dn
		if dir, err = p.mapdir(p.dir, p.dirSet, "GRIDMAPDIR", "gridmapdir"); err != nil {
			return err
		}
		if p.requirePG > 0 && len(cd.PGIDs) == 0 {
			return p.runErr(logging.Warning, failure.Authz, ReasonNoPrimaryGID, "failure: no primary group found")
		}
		lease = p.leaseName(dn, cd)
	}
	list := fqans(req)
	if len(list) == 0 {
		return p.runErr(logging.Info, failure.Authz, ReasonNoFQAN, "no (valid) VOMS groups found --> no mapping")
	}
	var account string
	var lastErr error
	for _, fqan := range list {
		res, found, err := gridmap.Lookup(file, gridmap.Query{
			Subject: fqan, Wildcards: p.mapfile.useWild, DefaultFile: dflt,
			Accept: acceptMapping(p.pool, want),
		}, p.log())
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		if !p.pool {
			account = res.Mapping
			break
		}
		var entry string
		if verify {
			entry, err = dir.Leased(res.Mapping[1:], lease)
		} else {
			entry, err = dir.Acquire(res.Mapping[1:], lease, fqan)
		}
		if err == nil {
			account = entry
			break
		}
		// A full pool (or no lease in verification) passes on to the next
		// FQAN; a broken gridmapdir does not.
		switch failure.ReasonOf(err) {
		case gridmap.ReasonPoolExhausted, gridmap.ReasonNoLease:
			lastErr = err
		default:
			return err
		}
	}
	if account == "" {
		where := file
		if p.pool {
			where = file + " and " + dir.Path
		}
		kind := "localaccount"
		if p.pool {
			kind = "poolaccount"
		}
		var e error
		if p.pool {
			e = p.runErr(logging.Notice, failure.Authz, ReasonNoMapping,
				"No match for a VOMS %s for any of the FQANs for user \"%s\", in %s", kind, dn, where)
		} else {
			e = p.runErr(logging.Notice, failure.Authz, ReasonNoMapping,
				"No match for a VOMS %s for any of the FQANs, in %s", kind, where)
		}
		if lastErr != nil {
			return lastErr
		}
		return e
	}
	if want != "" && account != want {
		return p.runErr(logging.Notice, failure.Authz, ReasonVerifyMismatch,
			"the account of \"%s\" is %s, not the requested account %s", dn, account, want)
	}
	u, err := p.lookupUser(account)
	if err != nil {
		return err
	}
	if p.pool {
		cd.PoolIndex = lease
	}
	decide := func(explicit int) bool { return explicit > 0 || explicit == 0 && p.useAccountGID }
	return p.addAccountIDs(cd, u, decide(p.addPGID), p.addPGIDAsSec, decide(p.addSGIDs))
}
