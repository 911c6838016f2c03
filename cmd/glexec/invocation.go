package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/authz/plugins"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/buildcfg"
	"github.com/glexec-ng/glexec/internal/config"
	"github.com/glexec-ng/glexec/internal/diagnose"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/frontend"
	"github.com/glexec-ng/glexec/internal/logging"
	"github.com/glexec-ng/glexec/internal/privop"
	"github.com/glexec-ng/glexec/internal/proxy"
	"github.com/glexec-ng/glexec/internal/tracking"
)

func init() {
	// privop.DoAs switches the fsuid of whichever thread it locks; keeping
	// main on its own thread means a failed restore can never strand the
	// main goroutine on a thread with the wrong identity.
	runtime.LockOSThread()
}

// lcmapsVars are the variables LCMAPS and its plugins consult. They reach
// the plugins only when the caller may steer the configuration (root, or a
// non-setuid install).
var lcmapsVars = []string{"GRIDMAP", "GRIDMAPDIR", "X509_CERT_DIR", "X509_VOMS_DIR", "LCMAPS_POLICY_NAME"}

// invocation is one call of glexec, built up step by step.
type invocation struct {
	snap *env.Snapshot
	args frontend.Args

	caller      privop.Identity
	callerName  string
	callerGroup string
	// privileged: effective uid 0, so the identity switch is possible.
	// A non-setuid install is "logging-only": it maps and logs, and runs
	// the payload as the caller.
	privileged bool
	// trusted: the caller may steer the configuration (--config,
	// X509_CERT_DIR, ...): root, or a non-setuid install.
	trusted bool

	cfg *config.Config
	log *logging.Logger

	cred   *authz.Credential
	acct   *authz.Account
	client *proxy.File
	source *proxy.File

	// handedOver: the tracking lease now belongs to the payload (glexec
	// exec'ed it or the helper, keeping its pid), so close must not
	// release it.
	handedOver bool
	// early: the sandbox helper, started but not yet given a request.
	early *earlyHelper
}

func newInvocation(snap *env.Snapshot, args frontend.Args) (*invocation, error) {
	caller, err := privop.Caller()
	if err != nil {
		return nil, err
	}
	inv := &invocation{
		snap:       snap,
		args:       args,
		caller:     caller,
		privileged: os.Geteuid() == 0,
		trusted:    !privop.Elevated(),
	}
	confPath := buildcfg.ConfigFile
	if args.Config != "" {
		if !inv.trusted {
			return nil, failure.New(failure.Client, reasonRootOnly, "--config",
				"only root (or a non-setuid glexec) may choose another configuration file")
		}
		confPath = args.Config
	}
	if inv.privileged {
		if err := config.CheckFilePerms(confPath); err != nil {
			return nil, err
		}
	}
	cfg, warnings, err := config.Load(confPath)
	if err != nil {
		return nil, err
	}
	inv.cfg = cfg
	inv.log, err = logging.New(logging.Options{
		Destination: cfg.LogDestination,
		File:        cfg.LogFile,
		Facility:    cfg.SyslogFacility,
		Level:       cfg.LogLevel,
		LCMAPSLevel: cfg.LCMAPSDebugLevel,
		LCMAPSFile:  cfg.LCMAPSLogFile,
	})
	if err != nil {
		return nil, failure.Wrap(failure.System, "log-unusable", confPath, err).
			WithHint("fix log_destination / log_file, or make sure a syslog daemon listens on /dev/log")
	}
	for _, w := range warnings {
		inv.log.Warningf("%s", w)
	}
	if id := snap.ID(); id.Set {
		inv.log.Infof("GLEXEC_ID: %s", id.Value)
	}
	u, err := accounts.System.LookupUID(caller.UID)
	if err != nil {
		return nil, inv.logged(failure.Wrap(failure.Authz, reasonUnknownCaller, fmt.Sprintf("uid %d", caller.UID), err))
	}
	inv.callerName = u.Name
	inv.callerGroup = groupName(caller.GID)
	if args.Mode == frontend.Sweep {
		if caller.UID != 0 {
			return nil, inv.logged(failure.New(failure.Client, reasonRootOnly, "--sweep", "only root may sweep orphaned payloads"))
		}
		return inv, nil
	}
	if !cfg.UserWhiteList.Allows(u.Name) {
		return nil, inv.logged(failure.New(failure.Authz, reasonNotWhitelisted, u.Name,
			"the caller is not in user_white_list").
			WithHint("add %s (or its pool prefix) to user_white_list in %s", u.Name, confPath))
	}
	return inv, nil
}

// logged writes err to glexec's log and returns it.
func (inv *invocation) logged(err error) error {
	inv.log.Errorf("%v", err)
	return err
}

// report turns the outcome of a non-payload mode into an exit code.
func (inv *invocation) report(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "[gLExec]:  %v\n", err)
	if h := failure.HintOf(err); h != "" {
		fmt.Fprintf(os.Stderr, "[gLExec]:  %s\n", h)
	}
	return frontend.ExitCode(err)
}

func (inv *invocation) close() {
	if inv.early != nil {
		inv.early.stop()
	}
	if inv.acct != nil && inv.acct.TrackingLease != "" && !inv.handedOver {
		if err := tracking.Release(inv.acct.TrackingLease); err != nil {
			inv.log.Warningf("releasing tracking lease %s: %v", inv.acct.TrackingLease, err)
		}
	}
	inv.log.Close()
}

// mapCredential reads and validates the caller's proxy and maps it with
// the lcmaps.db policy: steps 4 and 5 of a call, shared by --map and a
// real run.
func (inv *invocation) mapCredential() error {
	cfg := inv.cfg
	if inv.privileged {
		if err := config.CheckFilePerms(cfg.LCMAPSDBFile); err != nil {
			return inv.lcmapsInitFailed(err, nil)
		}
	}
	db, diags, err := lcmapsdb.ReadFile(cfg.LCMAPSDBFile)
	lcmapsdb.Log(inv.log.LCMAPS(), diags)
	if err != nil {
		return inv.lcmapsInitFailed(err, diags)
	}
	penv := &policy.Env{
		Accounts:   accounts.System,
		Log:        inv.log.LCMAPS(),
		Now:        time.Now,
		Privileged: inv.privileged,
		// A non-setuid install runs the payload as the caller.
		LoggingOnly: !inv.privileged,
		StateDir:    buildcfg.StateDir,
		DryRun:      inv.args.Mode != frontend.Run,
	}
	if inv.trusted {
		penv.Vars = inv.snap.Vars(lcmapsVars...)
	}
	engine, err := policy.New(db, plugins.Registry(), penv)
	if err != nil {
		return inv.lcmapsInitFailed(err, diags)
	}

	// Credential validation: site settings, then the overrides a trusted
	// caller may set, then verify_proxy's options.
	vopts := cfg.Validation.Options()
	if inv.trusted {
		if v := inv.snap.CertDir(); v.Set && v.Value != "" {
			vopts.CertDir = v.Value
		}
		if v := inv.snap.VOMSDir(); v.Set && v.Value != "" {
			vopts.VOMSDir = v.Value
		}
	}
	engine.TuneValidation(&vopts)
	if vopts.CertDir == "" {
		vopts.CertDir = authz.DefaultCertDir
	}
	if inv.privileged {
		if err := config.CheckTree(vopts.CertDir); err != nil {
			return inv.logged(err)
		}
	}

	allowNoKey := cfg.OmissionPrivateKeyWL.Allows(inv.callerName)
	if err := inv.readProxies(allowNoKey); err != nil {
		return err
	}
	vopts.AllowMissingKey = allowNoKey
	cred, err := authz.Validate(inv.client.Data, vopts)
	if err != nil {
		return inv.logged(err)
	}
	for _, d := range cred.DroppedACs {
		inv.log.Warningf("VOMS attributes of VO %q ignored: %v", d.VO, d.Err)
	}
	inv.cred = cred

	var policies []string
	if cfg.LCMAPSGetAccountPolicy != "" {
		policies = []string{cfg.LCMAPSGetAccountPolicy}
	}
	acct, err := engine.Run(&policy.Request{
		Cred:         cred,
		Mode:         policy.GetAccount,
		RequestedUID: -1,
		CallerUID:    inv.caller.UID,
		CallerPID:    os.Getppid(),
		PilotProxy:   inv.client.Data,
	}, policies)
	if err != nil {
		inv.log.Errorf("  LCMAPS failed.")
		// gLExec's two lines, the second aligned under the first's text,
		// then one line saying what failed and where.
		fmt.Fprintln(os.Stderr, "[gLExec]:  LCMAPS failed.")
		fmt.Fprintln(os.Stderr, "           The reason can be found in the syslog.")
		fmt.Fprintf(os.Stderr, "[gLExec]:  %s\n", diagnose.Explain(err, engine.LastTrace(), diags))
		return policy.RunFailure(err)
	}
	inv.acct = acct
	if cfg.IdentitySwitchBy == config.SwitchByLCMAPS && !policyUses(engine, acct.Policy, "lcmaps_posix_enf.mod") {
		return inv.logged(failure.New(failure.System, reasonSwitchBy, cfg.File,
			fmt.Sprintf("user_identity_switch_by = lcmaps, but policy %q of %s has no lcmaps_posix_enf.mod step", acct.Policy, cfg.LCMAPSDBFile)).
			WithHint("add a posix_enf step to the policy, or set user_identity_switch_by = glexec"))
	}
	return nil
}

// lcmapsInitFailed logs gLExec's line for an unusable lcmaps.db and tells
// the caller what failed and where.
func (inv *invocation) lcmapsInitFailed(err error, diags []lcmapsdb.Diagnostic) error {
	inv.log.LCMAPS().Errorf("%v", err)
	inv.log.Errorf("  Initialisation of LCMAPS failed.")
	fmt.Fprintln(os.Stderr, "[gLExec]:  Initialisation of LCMAPS failed.")
	fmt.Fprintf(os.Stderr, "[gLExec]:  %s\n", diagnose.Explain(err, nil, diags))
	return err
}

// readProxies reads GLEXEC_CLIENT_CERT (else X509_USER_PROXY) and
// GLEXEC_SOURCE_PROXY as the caller.
func (inv *invocation) readProxies(allowNoKey bool) error {
	opts := proxy.ReadOptions{Caller: inv.caller, AllowNoKey: allowNoKey, Lock: inv.cfg.InputLock}
	cv := inv.snap.ClientCert()
	if !cv.Set {
		cv = inv.snap.UserProxy()
	}
	legacy := func(err error) error {
		inv.legacyLines(err)
		return inv.logged(err)
	}
	client, err := proxy.ReadAsCaller(cv, opts)
	if err != nil {
		return legacy(err)
	}
	inv.client, inv.source = client, client
	if sv := inv.snap.Lookup(env.SourceProxy); sv.Set {
		src, err := proxy.ReadAsCaller(sv, opts)
		if err != nil {
			return legacy(err)
		}
		inv.source = src
	}
	return nil
}

// legacyLines writes gLExec's fixed stderr lines for a proxy error, which
// scripts grep for, before the structured error.
func (inv *invocation) legacyLines(err error) {
	for _, l := range proxy.LegacyLines(err, inv.snap.ClientCert(), inv.snap.Lookup(env.SourceProxy), inv.snap.TargetProxy().Value) {
		fmt.Fprintf(os.Stderr, "[gLExec]:  %s\n", l)
	}
}

// policyUses reports whether the named policy has a step running module.
func policyUses(e *policy.Engine, name, module string) bool {
	p, ok := e.DB().Policy(name)
	if !ok {
		return false
	}
	for _, r := range p.Rules {
		for _, term := range append([]string{r.State}, r.Branches()...) {
			spec, _ := e.DB().Resolve(term)
			if policy.ModuleName(firstWord(spec)) == policy.ModuleName(module) {
				return true
			}
		}
	}
	return false
}

func firstWord(s string) string {
	for i, c := range s {
		if c == ' ' || c == '\t' {
			return s[:i]
		}
	}
	return s
}

func groupName(gid int) string {
	if g, err := accounts.System.LookupGID(gid); err == nil {
		return g.Name
	}
	return fmt.Sprint(gid)
}

// printMapping is glexec --map.
func (inv *invocation) printMapping() error {
	if err := inv.mapCredential(); err != nil {
		return err
	}
	os.Stdout.Write(frontend.NewMapping(inv.cred, inv.acct).JSON())
	return nil
}
