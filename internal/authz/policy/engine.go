package policy

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Reasons the engine gives.
const (
	// ReasonPluginNotFound: a rule names a module no plugin is registered
	// for, typically a plugin variable that was commented out.
	ReasonPluginNotFound failure.Reason = "plugin-not-found"
	// ReasonPluginInit: a plugin rejected its lcmaps.db arguments.
	ReasonPluginInit failure.Reason = "plugin-init"
	// ReasonPluginTwice: one module is used with two different argument
	// strings; LCMAPS loads each module once and refuses this.
	ReasonPluginTwice failure.Reason = "plugin-twice"
	// ReasonPolicyNotFound: a policy was requested by a name lcmaps.db
	// does not define.
	ReasonPolicyNotFound failure.Reason = "policy-not-found"
	// ReasonPolicyLoop: once variables are substituted, a policy's rules
	// lead back to a state already run (LCMAPS loops forever there).
	ReasonPolicyLoop failure.Reason = "policy-loop"
	// ReasonNotMapped: every candidate policy failed and the last plugin
	// gave no reason of its own.
	ReasonNotMapped failure.Reason = "not-mapped"
	// ReasonNoUID: the successful policy produced no uid, or several.
	ReasonNoUID failure.Reason = "no-uid"
	// ReasonNoGID: the successful policy produced no primary gid.
	ReasonNoGID failure.Reason = "no-gid"
	// ReasonNoVerify: verification mode reached a plugin that cannot
	// verify an existing mapping.
	ReasonNoVerify failure.Reason = "plugin-no-verify"
	// ReasonVerifyMismatch: in verification mode the policy confirmed an
	// account other than the one requested.
	ReasonVerifyMismatch failure.Reason = "verify-mismatch"
	// ReasonUnknownAccount: the mapped uid has no passwd entry.
	ReasonUnknownAccount failure.Reason = "unknown-account"
)

// ValidationTuner is implemented by plugins whose options tune credential
// validation (verify_proxy: limited proxies, lifetimes, CA directory).
type ValidationTuner interface {
	TuneValidation(opts *authz.ValidateOptions)
}

// PluginInfo describes one initialised plugin.
type PluginInfo struct {
	lcmapsdb.PluginDef
	Plugin Plugin
}

// Engine is an initialised lcmaps.db: every plugin any policy uses has
// been configured. An Engine may be Run many times; runs are serialised.
type Engine struct {
	db       *lcmapsdb.DB
	env      *Env
	plugins  []*PluginInfo
	bySpec   map[string]*PluginInfo
	policies []*compiled

	mu   sync.Mutex
	last *Trace
}

type compiled struct {
	pol   *lcmapsdb.Policy
	rules []step
	index map[string]int // reduced state → rule
}

// step is a rule with its states resolved to plugins.
type step struct {
	rule               lcmapsdb.Rule
	state, onOK, onErr *PluginInfo
}

// New initialises every plugin referenced by any policy of db, in LCMAPS's
// order, as LCMAPS's initialisation does even for policies that will never
// be selected. A module without a registered plugin, or a plugin rejecting
// its arguments, makes the whole configuration unusable (class System).
func New(db *lcmapsdb.DB, reg Registry, env *Env) (*Engine, error) {
	if env == nil {
		env = &Env{}
	}
	if env.Log == nil {
		env.Log = logging.Discard()
	}
	l := env.Log.LCMAPS()
	defs, err := db.Plugins()
	if err != nil {
		l.Errorf("lcmaps_init() error: could not start plugin manager")
		return nil, failure.Wrap(failure.System, ReasonPluginInit, db.File, err)
	}
	e := &Engine{db: db, env: env, bySpec: make(map[string]*PluginInfo, len(defs))}
	byModule := make(map[string]*PluginInfo, len(defs))
	for i, d := range defs {
		l.Debugf("lcmaps.mod-lcmaps_startPluginManager(): initializing plugin %s (db entry %d)", d.Module, i)
		if prev, ok := byModule[ModuleName(d.Module)]; ok {
			l.Errorf("lcmaps.mod-lcmaps_startPluginManager() error: trying to use plugin %s twice (registered before as %s)", d.Module, prev.Module)
			l.Errorf("lcmaps_init() error: could not start plugin manager")
			return nil, failure.New(failure.System, ReasonPluginTwice, fmt.Sprintf("%s:%d", db.File, d.Line),
				fmt.Sprintf("plugin %s used twice with different arguments (%s at line %d)", d.Module, prev.Name, prev.Line)).
				WithHint("LCMAPS loads a module once: give %s and %s the same arguments or use one variable", d.Name, prev.Name)
		}
		f, ok := reg[ModuleName(d.Module)]
		if !ok {
			l.Errorf("lcmaps.mod-PluginInit(): plugin %s not found (arguments: %s)", d.Module, d.ArgLine)
			l.Errorf("lcmaps.mod-lcmaps_startPluginManager(): error initializing plugin: %s", d.Module)
			l.Errorf("lcmaps_init() error: could not start plugin manager")
			return nil, failure.New(failure.System, ReasonPluginNotFound, fmt.Sprintf("%s:%d", db.File, d.Line),
				fmt.Sprintf("plugin %s not found (arguments: %s)", d.Module, d.ArgLine)).
				WithHint("define %s as a plugin variable before the policies, or remove it from the rules", d.Name)
		}
		p, err := f(d.Args, env)
		if err != nil {
			l.Errorf("lcmaps.mod-PluginInit(): \"plugin_initialize()\" failed")
			l.Errorf("lcmaps.mod-lcmaps_startPluginManager(): error initializing plugin: %s", d.Module)
			l.Errorf("lcmaps_init() error: could not start plugin manager")
			return nil, &failure.Error{Class: failure.System, Reason: ReasonPluginInit,
				Subject: fmt.Sprintf("%s:%d", db.File, d.Line),
				Detail:  fmt.Sprintf("plugin %s (%s) rejected its arguments", d.Name, d.Module), Err: err}
		}
		info := &PluginInfo{PluginDef: d, Plugin: p}
		e.plugins = append(e.plugins, info)
		e.bySpec[d.Spec] = info
		byModule[ModuleName(d.Module)] = info
	}
	for i := range db.Policies {
		pol := &db.Policies[i]
		c := &compiled{pol: pol, index: make(map[string]int, len(pol.Rules))}
		for _, r := range pol.Rules {
			s := step{rule: r, state: e.plugin(r.Plugins[lcmapsdb.StateTerm]),
				onOK: e.plugin(r.Plugins[lcmapsdb.TrueTerm]), onErr: e.plugin(r.Plugins[lcmapsdb.FalseTerm])}
			if _, dup := c.index[s.state.Spec]; !dup {
				c.index[s.state.Spec] = len(c.rules)
			}
			c.rules = append(c.rules, s)
		}
		e.policies = append(e.policies, c)
	}
	return e, nil
}

func (e *Engine) plugin(spec string) *PluginInfo {
	if spec == "" {
		return nil
	}
	return e.bySpec[spec]
}

// ModuleName reduces a module file name as written in lcmaps.db to the
// name plugins are registered under: directories are dropped (plugins are
// compiled in, `path =` does not matter), and the shared-object spellings
// liblcmaps_x.so and lcmaps_x.so mean lcmaps_x.mod.
func ModuleName(module string) string {
	base := path.Base(module)
	if strings.HasSuffix(base, ".so") {
		base = strings.TrimPrefix(strings.TrimSuffix(base, ".so"), "lib") + ".mod"
	}
	return base
}

// DB returns the configuration the engine was built from.
func (e *Engine) DB() *lcmapsdb.DB { return e.db }

// Plugins returns the initialised plugins in initialisation order.
func (e *Engine) Plugins() []*PluginInfo { return e.plugins }

// TuneValidation lets every plugin that tunes credential validation apply
// its options to opts, in initialisation order.
func (e *Engine) TuneValidation(opts *authz.ValidateOptions) {
	for _, p := range e.plugins {
		if t, ok := p.Plugin.(ValidationTuner); ok {
			t.TuneValidation(opts)
		}
	}
}

// RuleInfo is a rule with the plugins its terms resolved to (nil for an
// absent branch).
type RuleInfo struct {
	lcmapsdb.Rule
	StatePlugin, TruePlugin, FalsePlugin *PluginInfo
}

// PolicyInfo is a policy as the engine will run it.
type PolicyInfo struct {
	Name  string
	Line  int
	Rules []RuleInfo
}

// Policies describes every policy in file order, for glexec --check.
func (e *Engine) Policies() []PolicyInfo {
	out := make([]PolicyInfo, 0, len(e.policies))
	for _, c := range e.policies {
		p := PolicyInfo{Name: c.pol.Name, Line: c.pol.Line}
		for _, s := range c.rules {
			p.Rules = append(p.Rules, RuleInfo{Rule: s.rule, StatePlugin: s.state, TruePlugin: s.onOK, FalsePlugin: s.onErr})
		}
		out = append(out, p)
	}
	return out
}

// Step is one plugin run of an evaluation.
type Step struct {
	Policy     string
	PolicyLine int
	Rule       lcmapsdb.Rule // the rule whose state ran; zero for a terminal state
	Plugin     *PluginInfo
	Err        error // nil when the plugin succeeded
}

// Trace is what one Run did, for glexec --check and --map.
type Trace struct {
	Policies []string // candidate policies, in evaluation order
	Steps    []Step
	Policy   string // the policy that succeeded; "" on failure
	Err      error  // Run's error
}

// Failed returns the last failing step, or nil.
func (t *Trace) Failed() *Step {
	for i := len(t.Steps) - 1; i >= 0; i-- {
		if t.Steps[i].Err != nil {
			return &t.Steps[i]
		}
	}
	return nil
}

// LastTrace returns the trace of the most recent Run, or nil.
func (e *Engine) LastTrace() *Trace {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// Run evaluates the named policies, or all policies in file order when
// none is named, as LCMAPS does: each candidate policy starts at its first
// rule with empty credential data; a plugin's success follows the rule's
// true branch, its failure the false branch; a state without a rule of its
// own is terminal; a failure without a false branch moves on to the next
// candidate policy. The first policy to end in success gives the account,
// which must have exactly one uid and at least one primary gid.
//
// On success the credential data's resources (a tracking gid lease) pass
// to the returned account; on failure they are released. The account's
// name, home and shell come from env.Accounts; without one (tests) they
// stay empty.
func (e *Engine) Run(req *Request, policies []string) (*authz.Account, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	tr := &Trace{}
	e.last = tr
	acct, err := e.run(req, policies, tr)
	tr.Err = err
	return acct, err
}

func (e *Engine) run(req *Request, names []string, tr *Trace) (*authz.Account, error) {
	l := e.env.Log.LCMAPS()
	if req.Mode == VerifyAccount {
		l.Debugf("lcmaps.mod-lcmaps_runPluginManager(): Running in verification mode")
	} else {
		l.Debugf("lcmaps.mod-lcmaps_runPluginManager(): Running in normal mode")
	}
	cands, err := e.select_(names)
	if err != nil {
		l.Debugf("evaluationmanager: No more policies to run")
		l.Errorf("lcmaps.mod-lcmaps_runPluginManager(): Error running evaluation manager")
		// lcmaps_run_and_return_account fails as for a denial (the OSG
		// troubleshooting log of a glexec policy left commented out).
		l.Errorf("LCMAPS failed to do mapping and return account information")
		return nil, err
	}
	cd := &CredData{}
	var lastErr error
	var lastStep *Step
	ok := false
	for _, c := range cands {
		tr.Policies = append(tr.Policies, c.pol.Name)
		l.Infof("Starting policy: %s", c.pol.Name)
		l.Debugf("evaluationmanager: Resetting credential data.")
		cd.Reset()
		ok, lastErr, lastStep = e.runPolicy(c, req, cd, tr)
		if ok {
			tr.Policy = c.pol.Name
			break
		}
		if lastStep == nil { // a policy loop: configuration error
			logCredFinal(l, cd)
			cd.Reset()
			return nil, lastErr
		}
	}
	logCredFinal(l, cd)
	if !ok {
		cd.Reset()
		l.Errorf("LCMAPS failed to do mapping and return account information")
		return nil, e.failed(lastStep, lastErr)
	}
	acct, err := e.account(cd, tr.Policy)
	if err == nil && req.Mode == VerifyAccount {
		err = verified(req, acct)
	}
	if err != nil {
		cd.Reset()
		l.Errorf("LCMAPS failed to do mapping and return account information")
		return nil, err
	}
	cd.Keep()
	return acct, nil
}

// select_ returns the candidate policies: the named ones in file order, or
// all of them.
func (e *Engine) select_(names []string) ([]*compiled, error) {
	if len(names) == 0 {
		return e.policies, nil
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		if _, ok := e.db.Policy(n); !ok {
			return nil, failure.New(failure.System, ReasonPolicyNotFound, e.db.File,
				fmt.Sprintf("policy %q not found", n)).
				WithHint("check lcmaps_get_account_policy / lcmaps_verify_account_policy in glexec.conf against the labels in %s", e.db.File)
		}
		want[n] = true
	}
	var out []*compiled
	for _, c := range e.policies {
		if want[c.pol.Name] {
			out = append(out, c)
		}
	}
	return out, nil
}

// runPolicy walks one policy. It returns whether it ended in success, the
// last plugin error and the step that produced it.
func (e *Engine) runPolicy(c *compiled, req *Request, cd *CredData, tr *Trace) (bool, error, *Step) {
	l := e.env.Log.LCMAPS()
	i := 0
	cur := c.rules[0].state
	rule := &c.rules[0]
	// Without loops a policy runs each of its rules at most once, plus
	// one terminal state; more means variables turned a rule into a loop.
	for n := 0; ; n++ {
		if n > len(c.rules) {
			err := failure.New(failure.System, ReasonPolicyLoop, fmt.Sprintf("%s:%d", e.db.File, rule.rule.Line),
				fmt.Sprintf("policy %s: %s leads back to plugin %s after variable substitution", c.pol.Name, rule.rule, cur.Module))
			l.Errorf("%s", err.Error())
			return false, err, nil
		}
		err := e.call(cur, req, cd)
		st := Step{Policy: c.pol.Name, PolicyLine: c.pol.Line, Plugin: cur, Err: err}
		if rule != nil {
			st.Rule = rule.rule
		}
		tr.Steps = append(tr.Steps, st)
		result := "Success"
		if err != nil {
			result = "Failed"
		}
		l.Debugf("Execution of plugin \"%s\". Result: %s.", cur.Module, result)
		var next *PluginInfo
		switch {
		case rule == nil:
			return err == nil, err, &tr.Steps[len(tr.Steps)-1]
		case err == nil:
			next = rule.onOK
			if next == nil {
				return true, nil, &tr.Steps[len(tr.Steps)-1]
			}
		default:
			next = rule.onErr
			if next == nil {
				return false, err, &tr.Steps[len(tr.Steps)-1]
			}
		}
		cur = next
		if j, ok := c.index[next.Spec]; ok {
			i = j
			rule = &c.rules[i]
		} else {
			rule = nil
		}
	}
}

func (e *Engine) call(p *PluginInfo, req *Request, cd *CredData) error {
	if req.Mode != VerifyAccount {
		return p.Plugin.Run(req, cd)
	}
	v, ok := p.Plugin.(Verifier)
	if !ok {
		return failure.New(failure.System, ReasonNoVerify, p.Module, "plugin cannot run in verification mode")
	}
	return v.Verify(req, cd)
}

// failed builds the error of an evaluation in which every candidate
// policy failed: it names the last plugin run, its policy and lcmaps.db
// line, and keeps that plugin's class and reason.
func (e *Engine) failed(st *Step, err error) error {
	if st == nil {
		return failure.New(failure.Authz, ReasonNotMapped, e.db.File, "no policy to evaluate")
	}
	line := st.Rule.Line
	if line == 0 {
		line = st.Plugin.Line
	}
	fe := &failure.Error{
		Class:   failure.Authz,
		Reason:  ReasonNotMapped,
		Subject: fmt.Sprintf("%s:%d", e.db.File, line),
		Detail:  fmt.Sprintf("policy %s: plugin %s (%s) failed", st.Policy, st.Plugin.Name, st.Plugin.Module),
		Err:     err,
	}
	var pe *failure.Error
	if errors.As(err, &pe) {
		fe.Class, fe.Reason = pe.Class, pe.Reason
	}
	return fe
}

// verified checks, in verification mode, that the policy confirmed the
// account that was asked for. LCMAPS leaves this to its plugins; the engine
// checks it again so that a plugin confirming some other account cannot
// pass.
func verified(req *Request, acct *authz.Account) error {
	switch {
	case req.RequestedUID > 0 && acct.UID != req.RequestedUID:
		return failure.New(failure.Authz, ReasonVerifyMismatch, "policy "+acct.Policy,
			fmt.Sprintf("verified uid %d, requested %d", acct.UID, req.RequestedUID))
	case req.RequestedUser != "" && acct.User != "" && acct.User != req.RequestedUser:
		return failure.New(failure.Authz, ReasonVerifyMismatch, "policy "+acct.Policy,
			fmt.Sprintf("verified account %s, requested %s", acct.User, req.RequestedUser))
	}
	return nil
}

// account checks the credential data of a successful policy and turns it
// into an Account.
func (e *Engine) account(cd *CredData, policy string) (*authz.Account, error) {
	l := e.env.Log.LCMAPS()
	switch {
	case len(cd.UIDs) == 0:
		l.Debugf("LCMAPS could not find any uid")
		return nil, failure.New(failure.Authz, ReasonNoUID, "policy "+policy, "LCMAPS could not find any uid")
	case len(cd.UIDs) > 1:
		msg := fmt.Sprintf("LCMAPS found %d uids, only 1 allowed", len(cd.UIDs))
		l.Debugf("%s", msg)
		return nil, failure.New(failure.System, ReasonNoUID, "policy "+policy, msg)
	case len(cd.PGIDs) == 0:
		l.Debugf("LCMAPS could not find any gid, at least one required!")
		return nil, failure.New(failure.Authz, ReasonNoGID, "policy "+policy, "LCMAPS could not find any gid, at least one required!")
	}
	acct := &authz.Account{
		UID:           cd.UIDs[0],
		PGIDs:         append([]int(nil), cd.PGIDs...),
		SGIDs:         append([]int(nil), finalSGIDs(cd)...),
		PoolIndex:     cd.PoolIndex,
		Policy:        policy,
		TrackingGID:   cd.TrackingGID,
		TrackingLease: cd.TrackingLease,
		VOMappings:    append([]authz.VOMapping(nil), cd.VOMappings...),
	}
	if e.env.Accounts != nil {
		u, err := e.env.Accounts.LookupUID(acct.UID)
		if err != nil {
			return nil, failure.Wrap(failure.System, ReasonUnknownAccount, fmt.Sprintf("uid %d", acct.UID), err).
				WithHint("the mapping names a uid without a passwd entry on this node")
		}
		acct.User, acct.Home, acct.Shell = u.Name, u.Home, u.Shell
	}
	return acct, nil
}
