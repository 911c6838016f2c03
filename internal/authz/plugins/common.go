package plugins

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/gridmap"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Reasons the plugins give.
const (
	// ReasonBadOption: a plugin option in lcmaps.db is unknown or invalid.
	ReasonBadOption failure.Reason = "plugin-option-invalid"
	// ReasonNoMapping: the credential has no acceptable entry in the
	// grid-mapfile or group-mapfile.
	ReasonNoMapping failure.Reason = "no-mapping"
	// ReasonBanned: the DN or an FQAN is on a ban list.
	ReasonBanned failure.Reason = "banned"
	// ReasonNoAccount: a mapped account does not exist in the password file.
	ReasonNoAccount failure.Reason = "account-missing"
	// ReasonNoGroup: a mapped group does not exist in the group file.
	ReasonNoGroup failure.Reason = "group-missing"
	// ReasonAccountDB: the password or group file cannot be read.
	ReasonAccountDB failure.Reason = "account-db-unreadable"
	// ReasonNoFQAN: a VOMS plugin found no FQANs to map.
	ReasonNoFQAN failure.Reason = "no-fqans"
	// ReasonTooFewGroups: fewer FQANs mapped to groups than -mapmin or
	// -mapall demand.
	ReasonTooFewGroups failure.Reason = "too-few-groups"
	// ReasonNoPrimaryGID: --require-primary-gid and no primary gid yet.
	ReasonNoPrimaryGID failure.Reason = "no-primary-gid"
	// ReasonIDLimits: posix_enf found no, too many, or root ids.
	ReasonIDLimits failure.Reason = "id-limits"
	// ReasonRootMapping: the mapping would run the payload as root.
	ReasonRootMapping failure.Reason = "root-mapping"
	// ReasonDummyBad: lcmaps_dummy_bad.mod fails by design.
	ReasonDummyBad failure.Reason = "dummy-bad"
	// ReasonLimitedProxy: the limited-proxy policy of verify_proxy refused
	// the chain.
	ReasonLimitedProxy failure.Reason = "limited-proxy-policy"
	// ReasonLifetime: a proxy or VOMS lifetime exceeds the configured limit.
	ReasonLifetime failure.Reason = "lifetime-policy"
	// ReasonVOMSValidity: a VOMS AC is not yet or no longer valid.
	ReasonVOMSValidity failure.Reason = "voms-validity"
	// ReasonVerifyMismatch: in verification mode the existing mapping is
	// not the requested account.
	ReasonVerifyMismatch failure.Reason = "verify-mismatch"
	// ReasonIllegalRequest: the caller requested uid 0.
	ReasonIllegalRequest failure.Reason = "illegal-request"
)

// gridSecurityDir is where LCMAPS resolves relative file names when it
// runs privileged. A variable only so tests can move it.
var gridSecurityDir = "/etc/grid-security"

// base is what every plugin shares: its LCMAPS name for log lines and its
// environment.
type base struct {
	module string // log prefix: "lcmaps_localaccount"
	short  string // in "<short> plugin succeeded"
	env    *policy.Env
}

func (b *base) log() *logging.Logger {
	if b.env == nil || b.env.Log == nil {
		return discard
	}
	return b.env.Log
}

var discard = logging.Discard()

func (b *base) accounts() *accounts.DB {
	if b.env == nil || b.env.Accounts == nil {
		return accounts.System
	}
	return b.env.Accounts
}

// done logs the outcome line every plugin ends its run with.
func (b *base) done(err error) error {
	if err != nil {
		b.log().Infof("%s-plugin_run(): %s plugin failed", b.module, b.short)
	} else {
		b.log().Infof("%s-plugin_run(): %s plugin succeeded", b.module, b.short)
	}
	return err
}

// initErr logs an initialisation error in LCMAPS's words and returns it.
func (b *base) initErr(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	b.log().Errorf("%s-plugin_initialize(): %s", b.module, msg)
	return failure.New(failure.System, ReasonBadOption, b.module+".mod", msg).
		WithHint("fix the plugin's arguments in lcmaps.db")
}

func (b *base) unknown(opt string) error {
	return b.initErr("Unknown argument for plugin: %s (failure)", opt)
}

// runErr logs a run-time message at priority p and returns a classified
// error carrying the same text.
func (b *base) runErr(p logging.Priority, class failure.Class, reason failure.Reason, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	b.log().Log(p, "%s-plugin_run(): %s", b.module, msg)
	return failure.New(class, reason, b.module+".mod", msg)
}

// is reports whether opt is one of names, spelt exactly.
func is(opt string, names ...string) bool {
	for _, n := range names {
		if opt == n {
			return true
		}
	}
	return false
}

// isUp is is, also accepting the names in upper case: the C plugins take
// "-GRIDMAPFILE" and the like for their file, directory and
// -override_inconsistency options only.
func isUp(opt string, names ...string) bool {
	for _, n := range names {
		if opt == n || opt == strings.ToUpper(n) {
			return true
		}
	}
	return false
}

// args walks plugin arguments.
type args struct {
	list []string
	i    int
}

func (a *args) next() (string, bool) {
	if a.i >= len(a.list) {
		return "", false
	}
	a.i++
	return a.list[a.i-1], true
}

// value returns the option's value, or false when there is none.
func (a *args) value() (string, bool) {
	if a.i >= len(a.list) || a.list[a.i] == "" {
		return "", false
	}
	a.i++
	return a.list[a.i-1], true
}

// fileArg reads a file option's value into dst, resolved as LCMAPS does:
// privileged, a relative name is taken below /etc/grid-security and must
// exist.
func (b *base) fileArg(a *args, opt string, dst *string) error {
	v, ok := a.value()
	if !ok {
		return b.initErr("option %s needs to be followed by valid filename", opt)
	}
	f, err := b.resolve(v)
	if err == nil {
		*dst = f
	}
	return err
}

func (b *base) resolve(name string) (string, error) {
	if filepath.IsAbs(name) || b.env == nil || !b.env.Privileged {
		return name, nil
	}
	p := filepath.Join(gridSecurityDir, name)
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("Cannot stat \"%s\": %s.", p, gridmap.Strerror(err))
		b.log().Errorf("lcmaps_get_prefixed_file: %s", msg)
		return "", failure.Wrap(failure.System, ReasonBadOption, b.module+".mod", err).
			WithHint("give an absolute path, or create %s", p)
	}
	return p, nil
}

// atoiStrict parses the plugin number formats: decimal digits only.
func atoiStrict(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// subjectDN is the DN plugins map: one registered by an earlier plugin,
// else the credential's.
func subjectDN(req *policy.Request, cd *policy.CredData) string {
	if cd.DN != "" {
		return cd.DN
	}
	if req != nil && req.Cred != nil {
		return req.Cred.DN
	}
	return ""
}

func fqans(req *policy.Request) []string {
	if req == nil || req.Cred == nil {
		return nil
	}
	return req.Cred.FQANs
}

// lookupUser finds a mapped account, failing as LCMAPS does.
func (b *base) lookupUser(name string) (accounts.User, error) {
	u, err := b.accounts().LookupUser(name)
	if err == nil {
		return u, nil
	}
	if errors.Is(err, accounts.ErrNotFound) {
		b.log().Warningf("%s-plugin_run(): no user account found with the name \"%s\"", b.module, name)
		return u, failure.Wrap(failure.System, ReasonNoAccount, name, err).
			WithHint("create the account or fix the mapfile")
	}
	b.log().Errorf("%s-plugin_run(): cannot look up the user account \"%s\": %v", b.module, name, err)
	return u, failure.Wrap(failure.System, ReasonAccountDB, name, err)
}

// lookupGroup finds a mapped group, failing as LCMAPS does.
func (b *base) lookupGroup(name string) (accounts.Group, error) {
	g, err := b.accounts().LookupGroup(name)
	if err == nil {
		return g, nil
	}
	if errors.Is(err, accounts.ErrNotFound) {
		b.log().Errorf("%s-plugin_run(): no group found with the name \"%s\"", b.module, name)
		return g, failure.Wrap(failure.System, ReasonNoGroup, name, err).
			WithHint("create the group or fix the group-mapfile")
	}
	b.log().Errorf("%s-plugin_run(): cannot look up the group \"%s\": %v", b.module, name, err)
	return g, failure.Wrap(failure.System, ReasonAccountDB, name, err)
}

// addAccountIDs adds an account's uid, and optionally its primary gid and
// its secondary gids (getgrouplist, which includes the primary gid).
func (b *base) addAccountIDs(cd *policy.CredData, u accounts.User, pgid, pgidAsSec, sgids bool) error {
	cd.AddUID(u.UID)
	if pgid {
		cd.AddPGID(u.GID)
	}
	if pgidAsSec {
		cd.AddSGID(u.GID)
	}
	if sgids {
		list, err := b.accounts().GroupList(u.Name, u.GID)
		if err != nil {
			return failure.Wrap(failure.System, ReasonAccountDB, u.Name, err)
		}
		for _, g := range list {
			cd.AddSGID(g)
		}
	}
	return nil
}
