package policy

import (
	"sort"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Plugin is one configured LCMAPS module: a line of lcmaps.db such as
// gridmapfile = "lcmaps_localaccount.mod" "-gridmap /etc/grid-security/grid-mapfile".
//
// Run returns nil for LCMAPS_MOD_SUCCESS and an error for LCMAPS_MOD_FAIL.
// A failing plugin logs its own LCMAPS-style lines; the error it returns
// should be a *failure.Error whose Reason says why, so that glexec --check
// can name the plugin and the cause.
type Plugin interface {
	Run(req *Request, cd *CredData) error
}

// Verifier is implemented by plugins that take part in LCMAPS's
// verification mode (plugin_verify): they accept only an existing mapping
// matching the requested account and never create one.
type Verifier interface {
	Verify(req *Request, cd *CredData) error
}

// Factory configures a plugin from its lcmaps.db arguments (the argument
// string after the module name, split as LCMAPS splits it). Errors are
// initialisation failures and make the whole configuration unusable.
type Factory func(args []string, env *Env) (Plugin, error)

// Registry maps LCMAPS module names ("lcmaps_localaccount.mod") to
// factories. It is built explicitly by the plugins package; there is no
// global registration.
type Registry map[string]Factory

// Mode is LCMAPS's run mode.
type Mode int

const (
	// GetAccount is normal mode: find or create a mapping.
	GetAccount Mode = iota
	// VerifyAccount is verification mode: confirm a requested mapping.
	VerifyAccount
)

// Env is what plugins may use of the node. Everything a plugin touches
// outside its arguments comes through here, so tests can replace it.
type Env struct {
	Accounts *accounts.DB
	Log      *logging.Logger // the LCMAPS logger ("lcmaps: " prefix)
	Now      func() time.Time

	// Privileged is true when running as root or setuid: relative file
	// names in plugin arguments then resolve against /etc/grid-security,
	// as LCMAPS resolves them, instead of the working directory.
	Privileged bool

	// Vars holds the environment variables LCMAPS plugins consult
	// (GRIDMAP, GRIDMAPDIR, X509_CERT_DIR, ...). The front end fills it only
	// for a root caller or a non-setuid build; otherwise it is empty, so
	// nothing from a caller's environment changes the configuration.
	Vars map[string]string

	// StateDir is glexec's root-owned state directory (tracking gid leases,
	// the mapping-service decision cache live below it).
	StateDir string

	// DryRun is set by --map and --check: plugins must not leave lasting
	// state behind (a tracking gid leased in a dry run is released before
	// the process exits).
	DryRun bool

	// LoggingOnly is set when glexec is not installed setuid: it maps and
	// logs, and the payload runs as the caller with the caller's groups,
	// so plugins must not take resources for the mapped account (the
	// tracking plugin leases no gid: it could not write the state
	// directory, and no process would carry the gid).
	LoggingOnly bool
}

// Var returns an environment variable from Vars, or "".
func (e *Env) Var(name string) string {
	if e == nil || e.Vars == nil {
		return ""
	}
	return e.Vars[name]
}

// Request is the input of one evaluation.
type Request struct {
	Cred *authz.Credential
	Mode Mode

	// RequestedUser and RequestedUID select a target account (verification
	// mode, or a caller asking for a specific account); "" and -1 when unset.
	RequestedUser string
	RequestedUID  int

	// CallerUID and CallerPID identify the pilot; tracking leases record
	// them. PilotProxy is the caller's X509_USER_PROXY (read as the caller),
	// used by mapping-service callouts to authenticate; nil when not given.
	CallerUID  int
	CallerPID  int
	PilotProxy []byte
}

// CredData accumulates what plugins find during one policy, with the
// semantics of LCMAPS's credential store: uids and primary gids are lists
// (callers demand exactly one uid), secondary gids a sorted set.
type CredData struct {
	DN         string
	UIDs       []int
	PGIDs      []int
	SGIDs      []int
	VOMappings []authz.VOMapping
	PoolIndex  string

	TrackingGID   int
	TrackingLease string

	onReset []func()
}

// AddUID appends a uid.
func (cd *CredData) AddUID(uid int) { cd.UIDs = append(cd.UIDs, uid) }

// AddPGID appends a primary gid.
func (cd *CredData) AddPGID(gid int) { cd.PGIDs = append(cd.PGIDs, gid) }

// AddSGID inserts a secondary gid, keeping the set sorted and unique.
func (cd *CredData) AddSGID(gid int) {
	i := sort.SearchInts(cd.SGIDs, gid)
	if i < len(cd.SGIDs) && cd.SGIDs[i] == gid {
		return
	}
	cd.SGIDs = append(cd.SGIDs, 0)
	copy(cd.SGIDs[i+1:], cd.SGIDs[i:])
	cd.SGIDs[i] = gid
}

// AddVOMapping records an FQAN → group mapping.
func (cd *CredData) AddVOMapping(m authz.VOMapping) { cd.VOMappings = append(cd.VOMappings, m) }

// OnReset registers f to run when the data is discarded: when evaluation
// moves on to another policy, or the whole evaluation fails. Plugins that
// take resources (a tracking gid lease) release them here so that a failed
// request leaves nothing behind.
func (cd *CredData) OnReset(f func()) { cd.onReset = append(cd.onReset, f) }

// Reset discards everything gathered, releasing what plugins registered.
func (cd *CredData) Reset() {
	for i := len(cd.onReset) - 1; i >= 0; i-- {
		cd.onReset[i]()
	}
	*cd = CredData{}
}

// Keep hands the gathered resources over to the caller: after Keep, Reset
// no longer releases them (the tracking lease now belongs to the payload).
func (cd *CredData) Keep() { cd.onReset = nil }
