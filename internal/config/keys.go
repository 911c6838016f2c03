package config

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// setter applies one value. It returns a detail ("" on success) and a hint
// for the error, and may report warnings.
type setter func(c *Config, v string, warn func(string)) (detail, hint string)

type key struct {
	set         setter
	alias       string // the key this one is another name of
	deprecated  string // why, for the warning; "" if current
	unsupported bool   // an accepted key whose "yes" glexec refuses
}

func (k key) reason() failure.Reason {
	if k.unsupported {
		return ReasonUnsupported
	}
	return ReasonValue
}

// keys maps "section.key" to its setter. Every key gLExec 0.9 documented
// is here, including the LCAS ones, which are accepted and ignored because
// every deployed configuration carries them next to use_lcas = no.
var keys = map[string]key{
	"glexec.linger":                          {set: boolean(func(c *Config) *bool { return &c.Linger })},
	"glexec.target_lock_mechanism":           {set: lock(func(c *Config) *LockMechanism { return &c.TargetLock })},
	"glexec.lock_mechanism":                  {set: lock(func(c *Config) *LockMechanism { return &c.TargetLock }), alias: "target_lock_mechanism", deprecated: "use target_lock_mechanism"},
	"glexec.input_lock_mechanism":            {set: lock(func(c *Config) *LockMechanism { return &c.InputLock })},
	"glexec.log_destination":                 {set: enum(func(c *Config) *string { return &c.LogDestination }, "syslog", "file")},
	"glexec.log_file":                        {set: absPath(func(c *Config) *string { return &c.LogFile })},
	"glexec.log_level":                       {set: intRange(func(c *Config) *int { return &c.LogLevel }, 0, 5)},
	"glexec.silent_logging":                  {set: boolean(func(c *Config) *bool { return &c.SilentLogging })},
	"glexec.syslog_facility":                 {set: setFacility},
	"glexec.user_white_list":                 {set: whiteList(func(c *Config) *WhiteList { return &c.UserWhiteList })},
	"glexec.omission_private_key_white_list": {set: whiteList(func(c *Config) *WhiteList { return &c.OmissionPrivateKeyWL })},
	"glexec.user_identity_switch_by":         {set: setSwitcher},
	"glexec.use_lcas":                        {set: setUseLCAS, unsupported: true},
	"glexec.lcas_db_file":                    {set: ignored},
	"glexec.lcas_log_file":                   {set: ignored},
	"glexec.lcas_debug_level":                {set: ignored},
	"glexec.lcas_log_level":                  {set: ignored},
	"glexec.lcmaps_db_file":                  {set: absPath(func(c *Config) *string { return &c.LCMAPSDBFile })},
	"glexec.lcmaps_log_file":                 {set: optAbsPath(func(c *Config) *string { return &c.LCMAPSLogFile })},
	"glexec.lcmaps_debug_level":              {set: intRange(func(c *Config) *int { return &c.LCMAPSDebugLevel }, 0, 5)},
	"glexec.lcmaps_log_level":                {set: ignored}, // gLExec's legacy companion of lcmaps_debug_level
	"glexec.lcmaps_get_account_policy":       {set: policyName(func(c *Config) *string { return &c.LCMAPSGetAccountPolicy })},
	"glexec.lcmaps_verify_account_policy":    {set: policyName(func(c *Config) *string { return &c.LCMAPSVerifyAccountPolicy })},
	"glexec.lcmaps_voms_verification":        {set: boolean(func(c *Config) *bool { return &c.LCMAPSVOMSVerification })},
	"glexec.preserve_env_variables":          {set: setPreserve},
	"glexec.create_target_proxy":             {set: boolean(func(c *Config) *bool { return &c.CreateTargetProxy })},
	"glexec.epilogue":                        {set: optAbsPath(func(c *Config) *string { return &c.Epilogue })},
	"glexec.epilogue_user":                   {set: account(func(c *Config) *string { return &c.EpilogueUser })},
	"glexec.epilogue_group":                  {set: account(func(c *Config) *string { return &c.EpilogueGroup })},
	"glexec.epilogue_timeout":                {set: seconds(func(c *Config) *time.Duration { return &c.EpilogueTimeout }, 1, 86400)},

	"glexec.sandbox":               {set: boolean(func(c *Config) *bool { return &c.Sandbox })},
	"glexec.sandbox_cgroup_parent": {set: setCgroupParent, alias: "cgroup_parent"},
	"glexec.crl_required":          {set: boolean(func(c *Config) *bool { return &c.Validation.CRLRequired })},
	"glexec.ca_policy":             {set: setCAPolicy},
	"glexec.voms_ac_fatal":         {set: boolean(func(c *Config) *bool { return &c.Validation.VOMSACFatal })},
	"glexec.clock_skew":            {set: duration(func(c *Config) *time.Duration { return &c.Validation.ClockSkew }, 0, time.Hour)},
	"glexec.cert_dir":              {set: absPath(func(c *Config) *string { return &c.Validation.CertDir })},
	"glexec.voms_dir":              {set: absPath(func(c *Config) *string { return &c.Validation.VOMSDir })},

	"sandbox.root":              {set: enum(func(c *Config) *string { return &c.SandboxConf.RootMode }, RootHostbind)},
	"sandbox.bind_ro":           {set: pathList(func(c *Config) *[]string { return &c.SandboxConf.BindRO })},
	"sandbox.bind_rw":           {set: pathList(func(c *Config) *[]string { return &c.SandboxConf.BindRW })},
	"sandbox.tmp":               {set: size(func(c *Config) *int64 { return &c.SandboxConf.TmpSize })},
	"sandbox.pid_namespace":     {set: boolean(func(c *Config) *bool { return &c.SandboxConf.PIDNamespace })},
	"sandbox.cgroup_parent":     {set: setCgroupParent},
	"sandbox.cgroup_hybrid":     {set: enum(func(c *Config) *string { return &c.SandboxConf.CgroupHybrid }, HybridRefuse, HybridPrivate)},
	"sandbox.cgroup_mount":      {set: absPath(func(c *Config) *string { return &c.SandboxConf.CgroupMount })},
	"sandbox.memory_max":        {set: size(func(c *Config) *int64 { return &c.SandboxConf.MemoryMax })},
	"sandbox.pids_max":          {set: setPidsMax},
	"sandbox.cpu_max":           {set: setCPUMax},
	"sandbox.nested_userns":     {set: boolean(func(c *Config) *bool { return &c.SandboxConf.NestedUserns })},
	"sandbox.seccomp":           {set: enum(func(c *Config) *string { return &c.SandboxConf.Seccomp }, "default", "off")},
	"sandbox.container_root_id": {set: setContainerRootID},
}

func ignored(*Config, string, func(string)) (string, string) { return "", "" }

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "yes", "true", "on", "1":
		return true, true
	case "no", "false", "off", "0":
		return false, true
	}
	return false, false
}

func boolean(field func(*Config) *bool) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		b, ok := parseBool(v)
		if !ok {
			return "not a boolean", "use yes or no"
		}
		*field(c) = b
		return "", ""
	}
}

func enum(field func(*Config) *string, values ...string) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		for _, want := range values {
			if strings.EqualFold(v, want) {
				*field(c) = want
				return "", ""
			}
		}
		return "not a valid choice", "use one of: " + strings.Join(values, ", ")
	}
}

func lock(field func(*Config) *LockMechanism) setter {
	var s string
	set := enum(func(*Config) *string { return &s }, string(LockFlock), string(LockFcntl), string(LockDisabled))
	return func(c *Config, v string, warn func(string)) (string, string) {
		if d, h := set(c, v, warn); d != "" {
			return d, h
		}
		*field(c) = LockMechanism(strings.ToLower(v))
		if *field(c) == LockDisabled {
			warn("proxy locking disabled: concurrent renewals may interleave")
		}
		return "", ""
	}
}

func intRange(field func(*Config) *int, lo, hi int) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return "not a number in range", fmt.Sprintf("use a whole number from %d to %d", lo, hi)
		}
		*field(c) = n
		return "", ""
	}
}

func seconds(field func(*Config) *time.Duration, lo, hi int) setter {
	var n int
	set := intRange(func(*Config) *int { return &n }, lo, hi)
	return func(c *Config, v string, warn func(string)) (string, string) {
		if d, h := set(c, v, warn); d != "" {
			return d, h + " (seconds)"
		}
		*field(c) = time.Duration(n) * time.Second
		return "", ""
	}
}

// duration accepts whole seconds ("300") or a Go duration ("5m").
func duration(field func(*Config) *time.Duration, lo, hi time.Duration) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		d, err := time.ParseDuration(v)
		if n, nerr := strconv.Atoi(v); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
		if err != nil || d < lo || d > hi {
			return "not a duration in range", fmt.Sprintf("use seconds or a duration like 5m, from %v to %v", lo, hi)
		}
		*field(c) = d
		return "", ""
	}
}

func validPath(v string) (string, string) {
	if !path.IsAbs(v) {
		return "not an absolute path", "write the full path, starting with /"
	}
	if strings.ContainsAny(v, "\x00\n") {
		return "path contains a control character", "remove it"
	}
	return "", ""
}

func absPath(field func(*Config) *string) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		if d, h := validPath(v); d != "" {
			return d, h
		}
		*field(c) = path.Clean(v)
		return "", ""
	}
}

// optAbsPath is absPath that also accepts an empty value, meaning "none".
func optAbsPath(field func(*Config) *string) setter {
	set := absPath(field)
	return func(c *Config, v string, warn func(string)) (string, string) {
		if v == "" {
			*field(c) = ""
			return "", ""
		}
		return set(c, v, warn)
	}
}

func pathList(field func(*Config) *[]string) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		items := splitList(v)
		if len(items) > maxListItems {
			return fmt.Sprintf("more than %d entries", maxListItems), "shorten the list"
		}
		var out []string
		for _, p := range items {
			if d, h := validPath(p); d != "" {
				return fmt.Sprintf("%q: %s", p, d), h
			}
			if p = path.Clean(p); p == "/" {
				return `"/": binding the whole host is what root = hostbind does`, "list subdirectories"
			}
			out = append(out, p)
		}
		*field(c) = out
		return "", ""
	}
}

// validAccount accepts the names useradd accepts, plus '.' and '@' seen in
// directory-service names: no ':', ',', space or control characters.
func validAccount(v string) bool {
	if v == "" || len(v) > 256 || v[0] == '-' {
		return false
	}
	for _, r := range v {
		if !(r == '_' || r == '-' || r == '.' || r == '@' || r == '$' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

func account(field func(*Config) *string) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		if !validAccount(v) {
			return "not an account or group name", "use a name from /etc/passwd or /etc/group"
		}
		*field(c) = v
		return "", ""
	}
}

func whiteList(field func(*Config) *WhiteList) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		items := splitList(v)
		if len(items) > maxListItems {
			return fmt.Sprintf("more than %d entries", maxListItems), "use pool entries (.prefix) instead of listing every account"
		}
		w, bad := NewWhiteList(items)
		if bad != "" {
			return fmt.Sprintf("entry %q is not an account name, a .pool entry or *", bad), "list account names, .poolprefix entries or *"
		}
		*field(c) = w
		return "", ""
	}
}

// policyName accepts an lcmaps.db label: the lexer's term characters.
func policyName(field func(*Config) *string) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		if v == "" || strings.IndexFunc(v, func(r rune) bool {
			return !(r == '_' || r == '.' || r == '/' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
		}) >= 0 {
			return "not an lcmaps.db policy label", "use the label before the ':' of a policy in lcmaps.db"
		}
		*field(c) = v
		return "", ""
	}
}

func setFacility(c *Config, v string, _ func(string)) (string, string) {
	f, err := logging.ParseFacility(v)
	if err != nil {
		return "unknown syslog facility", "use LOG_DAEMON, LOG_AUTHPRIV or LOG_LOCAL0..LOG_LOCAL7"
	}
	c.SyslogFacility = f
	return "", ""
}

func setSwitcher(c *Config, v string, warn func(string)) (string, string) {
	var s string
	if d, h := enum(func(*Config) *string { return &s }, string(SwitchByGlexec), string(SwitchByLCMAPS))(c, v, warn); d != "" {
		return d, h
	}
	c.IdentitySwitchBy = Switcher(s)
	return "", ""
}

func setUseLCAS(_ *Config, v string, _ func(string)) (string, string) {
	b, ok := parseBool(v)
	if !ok {
		return "not a boolean", "use no"
	}
	if b {
		return "LCAS is not supported: glexec authorises through the lcmaps.db policy alone",
			"set use_lcas = no and move LCAS checks (ban lists, user lists) to lcmaps.db plugins such as lcmaps_ban_dn.mod"
	}
	return "", ""
}

func setPreserve(c *Config, v string, warn func(string)) (string, string) {
	if strings.EqualFold(v, "no") {
		c.PreserveEnv = nil
		return "", ""
	}
	if strings.EqualFold(v, "yes") {
		return "the pre-0.7 yes/no form cannot say which variables to keep",
			"list the variable names to keep, e.g. preserve_env_variables = TZ, _CONDOR_*"
	}
	items := splitList(v)
	if len(items) > maxListItems {
		return fmt.Sprintf("more than %d entries", maxListItems), "shorten the list"
	}
	var out []string
	for _, it := range items {
		name, star := strings.CutSuffix(it, "*")
		if !validVarName(name) || strings.Contains(name, "*") {
			return fmt.Sprintf("%q is not a variable name or NAME_PREFIX*", it), "list names like TZ or prefixes like _CONDOR_*"
		}
		if star && name == "" {
			return `a bare "*" would pass every variable`, "list the variables or prefixes to keep"
		}
		out = append(out, it)
	}
	c.PreserveEnv = out
	return "", ""
}

func validVarName(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch == '_' || 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || i > 0 && '0' <= ch && ch <= '9') {
			return false
		}
	}
	return s != ""
}

func setCAPolicy(c *Config, v string, _ func(string)) (string, string) {
	m, ok := map[string]authz.CAPolicyMode{
		"off": authz.CAPolicyOff, "if-present": authz.CAPolicyIfPresent, "require": authz.CAPolicyRequire,
	}[strings.ToLower(v)]
	if !ok {
		return "not a valid choice", "use one of: off, if-present, require"
	}
	c.Validation.CAPolicy = m
	return "", ""
}

// setCgroupParent accepts a cgroup v2 path below the mount point, with or
// without a leading '/', and stores it relative ("" = the caller's cgroup).
func setCgroupParent(c *Config, v string, _ func(string)) (string, string) {
	rel := strings.Trim(v, "/")
	for _, part := range strings.Split(rel, "/") {
		if rel != "" && (part == "" || part == "." || part == ".." || strings.ContainsAny(part, "\x00\n")) {
			return "not a cgroup path", "use a path below the cgroup2 mount, e.g. /glexec"
		}
	}
	c.SandboxConf.CgroupParent = rel
	return "", ""
}

// size parses a byte count with an optional binary suffix (K, M, G, T;
// "KiB"/"KB" spellings too), or "max"/"0" for no limit.
func size(field func(*Config) *int64) setter {
	return func(c *Config, v string, _ func(string)) (string, string) {
		n, ok := parseSize(v)
		if !ok {
			return "not a size", "use bytes with an optional K, M, G or T suffix (e.g. 4G), or max"
		}
		*field(c) = n
		return "", ""
	}
}

func parseSize(v string) (int64, bool) {
	if strings.EqualFold(v, "max") {
		return 0, true
	}
	u := strings.ToUpper(v)
	u = strings.TrimSuffix(strings.TrimSuffix(u, "B"), "I")
	mult := int64(1)
	if u != "" {
		switch u[len(u)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			u = u[:len(u)-1]
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

func setPidsMax(c *Config, v string, _ func(string)) (string, string) {
	if strings.EqualFold(v, "max") {
		c.SandboxConf.PidsMax = 0
		return "", ""
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 1<<22 {
		return "not a process count", "use a number (e.g. 4096) or max"
	}
	c.SandboxConf.PidsMax = n
	return "", ""
}

// setCPUMax takes cpu.max's own syntax: "QUOTA [PERIOD]" in microseconds,
// QUOTA may be "max".
func setCPUMax(c *Config, v string, _ func(string)) (string, string) {
	const hint = `use "QUOTA PERIOD" in microseconds as in cgroup cpu.max, e.g. 200000 100000 for two CPUs, or max`
	f := strings.Fields(v)
	if len(f) == 0 || len(f) > 2 {
		return "not a cpu.max value", hint
	}
	var quota int64
	if !strings.EqualFold(f[0], "max") {
		q, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || q < 1000 {
			return "quota must be max or at least 1000", hint
		}
		quota = q
	}
	var period uint64
	if len(f) == 2 {
		p, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil || p < 1000 || p > 1000000 {
			return "period must be from 1000 to 1000000", hint
		}
		period = p
	}
	c.SandboxConf.CPUQuota, c.SandboxConf.CPUPeriod = quota, period
	return "", ""
}

func setContainerRootID(c *Config, v string, _ func(string)) (string, string) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n >= 1<<32-1 {
		return "not a usable host id", "use an unused uid/gid above 0, the same number free in both /etc/passwd and /etc/group"
	}
	c.SandboxConf.ContainerRootID = int(n)
	return "", ""
}
