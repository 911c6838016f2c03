package diagnose

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/authz/plugins"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/config"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
	"github.com/glexec-ng/glexec/internal/proxy"
)

// ExpiryWarning is how much lifetime a proxy must have left not to be
// reported: a payload started with less is likely to outlive it.
const ExpiryWarning = time.Hour

// check is one row of the walk.
type check struct {
	name string
	run  func(*state)
}

// checks are in the order of a real call, so the first FAIL carries the
// real call's exit status. Each check skips itself when what it needs was
// not obtained by an earlier one.
var checks = []check{
	{"glexec.conf", checkConfig},
	{"whitelist", checkWhitelist},
	{"lcmaps.db", checkLCMAPSDB},
	{"upgrade", checkLeftovers},
	{"plugins", checkPlugins},
	{"ca-dir", checkCADir},
	{"proxy", checkProxy},
	{"credential", checkCredential},
	{"policy", checkPolicy},
	{"mapping", checkMapping},
	{"mapping-service", checkHostCredential},
	{"tracking", checkTracking},
	{"helper", checkHelper},
	{"cgroup", checkCgroup},
	{"userns", checkUserns},
	{"overlay", checkOverlay},
}

// state is what the walk has learnt so far.
type state struct {
	in    *Input
	check string
	out   []Result

	cfg    *config.Config
	db     *lcmapsdb.DB
	diags  []lcmapsdb.Diagnostic
	engine *policy.Engine
	vopts  authz.ValidateOptions
	client *proxy.File
	cred   *authz.Credential
	// policyOK: the policies the call would evaluate exist with rules.
	policyOK bool
	// mapped: the dry run produced an account.
	mapped bool
}

// Run walks every check and returns the report. It never runs a payload
// and leaves no lasting state: the mapping is a dry run.
func Run(in Input) *Report {
	if in.Accounts == nil {
		in.Accounts = accounts.System
	}
	s := &state{in: &in}
	for _, c := range checks {
		s.check = c.name
		c.run(s)
	}
	return &Report{Results: s.out}
}

// finding is a result before privacy rules apply.
type finding struct {
	status Status
	reason string
	where  string
	fix    string
	exit   int
	code   failure.Reason
	// file: the finding quotes this file's contents. A caller who is not
	// root sees the finding only when the file is world-readable.
	file string
}

func (s *state) add(f finding) {
	res := Result{Check: s.check, Status: f.status, Reason: f.reason, Where: f.where, Fix: f.fix, Code: string(f.code)}
	if f.status == Fail {
		res.Exit = f.exit
		if res.Exit == 0 {
			res.Exit = int(failure.System)
		}
	}
	if f.file != "" && !s.in.Root && !worldReadable(f.file) {
		res.Where = f.file
		if f.status == OK {
			res.Reason = f.file + " is fine (details for root only)"
		} else {
			res.Reason = "a problem in " + f.file + ", which only root may read"
			res.Fix = "ask the site administrator to run 'glexec --check' as root"
		}
	}
	res.Reason, res.Fix = oneLine(res.Reason), oneLine(res.Fix)
	s.out = append(s.out, res)
}

func (s *state) ok(reason string) { s.add(finding{status: OK, reason: reason}) }

// fail records err as the real call would report it.
func (s *state) fail(err error, file string) {
	s.add(errFinding(Fail, err, file))
}

func errFinding(st Status, err error, file string) finding {
	f := finding{status: st, exit: int(failure.ClassOf(err)), code: failure.ReasonOf(err), file: file}
	var fe *failure.Error
	if errors.As(err, &fe) {
		f.reason, f.where = describe(fe), fe.Subject
	} else {
		f.reason = err.Error()
	}
	f.fix = fixFor(err)
	return f
}

// describe is a failure without its subject: the detail, the cause, or
// the reason when there is neither.
func describe(fe *failure.Error) string {
	var cause string
	if fe.Err != nil {
		cause = unwrapPath(fe.Err).Error()
	}
	switch {
	case fe.Detail != "" && cause != "":
		return fe.Detail + ": " + cause
	case fe.Detail != "":
		return fe.Detail
	case cause != "":
		return cause
	}
	return string(fe.Reason)
}

func worldReadable(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().Perm()&0o004 != 0
}

// checkConfig is step 1 of a call: glexec.conf's ownership, then its
// contents.
func checkConfig(s *state) {
	path := s.in.ConfigFile
	if s.in.Privileged {
		if err := config.CheckFilePerms(path); err != nil {
			s.fail(err, "")
			return
		}
	}
	cfg, warnings, err := config.Load(path)
	if err != nil {
		s.fail(err, path)
		return
	}
	s.cfg = cfg
	for _, w := range warnings {
		s.add(finding{status: Warn, reason: w.Msg, where: fmt.Sprintf("%s:%d", w.File, w.Line),
			fix: "remove or correct the line", file: path})
	}
	s.ok(path + " is safe and valid")
}

// checkWhitelist is admission: the caller must be on user_white_list.
func checkWhitelist(s *state) {
	if s.cfg == nil {
		return
	}
	if s.cfg.UserWhiteList.Allows(s.in.CallerName) {
		s.ok(fmt.Sprintf("%s may call glexec", s.in.CallerName))
		return
	}
	s.add(finding{status: Fail, exit: int(failure.Authz), code: ReasonNotWhitelisted,
		reason: fmt.Sprintf("%s is not in user_white_list", s.in.CallerName), where: s.cfg.File,
		fix: fmt.Sprintf("add %s (or its pool prefix) to user_white_list in %s", s.in.CallerName, s.cfg.File)})
}

// checkLCMAPSDB reads lcmaps.db as the real call does and reports its
// diagnostics with their lines.
func checkLCMAPSDB(s *state) {
	if s.cfg == nil {
		return
	}
	path := s.cfg.LCMAPSDBFile
	if s.in.Privileged {
		if err := config.CheckFilePerms(path); err != nil {
			s.fail(err, "")
			return
		}
	}
	db, diags, err := lcmapsdb.ReadFile(path)
	s.diags = diags
	if err != nil {
		var de *lcmapsdb.DiagnosticsError
		if failure.ReasonOf(err) == lcmapsdb.ReasonNoPolicies {
			if line, label, ok := ruleless(diags, ""); ok {
				s.add(finding{status: Fail, exit: int(failure.ClassOf(err)), code: lcmapsdb.ReasonNoPolicies,
					reason: "no policy has rules: every rule is commented out", where: fmt.Sprintf("%s:%d", path, line),
					fix: fmt.Sprintf("uncomment one set of rules under '%s:' (line %d of %s)", label, line, path), file: path})
				return
			}
		}
		if errors.As(err, &de) {
			for _, d := range de.Diagnostics {
				if d.Level == lcmapsdb.Error {
					s.add(finding{status: Fail, exit: int(failure.ClassOf(err)), code: failure.ReasonOf(err),
						reason: strings.TrimSpace(d.Message), where: fmt.Sprintf("%s:%d", d.File, d.Line),
						fix: "correct the line (lcmaps.db syntax: name = \"module args\"; policy: rules)", file: path})
				}
			}
			return
		}
		s.fail(err, path)
		return
	}
	s.db = db
	for _, d := range diags {
		if d.Level != lcmapsdb.Info {
			s.add(finding{status: Warn, reason: strings.TrimSpace(d.Message), where: fmt.Sprintf("%s:%d", d.File, d.Line),
				fix: "correct or remove the line", file: path})
		}
	}
	s.add(finding{status: OK, reason: fmt.Sprintf("%s defines %d policies with rules", path, len(db.Policies)), file: path})
}

// checkPlugins initialises every plugin as the real call does.
func checkPlugins(s *state) {
	if s.db == nil {
		return
	}
	penv := &policy.Env{
		Accounts:   s.in.Accounts,
		Log:        logging.Discard(),
		Now:        s.in.now,
		Privileged: s.in.Privileged,
		StateDir:   s.in.StateDir,
		DryRun:     true,
	}
	if s.in.Trusted {
		penv.Vars = s.in.Vars
	}
	engine, err := policy.New(s.db, plugins.Registry(), penv)
	if err != nil {
		f := errFinding(Fail, err, s.db.File)
		if failure.ReasonOf(err) == policy.ReasonPluginNotFound {
			f = s.undefinedPlugin(err, f)
		}
		s.add(f)
		return
	}
	s.engine = engine
	var names []string
	for _, p := range engine.Plugins() {
		names = append(names, p.Name)
	}
	s.add(finding{status: OK, reason: "plugins initialised: " + strings.Join(names, ", "), file: s.db.File})
}

// undefinedPlugin explains a rule naming a plugin that is not defined:
// usually its definition is commented out, as the seed's glexectracking.
func (s *state) undefinedPlugin(err error, f finding) finding {
	var fe *failure.Error
	errors.As(err, &fe)
	term := ""
	for _, d := range mustPlugins(s.db) {
		if fmt.Sprintf("%s:%d", s.db.File, d.Line) == fe.Subject && !strings.Contains(d.Module, ".") {
			term = d.Name
		}
	}
	if term == "" {
		return f
	}
	f.reason = fmt.Sprintf("a rule uses plugin '%s', which is not defined", term)
	f.fix = fmt.Sprintf("define %s = \"<module>.mod\" before the policies, or remove it from the rules", term)
	if line := commentedDefinition(s.db.File, term); line > 0 {
		f.reason = fmt.Sprintf("a rule uses plugin '%s', whose definition is commented out at line %d", term, line)
		f.fix = fmt.Sprintf("remove the '#' from the definition of %s (and its argument lines) at %s:%d", term, s.db.File, line)
	}
	return f
}

func mustPlugins(db *lcmapsdb.DB) []lcmapsdb.PluginDef {
	defs, _ := db.Plugins()
	return defs
}

// commentedDefinition finds "#term = ..." in file and returns its line.
func commentedDefinition(file, term string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	re := regexp.MustCompile(`^\s*#+\s*` + regexp.QuoteMeta(term) + `\s*=`)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if re.MatchString(sc.Text()) {
			return n
		}
	}
	return 0
}

// checkCADir checks the trust anchors: ownership (as the real call), then
// CRLs, which a real call needs only for the proxy's own CA.
func checkCADir(s *state) {
	if s.cfg == nil {
		return
	}
	vopts := s.cfg.Validation.Options()
	if s.in.Trusted {
		if v := s.in.CertDir; v.Set && v.Value != "" {
			vopts.CertDir = v.Value
		}
		if v := s.in.VOMSDir; v.Set && v.Value != "" {
			vopts.VOMSDir = v.Value
		}
	}
	if s.engine != nil {
		s.engine.TuneValidation(&vopts)
	}
	if vopts.CertDir == "" {
		vopts.CertDir = authz.DefaultCertDir
	}
	vopts.Now = s.in.now
	s.vopts = vopts
	if s.in.Privileged {
		if err := config.CheckTree(vopts.CertDir); err != nil {
			s.fail(err, "")
			return
		}
	}
	for _, f := range crlFindings(vopts.CertDir, s.in.now(), vopts.RequireCRL) {
		s.add(f)
	}
}

// checkProxy reads the caller's proxies as the caller, as the real call.
func checkProxy(s *state) {
	if s.cfg == nil {
		return
	}
	opts := proxy.ReadOptions{Caller: s.in.Caller, AllowNoKey: s.cfg.OmissionPrivateKeyWL.Allows(s.in.CallerName), Lock: s.cfg.InputLock}
	f, err := proxy.ReadAsCaller(s.in.Proxy, opts)
	if err != nil {
		s.fail(err, "")
		return
	}
	if s.in.SourceProxy.Set {
		if _, err := proxy.ReadAsCaller(s.in.SourceProxy, opts); err != nil {
			s.fail(err, "")
			return
		}
	}
	s.client = f
	s.ok(fmt.Sprintf("%s is readable by %s and holds %s", f.Var, s.in.CallerName, keyWord(f.HasKey)))
}

func keyWord(has bool) string {
	if has {
		return "its private key"
	}
	return "no private key (allowed by omission_private_key_white_list)"
}

// checkCredential validates the proxy and warns when it expires soon.
func checkCredential(s *state) {
	if s.client == nil || s.vopts.CertDir == "" {
		return
	}
	vopts := s.vopts
	vopts.AllowMissingKey = !s.client.HasKey
	cred, err := authz.Validate(s.client.Data, vopts)
	if err != nil {
		f := errFinding(Fail, err, "")
		if f.where == "" {
			f.where = s.client.Path
		}
		s.add(f)
		return
	}
	s.cred = cred
	for _, d := range cred.DroppedACs {
		s.add(finding{status: Warn, reason: fmt.Sprintf("VOMS attributes of VO %q ignored: %v", d.VO, d.Err), where: s.client.Path,
			fix: "install the VO's .lsc file in the vomsdir, or renew the proxy with voms-proxy-init"})
	}
	left := cred.NotAfter.Sub(s.in.now())
	if left < ExpiryWarning {
		s.add(finding{status: Warn, reason: fmt.Sprintf("the proxy of %s expires in %s (at %s)", cred.DN, left.Round(time.Second), cred.NotAfter.UTC().Format(time.RFC3339)),
			where: s.client.Path, fix: "renew the proxy (voms-proxy-init) before starting long payloads"})
		return
	}
	s.ok(fmt.Sprintf("valid proxy of %s, %s left", cred.DN, left.Round(time.Minute)))
}

// policies are the names a real call evaluates.
func (s *state) policies() []string {
	if s.cfg.LCMAPSGetAccountPolicy != "" {
		return []string{s.cfg.LCMAPSGetAccountPolicy}
	}
	return nil
}

// checkPolicy: the policies glexec.conf names exist with rules (the seed's
// "didn't enable glexec policy").
func checkPolicy(s *state) {
	if s.engine == nil {
		return
	}
	for _, name := range s.policies() {
		if _, ok := s.db.Policy(name); ok {
			continue
		}
		// Run refuses an unknown policy before any plugin runs, with
		// the real call's error.
		_, err := s.engine.Run(&policy.Request{RequestedUID: -1}, []string{name})
		f := errFinding(Fail, policy.RunFailure(err), s.db.File)
		if line, _, ok := ruleless(s.diags, name); ok {
			f.reason = fmt.Sprintf("policy '%s' has no rules: every rule under its label is commented out", name)
			f.where = fmt.Sprintf("%s:%d", s.db.File, line)
			f.fix = fmt.Sprintf("uncomment one set of rules under '%s:' (line %d of %s)", name, line, s.db.File)
		} else {
			f.reason = fmt.Sprintf("lcmaps_get_account_policy names policy '%s', which %s does not define", name, s.db.File)
			f.fix = fmt.Sprintf("set lcmaps_get_account_policy in %s to a policy of %s", s.cfg.File, s.db.File)
		}
		s.add(f)
		return
	}
	s.policyOK = true
	if names := s.policies(); len(names) > 0 {
		s.ok(fmt.Sprintf("policy '%s' has rules", names[0]))
	} else {
		s.ok("every policy of " + s.db.File + " is a candidate")
	}
}

// checkMapping runs the policy in dry-run mode and explains its outcome
// from the engine's trace: which policy, plugin and rule said no, and why.
func checkMapping(s *state) {
	if s.engine == nil || s.cred == nil || !s.policyOK {
		return
	}
	acct, err := s.engine.Run(&policy.Request{
		Cred:         s.cred,
		Mode:         policy.GetAccount,
		RequestedUID: -1,
		CallerUID:    s.in.Caller.UID,
		CallerPID:    s.in.CallerPID,
		PilotProxy:   s.client.Data,
	}, s.policies())
	if err != nil {
		what, where := explainLCMAPS(err, s.engine.LastTrace(), s.diags)
		f := finding{status: Fail, exit: int(failure.ClassOf(policy.RunFailure(err))), code: failure.ReasonOf(err), reason: what, where: where, fix: fixFor(err)}
		s.add(f)
		return
	}
	s.mapped = true
	s.ok(fmt.Sprintf("%s maps to %s (uid %d) by policy '%s'", s.cred.DN, acct.User, acct.UID, acct.Policy))
}
