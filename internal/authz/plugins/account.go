package plugins

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/gridmap"
	"github.com/glexec-ng/glexec/internal/logging"
)

// mapfileOpt is the grid-mapfile option shared by the account plugins.
type mapfileOpt struct {
	path    string // "" = the default grid-mapfile, resolved at run time
	useWild bool
}

// gridmapfile returns the file to read: the configured one, or LCMAPS's
// default ($GRIDMAP, $GLOBUSMAP, $globusmap, $GlobusMap, then the system
// grid-mapfile when privileged or ~/.gridmap otherwise).
func (b *base) gridmapfile(m *mapfileOpt) (string, bool) {
	if m.path != "" {
		return m.path, false
	}
	for _, v := range []string{"GRIDMAP", "GLOBUSMAP", "globusmap", "GlobusMap"} {
		if s := b.env.Var(v); s != "" {
			return s, true
		}
	}
	if b.env == nil || b.env.Privileged {
		return filepath.Join(gridSecurityDir, "grid-mapfile"), true
	}
	return filepath.Join(b.env.Var("HOME"), ".gridmap"), true
}

// acceptMapping is which grid-mapfile mappings a plugin takes: pool
// entries (".prefix") for the pool plugins, otherwise plain accounts, and
// then only the one the caller requested, if it requested one.
func acceptMapping(pool bool, want string) func(string) bool {
	return func(m string) bool {
		switch {
		case pool:
			return strings.HasPrefix(m, ".")
		case want != "":
			return m == want
		}
		return !strings.HasPrefix(m, ".")
	}
}

func noteDefaultMapfile(b *base, m *mapfileOpt) {
	if m.path == "" {
		b.log().Infof("%s-plugin_initialize(): No grid-mapfile was provided, will use default.", b.module)
	}
}

// noRequestInVerify is LCMAPS's complaint about verification without a
// requested account.
const noRequestInVerify = "both requested_username and requested_uid are unset, need at least one in PLUGIN_VERIFY mode"

// requestedUser resolves the account a caller asked for: by name, or by
// uid (uid 0 is never accepted).
func (b *base) requestedUser(req *policy.Request) (string, error) {
	if req == nil {
		return "", nil
	}
	if req.RequestedUID == 0 {
		return "", b.runErr(logging.Err, failure.Authz, ReasonIllegalRequest, "illegal request for uid == 0 (failure)")
	}
	if req.RequestedUser != "" {
		return req.RequestedUser, nil
	}
	if req.RequestedUID > 0 {
		u, err := b.accounts().LookupUID(req.RequestedUID)
		if err != nil {
			return "", b.runErr(logging.Warning, failure.Authz, ReasonVerifyMismatch,
				"no user account found with uid %d", req.RequestedUID)
		}
		return u.Name, nil
	}
	return "", nil
}

// localAccount is lcmaps_localaccount.mod: DN → account through the
// grid-mapfile, exact DN match, first entry not naming a pool.
type localAccount struct {
	base
	mapfile mapfileOpt
}

func newLocalAccount(argv []string, env *policy.Env) (policy.Plugin, error) {
	p := &localAccount{base: base{module: "lcmaps_localaccount", short: "localaccount", env: env}}
	a := &args{list: argv}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		switch {
		case isUp(opt, "-gridmapfile", "-gridmap"):
			if err := p.fileArg(a, opt, &p.mapfile.path); err != nil {
				return nil, err
			}
		default:
			return nil, p.unknown(opt)
		}
	}
	noteDefaultMapfile(&p.base, &p.mapfile)
	return p, nil
}

func (p *localAccount) Run(req *policy.Request, cd *policy.CredData) error {
	return p.done(p.run(req, cd))
}

// Verify accepts only the requested account, and only if the grid-mapfile
// maps the DN to it.
func (p *localAccount) Verify(req *policy.Request, cd *policy.CredData) error {
	if req == nil || (req.RequestedUser == "" && req.RequestedUID < 0) {
		return p.done(p.runErr(logging.Err, failure.Authz, ReasonVerifyMismatch, noRequestInVerify))
	}
	return p.done(p.run(req, cd))
}

func (p *localAccount) run(req *policy.Request, cd *policy.CredData) error {
	dn := subjectDN(req, cd)
	cd.DN = dn
	want, err := p.requestedUser(req)
	if err != nil {
		return err
	}
	file, dflt := p.gridmapfile(&p.mapfile)
	res, found, err := gridmap.Lookup(file, gridmap.Query{
		Subject:     dn,
		DefaultFile: dflt,
		Accept:      acceptMapping(false, want),
	}, p.log())
	if err != nil {
		return err
	}
	if !found && want != "" {
		return p.runErr(logging.Notice, failure.Authz, ReasonNoMapping,
			"No match for requested localaccount %s for user \"%s\", in %s", want, dn, file)
	}
	if !found {
		return p.runErr(logging.Notice, failure.Authz, ReasonNoMapping,
			"No match for a localaccount for user \"%s\", in %s", dn, file)
	}
	u, err := p.lookupUser(res.Mapping)
	if err != nil {
		return err
	}
	return p.addAccountIDs(cd, u, true, false, true)
}

// poolAccount is lcmaps_poolaccount.mod: DN → pool through the
// grid-mapfile, then a lease in the gridmapdir.
type poolAccount struct {
	base
	mapfile  mapfileOpt
	dir      gridmap.Dir
	dirSet   bool
	mappings int
}

// poolOptions parses the options the pool plugins share. It reports false
// for an option it does not know.
func (b *base) poolOption(a *args, opt string, m *mapfileOpt, d *gridmap.Dir, dirSet *bool, dirOpt string, mappings *int) (bool, error) {
	switch {
	case dirOpt != "" && isUp(opt, dirOpt):
		v, ok := a.value()
		if !ok || !filepath.IsAbs(v) {
			return true, b.initErr("option %s needs to be followed by a valid absolute directory.", opt)
		}
		d.Path, *dirSet = v, true
	case isUp(opt, "-override_inconsistency"):
		d.Override = true
	case mappings != nil && is(opt, "-max_mappings_per_credential"):
		v, _ := a.value()
		n, ok := atoiStrict(v)
		if !ok || n < 1 || n > 9999 {
			return true, b.initErr("Illegal value for \"%s\" (%s): Should be in the range: 1-9999 (failure)", opt, v)
		}
		*mappings = n
	case is(opt, "-strict_poolprefix_match"):
		switch v, _ := a.value(); v {
		case "yes":
			d.Strict = true
		case "no":
			d.Strict = false
		default:
			return true, b.initErr("use \"yes\" or \"no\" for option %s", opt)
		}
	case m != nil && is(opt, "-no_wildcard", "-disablewildcard", "-disablewildcards", "--disablewildcard", "--disablewildcards"):
		m.useWild = false
	default:
		return false, nil
	}
	return true, nil
}

func newPoolAccount(argv []string, env *policy.Env) (policy.Plugin, error) {
	p := &poolAccount{base: base{module: "lcmaps_poolaccount", short: "poolaccount", env: env}, mappings: 1}
	p.mapfile.useWild = true
	p.dir.Strict = true
	a := &args{list: argv}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		if isUp(opt, "-gridmapfile", "-gridmap") {
			if err := p.fileArg(a, opt, &p.mapfile.path); err != nil {
				return nil, err
			}
			continue
		}
		known, err := p.poolOption(a, opt, &p.mapfile, &p.dir, &p.dirSet, "-gridmapdir", &p.mappings)
		if err != nil {
			return nil, err
		}
		if !known {
			return nil, p.unknown(opt)
		}
	}
	noteDefaultMapfile(&p.base, &p.mapfile)
	if !p.dirSet {
		p.log().Infof("%s-plugin_initialize(): No gridmapdir was provided, will try environment variable.", p.module)
	}
	return p, nil
}

// gridmapdir returns the configured directory or $GRIDMAPDIR (or
// $GROUPMAPDIR for group pools).
func (b *base) mapdir(d gridmap.Dir, set bool, envVar, what string) (gridmap.Dir, error) {
	d.Log = b.log()
	if b.env != nil {
		d.Now = b.env.Now
	}
	if !set {
		d.Path = b.env.Var(envVar)
	}
	if d.Path == "" {
		msg := fmt.Sprintf("%s is unset: specify via cmdline or %s environment variable", what, envVar)
		if what == "gridmapdir" {
			b.log().Errorf("lcmaps_gridmapdir-get_default_mapdir: %s", msg)
		} else {
			b.log().Errorf("%s-plugin_run(): %s", b.module, msg)
		}
		return d, failure.New(failure.System, gridmap.ReasonGridmapdirUnusable, b.module+".mod", msg)
	}
	return d, nil
}

func (p *poolAccount) Run(req *policy.Request, cd *policy.CredData) error {
	return p.done(p.run(req, cd, false))
}

// Verify accepts only an existing lease to the requested account.
func (p *poolAccount) Verify(req *policy.Request, cd *policy.CredData) error {
	return p.done(p.run(req, cd, true))
}

func (p *poolAccount) run(req *policy.Request, cd *policy.CredData, verify bool) error {
	dn := subjectDN(req, cd)
	cd.DN = dn
	want, err := p.requestedUser(req)
	if err != nil {
		return err
	}
	if verify && want == "" {
		return p.runErr(logging.Err, failure.Authz, ReasonVerifyMismatch, noRequestInVerify)
	}
	file, dflt := p.gridmapfile(&p.mapfile)
	dir, err := p.mapdir(p.dir, p.dirSet, "GRIDMAPDIR", "gridmapdir")
	if err != nil {
		return err
	}
	res, found, err := gridmap.Lookup(file, gridmap.Query{
		Subject: dn, Wildcards: p.mapfile.useWild, DefaultFile: dflt,
		Accept: acceptMapping(true, ""),
	}, p.log())
	if err != nil {
		return err
	}
	noMatch := func(cause error) error {
		e := p.runErr(logging.Notice, failure.Authz, ReasonNoMapping,
			"No match for a poolaccount for user \"%s\", in %s and %s", dn, file, dir.Path)
		if cause != nil {
			return cause
		}
		return e
	}
	if !found {
		return noMatch(nil)
	}
	pool := res.Mapping[1:]
	lease := gridmap.LeaseName(dn, nil)
	var entry string
	if verify {
		entry, err = dir.Leased(pool, lease)
	} else {
		entry, err = dir.Acquire(pool, lease, dn)
	}
	if err != nil {
		if failure.ReasonOf(err) == gridmap.ReasonLeaseLinks {
			return err
		}
		return noMatch(err)
	}
	if want != "" && entry != want {
		return p.runErr(logging.Notice, failure.Authz, ReasonVerifyMismatch,
			"the lease of \"%s\" is %s, not the requested account %s", dn, entry, want)
	}
	u, err := p.lookupUser(entry)
	if err != nil {
		return err
	}
	cd.PoolIndex = lease
	return p.addAccountIDs(cd, u, true, false, true)
}
