package config

import (
	"io"
	"os"
	"slices"
	"time"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/buildcfg"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
	"golang.org/x/sys/unix"
)

// LockMechanism is how a proxy file is locked while it is read or written.
type LockMechanism string

const (
	LockFlock    LockMechanism = "flock"    // flock(2); the default, not reliable on NFS
	LockFcntl    LockMechanism = "fcntl"    // fcntl(2) record locks; works on NFS
	LockDisabled LockMechanism = "disabled" // no locking; unsafe with concurrent renewals
)

// Switcher says who switches to the target identity.
type Switcher string

const (
	SwitchByGlexec Switcher = "glexec" // glexec sets uid, gids itself (required for the epilogue)
	SwitchByLCMAPS Switcher = "lcmaps" // the policy's posix_enf step does it
)

// Config is glexec.conf. Zero values are not defaults: use Default or Parse.
type Config struct {
	File string // the file it was read from

	// [glexec], keys of gLExec 0.9.
	Linger                    bool
	TargetLock                LockMechanism // target_lock_mechanism (lock_mechanism is an alias)
	InputLock                 LockMechanism // input_lock_mechanism
	LogDestination            string        // "syslog" or "file"
	LogFile                   string
	LogLevel                  int // 0..5
	SyslogFacility            logging.Facility
	SilentLogging             bool
	UserWhiteList             WhiteList
	OmissionPrivateKeyWL      WhiteList // omission_private_key_white_list
	IdentitySwitchBy          Switcher
	LCMAPSDBFile              string
	LCMAPSLogFile             string // "" = LCMAPS messages go to glexec's log
	LCMAPSDebugLevel          int    // 0..5
	LCMAPSGetAccountPolicy    string
	LCMAPSVerifyAccountPolicy string
	LCMAPSVOMSVerification    bool
	PreserveEnv               []string // preserve_env_variables
	CreateTargetProxy         bool
	Epilogue                  string // "" = none
	EpilogueUser              string
	EpilogueGroup             string // "" = no trusted group
	EpilogueTimeout           time.Duration

	// [glexec], new: credential validation and the sandbox switch.
	Validation ValidationConf
	Sandbox    bool // run payloads in the sandbox (yes) or the classic way (no)

	// [sandbox]
	SandboxConf SandboxConf
}

// ValidationConf are the credential validation keys.
type ValidationConf struct {
	CRLRequired bool               // crl_required
	CAPolicy    authz.CAPolicyMode // ca_policy = off | if-present | require
	VOMSACFatal bool               // voms_ac_fatal
	ClockSkew   time.Duration      // clock_skew (seconds, or a Go duration)
	CertDir     string             // cert_dir
	VOMSDir     string             // voms_dir
}

// Options returns the validation options these settings describe; the
// caller fills in what is per request (AllowMissingKey, Now, Hostname).
func (v ValidationConf) Options() authz.ValidateOptions {
	return authz.ValidateOptions{
		CertDir: v.CertDir, VOMSDir: v.VOMSDir, ClockSkew: v.ClockSkew,
		RequireCRL: v.CRLRequired, CAPolicy: v.CAPolicy, VOMSFatal: v.VOMSACFatal,
	}
}

// Sandbox cgroup_hybrid values.
const (
	HybridRefuse  = "refuse"  // a host whose /sys/fs/cgroup is not cgroup2 is refused (202)
	HybridPrivate = "private" // mount the unified hierarchy privately for the payload
)

// SandboxConf is the [sandbox] section. Field names follow the launch
// request the sandbox helper takes.
type SandboxConf struct {
	RootMode        string   // root = hostbind (the host's / read-only); the only mode so far
	BindRO          []string // bind_ro: extra host paths bound read-only
	BindRW          []string // bind_rw: host paths bound read-write
	TmpSize         int64    // tmp: size of the private /tmp in bytes; 0 = kernel default
	PIDNamespace    bool     // pid_namespace
	CgroupParent    string   // cgroup_parent (also [glexec] sandbox_cgroup_parent); "" = caller's cgroup
	CgroupHybrid    string   // cgroup_hybrid = refuse | private
	CgroupMount     string   // cgroup_mount: the unified hierarchy on a hybrid host
	MemoryMax       int64    // memory_max in bytes; 0 = no limit
	PidsMax         int64    // pids_max; 0 = no limit
	CPUQuota        int64    // cpu_max quota in µs; 0 = no limit
	CPUPeriod       uint64   // cpu_max period in µs; 0 = kernel default
	NestedUserns    bool     // nested_userns: payload may create user namespaces
	Seccomp         string   // seccomp = default | off
	ContainerRootID int      // container_root_id: host id container root maps to
}

// RootHostbind is the sandbox root mode that shows the host's / read-only.
const RootHostbind = "hostbind"

// Default returns the configuration glexec uses for every key a file does
// not set.
func Default() *Config {
	return &Config{
		Linger:                    true,
		TargetLock:                LockFlock,
		InputLock:                 LockFlock,
		LogDestination:            "syslog",
		LogFile:                   "/var/log/glexec/glexec_log",
		LogLevel:                  3,
		SyslogFacility:            logging.Facility(3 << 3), // LOG_DAEMON
		IdentitySwitchBy:          SwitchByGlexec,
		LCMAPSDBFile:              buildcfg.LCMAPSDBFile,
		LCMAPSDebugLevel:          3,
		LCMAPSGetAccountPolicy:    "glexec_get_account",
		LCMAPSVerifyAccountPolicy: "glexec_verify_account",
		LCMAPSVOMSVerification:    true,
		CreateTargetProxy:         true,
		EpilogueUser:              "root",
		EpilogueTimeout:           300 * time.Second,
		Validation: ValidationConf{
			CAPolicy:  authz.CAPolicyOff,
			ClockSkew: 5 * time.Minute,
			CertDir:   buildcfg.CertDir,
			VOMSDir:   buildcfg.VOMSDir,
		},
		Sandbox: true,
		SandboxConf: SandboxConf{
			RootMode:        RootHostbind,
			PIDNamespace:    true,
			CgroupHybrid:    HybridRefuse,
			CgroupMount:     "/sys/fs/cgroup/unified",
			NestedUserns:    true,
			Seccomp:         "default",
			ContainerRootID: 65534,
		},
	}
}

// Load reads and parses a configuration file. It opens the file without
// following a final symlink and refuses anything but a regular file; the
// ownership and mode checks are CheckFilePerms's.
func Load(path string) (*Config, []Warning, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, failure.Wrap(failure.System, ReasonUnreadable, path, err).
			WithHint("create it (see configs/glexec.conf) or build with GLEXEC_CONF=<path>")
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, failure.Wrap(failure.System, ReasonUnreadable, path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, failure.New(failure.System, ReasonUnreadable, path, "not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, nil, failure.Wrap(failure.System, ReasonUnreadable, path, err)
	}
	return Parse(path, data)
}

// Parse parses the contents of a configuration file named file (used in
// messages). Unknown sections and keys, and deprecated keys, are returned
// as warnings.
func Parse(file string, data []byte) (*Config, []Warning, error) {
	entries, sections, err := lex(file, data)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := sections["glexec"]; !ok {
		return nil, nil, lineErr(ReasonNoSection, file, 1, "start the settings with a [glexec] line",
			"no [glexec] section")
	}
	c := Default()
	c.File = file
	var warns []Warning
	for name, line := range sections {
		if name != "glexec" && name != "sandbox" {
			warns = append(warns, Warning{file, line, "unknown section [" + name + "] ignored"})
		}
	}
	lines := map[string]int{} // key -> line, for errors about combinations
	for _, e := range entries {
		k, ok := keys[e.section+"."+e.key]
		if !ok {
			if e.section == "glexec" || e.section == "sandbox" {
				warns = append(warns, Warning{file, e.line, "unknown key " + e.key + " in [" + e.section + "] ignored"})
			}
			continue
		}
		if k.deprecated != "" {
			warns = append(warns, Warning{file, e.line, e.key + " is deprecated: " + k.deprecated})
		}
		// lex caught repeats of one key; this catches a key and its alias.
		canon := e.key
		if k.alias != "" {
			canon = k.alias
		}
		if prev := lines[canon]; prev != 0 {
			return nil, sortWarnings(warns), lineErr(ReasonDuplicate, file, e.line, "keep only one of the two",
				"%s is the same setting as %s at line %d", e.key, canon, prev)
		}
		lines[canon] = e.line
		warn := func(msg string) { warns = append(warns, Warning{file, e.line, msg}) }
		if detail, hint := k.set(c, e.value, warn); detail != "" {
			return nil, sortWarnings(warns), lineErr(k.reason(), file, e.line, hint, "%s = %q: %s", e.key, e.value, detail)
		}
	}
	if err := c.check(lines); err != nil {
		return nil, sortWarnings(warns), err
	}
	return c, sortWarnings(warns), nil
}

func sortWarnings(w []Warning) []Warning {
	slices.SortStableFunc(w, func(a, b Warning) int { return a.Line - b.Line })
	return w
}

// check validates combinations of keys; errors name the line of the
// setting that asked for the combination.
func (c *Config) check(lines map[string]int) error {
	if c.Epilogue != "" && c.IdentitySwitchBy != SwitchByGlexec {
		return lineErr(ReasonValue, c.File, lines["epilogue"], "set user_identity_switch_by = glexec or remove epilogue",
			"an epilogue needs user_identity_switch_by = glexec")
	}
	if c.Epilogue != "" && !c.Linger {
		return lineErr(ReasonValue, c.File, lines["epilogue"], "set linger = yes or remove epilogue", "an epilogue needs linger = yes")
	}
	return nil
}
